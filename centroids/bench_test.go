package centroids

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The fixed-name nearest-centroid benchmarks live in ../bench; these cover
// the forms they do not.

func BenchmarkTopP(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{64, 1024} {
		s := mustNew(b, randFile(r, Cosine, k, 1536))
		q := randVec(r, 1536)
		dst := make([]int, 0, 8)
		b.Run(fmt.Sprintf("d=1536/k=%d/p=4", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dst = s.TopP(q, 4, dst)
			}
		})
	}
}

// BenchmarkNearestSparse: k centroids of dimension d, queries with nnz
// non-zeros (as a sparsevec would bring), against Nearest on the dense form.
func BenchmarkNearestSparse(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1536, 30000} {
		for _, k := range []int{64, 1024} {
			s := mustNew(b, randFile(r, InnerProduct, k, d))
			for _, nnz := range []int{16, 256} {
				q := make([]float32, d)
				for _, j := range r.Perm(d)[:nnz] {
					q[j] = float32(r.NormFloat64())
				}
				idx, val := sparse(q)
				b.Run(fmt.Sprintf("d=%d/k=%d/nnz=%d/sparse", d, k, nnz), func(b *testing.B) {
					for b.Loop() {
						s.NearestSparse(idx, val)
					}
				})
			}
			if d <= 1536 {
				q := randVec(r, d)
				b.Run(fmt.Sprintf("d=%d/k=%d/dense", d, k), func(b *testing.B) {
					for b.Loop() {
						s.Nearest(q)
					}
				})
			}
		}
	}
}
