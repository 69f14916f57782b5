package kmeans

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randMatrix(rng *rand.Rand, rows, dim int) Matrix {
	m := NewMatrix(rows, dim)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	return m
}

func dot64(x, y []float32) float64 {
	var s float64
	for i := range x {
		s += float64(x[i]) * float64(y[i])
	}
	return s
}

func near(got float32, want float64, n int) bool {
	return math.Abs(float64(got)-want) <= 1e-5*float64(n)+1e-5*math.Abs(want)
}

// TestKernels checks every dot kernel against a float64 reference for
// dimensions that exercise the 32-, 16- and 8-wide blocks and the scalar tail,
// and row counts that exercise the padded 4-row groups and odd 2-row tiles.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dim := range []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 784} {
		a := randMatrix(rng, 7, dim)
		b := randMatrix(rng, 10, dim)
		for i := 0; i < a.Rows; i++ {
			for j := 0; j < b.Rows; j++ {
				want := dot64(a.Row(i), b.Row(j))
				if got := dot(a.Row(i), b.Row(j)); !near(got, want, dim) {
					t.Fatalf("dim %d: dot = %v, want %v", dim, got, want)
				}
				if got := dotGo(a.Row(i), b.Row(j)); !near(got, want, dim) {
					t.Fatalf("dim %d: dotGo = %v, want %v", dim, got, want)
				}
			}
		}
		for _, r := range [][2]int{{0, 10}, {1, 8}, {2, 5}, {3, 4}} {
			out := make([]float32, r[1]-r[0])
			dotRows(a.Row(3), b, r[0], r[1], out)
			for j := r[0]; j < r[1]; j++ {
				if want := dot64(a.Row(3), b.Row(j)); !near(out[j-r[0]], want, dim) {
					t.Fatalf("dim %d rows %v: dotRows[%d] = %v, want %v", dim, r, j, out[j-r[0]], want)
				}
			}
		}
		for _, r := range [][4]int{{0, 7, 0, 10}, {1, 6, 2, 9}, {2, 3, 0, 1}} {
			ld := r[3] - r[2] + 1
			out := make([]float32, (r[1]-r[0])*ld)
			dotBlock(a, r[0], r[1], b, r[2], r[3], out, ld)
			for i := r[0]; i < r[1]; i++ {
				for j := r[2]; j < r[3]; j++ {
					if want := dot64(a.Row(i), b.Row(j)); !near(out[(i-r[0])*ld+j-r[2]], want, dim) {
						t.Fatalf("dim %d block %v: [%d,%d] = %v, want %v", dim, r, i, j, out[(i-r[0])*ld+j-r[2]], want)
					}
				}
			}
		}
	}
}
