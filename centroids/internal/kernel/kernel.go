// Package kernel computes the dot products of one query with many rows of a
// row-major float32 matrix, the inner loop of a nearest-centroid search.
//
// On amd64 with AVX2 and FMA it runs Go assembly that streams four rows at a
// time through eight 8-wide accumulators, sharing each load of the query
// between the four rows; elsewhere, or when built with the purego tag, it
// runs an unrolled pure-Go loop. Both paths return each dot product within
// float32 rounding of the exact value; they may differ from each other in the
// last bits because they add in different orders. Each path is deterministic
// and computes a row's product the same way wherever the row sits, so equal
// rows always get bit-identical results.
package kernel

import "sync/atomic"

// Align is the number of float32 values a row stride must be a multiple of.
// The assembly reads a row in whole 8-float (32-byte) blocks, so it may read
// up to 7 values of a row's padding; they are multiplied by zero.
const Align = 8

// useAsm says whether Dots runs the assembly. It starts as hasAsm (the CPU
// and build support it) and changes only through UseAsm, for tests.
var useAsm atomic.Bool

func init() { useAsm.Store(hasAsm) }

// UseAsm selects the assembly path (on == true, if the CPU and the build
// support it) or the pure-Go path, and reports whether the assembly path is
// now in use. It exists so that tests can run every path; programs never need
// to call it.
func UseAsm(on bool) bool {
	useAsm.Store(on && hasAsm)
	return useAsm.Load()
}

// Asm reports whether Dots currently runs the assembly path.
func Asm() bool { return useAsm.Load() }

// Dots sets dst[i] = Σ_j rows[i*stride+j] * q[j] over j < len(q), for every
// i < len(dst).
//
// stride must be a multiple of Align and at least len(q), and rows must hold
// (len(dst)-1)*stride + len(q) rounded up to Align values; the padding values
// rows[i*stride+len(q) : i*stride+stride] must be finite (zero in practice),
// because the assembly multiplies them by zero. Dots panics if the shapes are
// inconsistent, since the assembly would otherwise read out of bounds.
func Dots(dst, rows []float32, stride int, q []float32) {
	k, n := len(dst), len(q)
	if k == 0 {
		return
	}
	if stride < n || stride%Align != 0 || len(rows) < (k-1)*stride+roundUp(n) {
		panic("kernel: Dots: rows, stride and query shapes do not agree")
	}
	if n == 0 {
		clear(dst)
		return
	}
	if useAsm.Load() {
		dotsAsm(&dst[0], &rows[0], stride, &q[0], n, k)
		return
	}
	dotsGo(dst, rows, stride, q)
}

// roundUp rounds n up to a multiple of Align.
func roundUp(n int) int { return (n + Align - 1) &^ (Align - 1) }

// dotsGo is the portable path: one row at a time, four independent
// accumulators so that the adds of consecutive elements do not wait on each
// other.
func dotsGo(dst, rows []float32, stride int, q []float32) {
	n := len(q)
	for i := range dst {
		dst[i] = dot(rows[i*stride:i*stride+n], q)
	}
}

// dot returns Σ a[j]*b[j] over j < len(a); len(b) >= len(a). The loop is
// written so that the compiler proves every index in bounds.
func dot(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	for len(a) >= 4 && len(b) >= 4 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		a, b = a[4:], b[4:]
	}
	b = b[:len(a)]
	for j, x := range a {
		s0 += x * b[j]
	}
	return (s0 + s1) + (s2 + s3)
}
