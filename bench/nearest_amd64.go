//go:build amd64 && !purego

package bench

import "golang.org/x/sys/cpu"

// hasAVX2 says whether streamSum can run its AVX2 loop; otherwise it falls
// back to Go.
var hasAVX2 = cpu.X86.HasAVX2

// streamSum returns the sum of p[:n] read with 8-wide loads into eight
// independent accumulators; n must be a multiple of 64. Implemented in
// nearest_amd64.s.
//
//go:noescape
func streamSumAVX2(p *float32, n int) float32

func streamSum(v []float32) float32 {
	n := len(v) &^ 63
	var s float32
	if hasAVX2 && n > 0 {
		s = streamSumAVX2(&v[0], n)
	} else {
		n = 0
	}
	for _, x := range v[n:] {
		s += x
	}
	return s
}

// pgdogL2 is PgDog's euclidean_distance_sse (the path a default x86-64 Rust
// build takes): see pgdogL2Go for the arithmetic, which it repeats exactly
// in SSE. Implemented in nearest_amd64.s.
//
//go:noescape
func pgdogL2(p, q []float32) float32
