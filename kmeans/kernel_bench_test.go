package kmeans

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// The distance step of one Lloyd iteration on a Fashion-MNIST-sized block:
// 2048 points x 64 centroids x 784 dimensions, by the tile kernel and by
// gonum's pure-Go blas32.Gemm.
func benchBlock(b *testing.B) (Matrix, Matrix, []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	return randMatrix(rng, 2048, 784), randMatrix(rng, 64, 784), make([]float32, 2048*64)
}

func BenchmarkDistanceStep(b *testing.B) {
	b.Run("tile2x4", func(b *testing.B) {
		x, c, out := benchBlock(b)
		b.SetBytes(int64(x.Rows * c.Rows * x.Dim)) // multiply-adds
		for b.Loop() {
			dotBlock(x, 0, x.Rows, c, 0, c.Rows, out, c.Rows)
		}
	})
	b.Run("rows1x4", func(b *testing.B) {
		x, c, out := benchBlock(b)
		b.SetBytes(int64(x.Rows * c.Rows * x.Dim))
		for b.Loop() {
			for i := 0; i < x.Rows; i++ {
				dotRows(x.Row(i), c, 0, c.Rows, out[i*c.Rows:])
			}
		}
	})
	b.Run("go8acc", func(b *testing.B) {
		x, c, out := benchBlock(b)
		b.SetBytes(int64(x.Rows * c.Rows * x.Dim))
		for b.Loop() {
			for i := 0; i < x.Rows; i++ {
				for j := 0; j < c.Rows; j++ {
					out[i*c.Rows+j] = dotGo(x.Row(i), c.Row(j))
				}
			}
		}
	})
	b.Run("blas32.Gemm", func(b *testing.B) {
		x, c, out := benchBlock(b)
		b.SetBytes(int64(x.Rows * c.Rows * x.Dim))
		A := blas32.General{Rows: x.Rows, Cols: x.Dim, Stride: x.Dim, Data: x.Data}
		B := blas32.General{Rows: c.Rows, Cols: c.Dim, Stride: c.Dim, Data: c.Data}
		C := blas32.General{Rows: x.Rows, Cols: c.Rows, Stride: c.Rows, Data: out}
		for b.Loop() {
			blas32.Gemm(blas.NoTrans, blas.Trans, 1, A, B, 0, C)
		}
	})
}
