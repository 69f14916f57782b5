package kmeans

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Matrix is Rows vectors of Dim float32 components stored row after row in
// Data (len(Data) == Rows*Dim).
type Matrix struct {
	Rows, Dim int
	Data      []float32
}

// NewMatrix returns a zero Matrix of rows x dim.
func NewMatrix(rows, dim int) Matrix {
	return Matrix{Rows: rows, Dim: dim, Data: make([]float32, rows*dim)}
}

// Row returns row i, sharing memory with m.
func (m Matrix) Row(i int) []float32 {
	return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim]
}

// Normalized returns a copy of m with every row scaled to unit Euclidean
// length; all-zero rows stay zero. The norms are computed in float64.
func Normalized(m Matrix) Matrix {
	out := Matrix{Rows: m.Rows, Dim: m.Dim, Data: make([]float32, len(m.Data))}
	forChunks(m.Rows, 0, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			normalizeInto(out.Row(i), m.Row(i))
		}
	})
	return out
}

// normalizeInto sets dst = src / |src| (dst = 0 when src = 0).
func normalizeInto(dst, src []float32) {
	var s float64
	for _, v := range src {
		s += float64(v) * float64(v)
	}
	if s == 0 {
		clear(dst)
		return
	}
	inv := 1 / math.Sqrt(s)
	for t, v := range src {
		dst[t] = float32(float64(v) * inv)
	}
}

// chunkRows is the fixed unit of parallel work. Results are computed per
// chunk and combined in chunk order, so they do not depend on how many
// goroutines ran the chunks. It is even, so the 2-row tiles of dotBlock
// pair the same rows whatever the number of workers.
const chunkRows = 256

// workers returns the goroutine count to use for w (0: GOMAXPROCS).
func workers(w int) int {
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return w
}

// forChunks calls fn(c, lo, hi) for every chunk c = [lo, hi) of [0, n),
// on up to w goroutines (0: GOMAXPROCS).
func forChunks(n, w int, fn func(c, lo, hi int)) {
	nc := (n + chunkRows - 1) / chunkRows
	forEach(nc, w, func(c int) { fn(c, c*chunkRows, min(n, (c+1)*chunkRows)) })
}

// forEach calls fn(i) for every i in [0, n) on up to w goroutines.
func forEach(n, w int, fn func(i int)) {
	w = min(workers(w), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// forStripes splits the chunks of [0, n) into stripes contiguous runs
// (at least 1) and calls fn(stripe, c, lo, hi) for the chunks of each run
// in order, running up to w stripes at a time.
func forStripes(n, stripes, w int, fn func(stripe, c, lo, hi int)) {
	nc := (n + chunkRows - 1) / chunkRows
	stripes = max(1, stripes)
	forEach(stripes, w, func(st int) {
		for c := st * nc / stripes; c < (st+1)*nc/stripes; c++ {
			fn(st, c, c*chunkRows, min(n, (c+1)*chunkRows))
		}
	})
}
