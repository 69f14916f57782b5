//go:build !amd64 || purego

package kmeans

const haveAsm = false

func dot1x4(x, c0, c1, c2, c3 *float32, n int, out *[4]float32) {
	panic("kmeans: no assembly kernel")
}

func dot2x4(x0, x1, c0, c1, c2, c3 *float32, n int, out *[8]float32) {
	panic("kmeans: no assembly kernel")
}

func dot1(x, y *float32, n int) float32 { panic("kmeans: no assembly kernel") }

func accum64(dst *float64, src *float32, n int) { panic("kmeans: no assembly kernel") }
