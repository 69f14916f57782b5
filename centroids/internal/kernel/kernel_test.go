package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// paths runs f once per available implementation, forcing the pure-Go path
// for the second run, and restores the default afterwards.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer UseAsm(true)
	for _, asm := range []bool{true, false} {
		if UseAsm(asm) != asm {
			continue // no assembly on this CPU or build
		}
		t.Run(map[bool]string{true: "asm", false: "go"}[asm], f)
	}
}

// matrix returns k rows of n values with the given stride, padding zeroed.
func matrix(r *rand.Rand, k, n, stride int) []float32 {
	m := make([]float32, k*stride)
	for i := range k {
		for j := range n {
			m[i*stride+j] = float32(r.NormFloat64())
		}
	}
	return m
}

func TestDotsGolden(t *testing.T) {
	// Small exact cases: every product and partial sum is an integer, so
	// every summation order gives the same float32.
	tests := []struct {
		name   string
		rows   []float32
		stride int
		q      []float32
		want   []float32
	}{
		{"one", []float32{2, 0, 0, 0, 0, 0, 0, 0}, 8, []float32{3}, []float32{6}},
		{"two rows", []float32{1, 2, 3, 0, 0, 0, 0, 0, -1, -2, -3, 0, 0, 0, 0, 0}, 8, []float32{1, 1, 1}, []float32{6, -6}},
		{"zero query", []float32{1, 2, 3, 4, 5, 6, 7, 8}, 8, []float32{0, 0, 0, 0, 0, 0, 0, 0}, []float32{0}},
		{"full block", []float32{1, 2, 3, 4, 5, 6, 7, 8}, 8, []float32{1, 1, 1, 1, 1, 1, 1, 1}, []float32{36}},
		{"block and tail", seq(16, 10), 16, ones(10), []float32{55}},
		{"two blocks and tail", seq(24, 17), 24, ones(17), []float32{153}},
		{"five rows", rep(seq(16, 9), 5), 16, ones(9), []float32{45, 45, 45, 45, 45}},
	}
	paths(t, func(t *testing.T) {
		for _, tt := range tests {
			got := make([]float32, len(tt.want))
			Dots(got, tt.rows, tt.stride, tt.q)
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("%s: dst[%d] = %v, want %v", tt.name, i, got[i], tt.want[i])
				}
			}
		}
	})
}

// seq returns stride values 1, 2, ..., n followed by zero padding.
func seq(stride, n int) []float32 {
	s := make([]float32, stride)
	for i := range n {
		s[i] = float32(i + 1)
	}
	return s
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func rep(s []float32, k int) []float32 {
	var out []float32
	for range k {
		out = append(out, s...)
	}
	return out
}

// TestDotsReference compares every shape class (dim mod 16 and mod 8, k mod
// 4) with a float64 reference, within a bound on float32 rounding error.
func TestDotsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	paths(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 128, 783, 784, 1536} {
			for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 64} {
				stride := (n + 15) &^ 15
				rows := matrix(r, k, n, stride)
				q := matrix(r, 1, n, n)
				got := make([]float32, k)
				Dots(got, rows, stride, q)
				for i := range k {
					var want, abs float64
					for j := range n {
						p := float64(rows[i*stride+j]) * float64(q[j])
						want += p
						abs += math.Abs(p)
					}
					// Any summation order of n float32 products errs by at
					// most about n*eps*Σ|p|; use a loose constant factor.
					tol := 2 * float64(n+2) * 0x1p-24 * abs
					if d := math.Abs(float64(got[i]) - want); d > tol {
						t.Errorf("n=%d k=%d row %d: got %v, want %v (err %g > %g)", n, k, i, got[i], want, d, tol)
					}
				}
			}
		}
	})
}

// TestDotsPositionIndependent checks that equal rows get bit-identical
// results wherever they sit (in a group of four or in the leftovers), which
// is what makes ties between equal centroids resolve to the lowest index.
func TestDotsPositionIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	paths(t, func(t *testing.T) {
		for _, n := range []int{5, 8, 13, 16, 29, 100, 784} {
			stride := (n + 7) &^ 7
			row := matrix(r, 1, n, stride)
			q := matrix(r, 1, n, n)
			const k = 7
			rows := rep(row, k)
			got := make([]float32, k)
			Dots(got, rows, stride, q)
			for i := 1; i < k; i++ {
				if math.Float32bits(got[i]) != math.Float32bits(got[0]) {
					t.Errorf("n=%d: row %d = %v, row 0 = %v", n, i, got[i], got[0])
				}
			}
		}
	})
}

// TestDotsBounds checks that the padding is never read by the pure-Go path
// and that reading it in the assembly contributes nothing: rows end exactly
// at the last row's rounded-up length.
func TestDotsBounds(t *testing.T) {
	paths(t, func(t *testing.T) {
		for n := 1; n <= 40; n++ {
			stride := (n + 7) &^ 7
			k := 5
			rows := make([]float32, (k-1)*stride+stride)
			for i := range k {
				for j := range n {
					rows[i*stride+j] = 1
				}
			}
			got := make([]float32, k)
			Dots(got, rows[:len(rows):len(rows)], stride, ones(n))
			for i := range got {
				if got[i] != float32(n) {
					t.Fatalf("n=%d: dst[%d] = %v, want %d", n, i, got[i], n)
				}
			}
		}
	})
}

func TestDotsBadShapesPanic(t *testing.T) {
	for _, tt := range []struct {
		rows, stride, q, k int
	}{
		{rows: 8, stride: 4, q: 4, k: 1},  // stride not a multiple of Align
		{rows: 16, stride: 8, q: 9, k: 1}, // stride < len(q)
		{rows: 15, stride: 8, q: 8, k: 2}, // rows too short
		{rows: 8, stride: 8, q: 3, k: 2},  // rows too short for two rows
		{rows: 12, stride: 8, q: 5, k: 2}, // last row's padding missing
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", tt)
				}
			}()
			Dots(make([]float32, tt.k), make([]float32, tt.rows), tt.stride, make([]float32, tt.q))
		}()
	}
}

func TestDotsAllocs(t *testing.T) {
	rows := make([]float32, 64*16)
	q := make([]float32, 16)
	dst := make([]float32, 64)
	if a := testing.AllocsPerRun(100, func() { Dots(dst, rows, 16, q) }); a != 0 {
		t.Errorf("Dots allocates %v times per call", a)
	}
}

func BenchmarkDots(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{128, 1536} {
		for _, k := range []int{16, 64} {
			rows := matrix(r, k, n, n)
			q := matrix(r, 1, n, n)
			dst := make([]float32, k)
			for _, asm := range []bool{true, false} {
				if UseAsm(asm) != asm {
					continue
				}
				b.Run(fmt.Sprintf("d=%d/k=%d/asm=%v", n, k, asm), func(b *testing.B) {
					UseAsm(asm)
					b.SetBytes(int64(4 * n * k))
					for b.Loop() {
						Dots(dst, rows, n, q)
					}
				})
			}
			UseAsm(true)
		}
	}
}
