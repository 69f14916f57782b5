//go:build !purego

package kmeans

import "golang.org/x/sys/cpu"

// haveAsm reports whether the AVX2+FMA kernels in kernel_amd64.s can run.
var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dot1x4(x, c0, c1, c2, c3 *float32, n int, out *[4]float32)

//go:noescape
func dot2x4(x0, x1, c0, c1, c2, c3 *float32, n int, out *[8]float32)

//go:noescape
func dot1(x, y *float32, n int) float32

//go:noescape
func accum64(dst *float64, src *float32, n int)
