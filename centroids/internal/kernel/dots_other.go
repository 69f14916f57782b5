//go:build !amd64 || purego

package kernel

const hasAsm = false

func dotsAsm(dst, rows *float32, stride int, q *float32, n, k int) {
	panic("kernel: no assembly in this build")
}
