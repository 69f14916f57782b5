package centroids

import (
	"math"
	"sync"
	"unsafe"

	"github.com/vecshard/vecshard/centroids/internal/kernel"
)

// rowAlign is the row stride granularity in float32 values: 16 floats are
// 64 bytes, one cache line, so every row starts on a cache line.
const rowAlign = 16

// block is how many scores Nearest computes per kernel call, on the stack.
const block = 128

// Set is a File prepared for searching. It is immutable (a transposed copy
// for sparse queries is built once, on first use) and safe for concurrent
// use.
//
// Every metric is reduced to argmax over i of dot(c_i, q) + b_i:
//   - Cosine: the centroids are scaled to unit length and b_i = 0; the
//     query is not normalised because |q| scales every score alike. A zero
//     query (or a zero centroid) scores 0.
//   - InnerProduct: b_i = 0.
//   - L2: b_i = -|c_i|²/2, since |q - c_i|² = |q|² - 2(dot(c_i, q) - |c_i|²/2).
//
// Scores are computed in float32; ties, exact after rounding, go to the
// lowest centroid index.
type Set struct {
	metric  Metric
	dim     int
	k       int
	shards  int // K for a bare Set
	bare    bool
	stride  int       // floats from one row to the next: dim rounded up to rowAlign
	rows    []float32 // k*stride values, 64-byte aligned, zero padded
	bias    []float32 // b_i; nil when every b_i is 0
	shardOf []int32
	scores  sync.Pool // *[]float32 of k scores, for TopP

	tOnce sync.Once
	t     []float32 // the rows transposed, for sparse queries; see transposed
}

// New validates f and prepares it for searching. The Set does not refer to
// f afterwards.
func New(f *File) (*Set, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	k, dim := len(f.Centroids), f.Dim
	s := &Set{metric: f.Metric, dim: dim, k: k, shards: f.Shards, bare: f.Shards == 0}
	if s.shards == 0 {
		s.shards = k
	}
	s.stride = (dim + rowAlign - 1) &^ (rowAlign - 1)
	s.rows = alignedFloats(k * s.stride)
	if f.Metric == L2 {
		s.bias = make([]float32, k)
	}
	for i, c := range f.Centroids {
		row := s.rows[i*s.stride : i*s.stride+dim]
		var sq float64
		for _, x := range c {
			sq += float64(x) * float64(x)
		}
		switch f.Metric {
		case Cosine:
			scale := 0.0
			if sq > 0 {
				scale = 1 / math.Sqrt(sq)
			}
			for j, x := range c {
				row[j] = float32(float64(x) * scale)
			}
		case L2:
			copy(row, c)
			s.bias[i] = float32(-sq / 2)
		default:
			copy(row, c)
		}
	}
	s.shardOf = make([]int32, k)
	for i := range s.shardOf {
		if f.ShardOf != nil {
			s.shardOf[i] = int32(f.ShardOf[i])
		} else {
			s.shardOf[i] = int32(i % s.shards)
		}
	}
	s.scores.New = func() any {
		sc := make([]float32, s.k)
		return &sc
	}
	return s, nil
}

// alignedFloats returns n zero float32s whose first element is 64-byte
// aligned, so the rows line up with cache lines and the kernel's loads never
// straddle one. (Go's heap does not move objects.)
func alignedFloats(n int) []float32 {
	buf := make([]float32, n+16)
	off := 0
	if a := uintptr(unsafe.Pointer(&buf[0])) % 64; a != 0 {
		off = int(64-a) / 4
	}
	return buf[off : off+n : off+n]
}

// Dim returns the number of dimensions of the centroids and of queries.
func (s *Set) Dim() int { return s.dim }

// K returns the number of centroids.
func (s *Set) K() int { return s.k }

// Shards returns the number of shards the centroids map to. For a bare
// Set it is K(), the one shard count under which ShardOf is the mapping a
// pooler uses; see Bare.
func (s *Set) Shards() int { return s.shards }

// Bare reports whether the Set comes from a file in PgDog's bare array form
// (File.Shards 0), which fixes no shard count: as in PgDog's built-in
// vector sharding, centroid c goes to shard c % n under a pooler of n
// shards, for any K. Callers that know n use ShardFor.
func (s *Set) Bare() bool { return s.bare }

// ShardFor returns the shard of centroid c under a pooler of hostShards
// shards: c % hostShards for a bare Set, else ShardOf(c) (hostShards is then
// not consulted; checking that it equals Shards() is the caller's job). It
// returns -1 if c is not in [0, K()) or, for a bare Set, hostShards < 1.
func (s *Set) ShardFor(c, hostShards int) int {
	if c < 0 || c >= s.k {
		return -1
	}
	if s.bare {
		if hostShards < 1 {
			return -1
		}
		return c % hostShards
	}
	return int(s.shardOf[c])
}

// Metric returns the metric the Set searches with.
func (s *Set) Metric() Metric { return s.metric }

// ShardOf returns the shard of centroid c, or -1 if c is not in [0, K()).
func (s *Set) ShardOf(c int) int {
	if c < 0 || c >= s.k {
		return -1
	}
	return int(s.shardOf[c])
}

// Nearest returns the centroid nearest to q under the Set's metric and its
// shard. Ties go to the lowest centroid index. If len(q) != Dim() it returns
// (-1, -1): checking the dimension first is the caller's job. A query with
// NaN or infinite values gets an unspecified (but valid) centroid; rejecting
// them is also the caller's job. It does not allocate.
func (s *Set) Nearest(q []float32) (centroid, shard int) {
	if len(q) != s.dim {
		return -1, -1
	}
	var buf [block]float32
	best, top := 0, float32(math.Inf(-1))
	for i := 0; i < s.k; i += block {
		sc := buf[:min(block, s.k-i)]
		kernel.Dots(sc, s.rows[i*s.stride:], s.stride, q)
		if s.bias != nil {
			addBias(sc, s.bias[i:])
		}
		for j, v := range sc {
			if v > top {
				best, top = i+j, v
			}
		}
	}
	return best, int(s.shardOf[best])
}

func addBias(sc, bias []float32) {
	bias = bias[:len(sc)]
	for j := range sc {
		sc[j] += bias[j]
	}
}

// TopP returns the p centroids nearest to q, nearest first (ties: lower
// index first), appended to dst[:0]; fewer than p if K() < p. It returns
// dst[:0] if len(q) != Dim() or p < 1. It does not allocate when cap(dst) >= p.
func (s *Set) TopP(q []float32, p int, dst []int) []int {
	dst = dst[:0]
	if len(q) != s.dim || p < 1 {
		return dst
	}
	scp := s.scores.Get().(*[]float32)
	sc := *scp
	kernel.Dots(sc, s.rows, s.stride, q)
	if s.bias != nil {
		addBias(sc, s.bias)
	}
	dst = topP(sc, p, dst)
	s.scores.Put(scp)
	return dst
}

// topP appends to dst the indices of the p largest scores in sc, largest
// first, equal scores in index order. It keeps dst sorted and inserts each
// candidate that beats the current p-th: O(k·p) at worst, close to O(k)
// for a small probe count p on typical data.
func topP(sc []float32, p int, dst []int) []int {
	p = min(p, len(sc))
	for i, v := range sc {
		n := len(dst)
		if n == p && !(v > sc[dst[n-1]]) {
			continue
		}
		m := n
		for m > 0 && sc[dst[m-1]] < v {
			m--
		}
		if n < p {
			dst = append(dst, 0)
		}
		copy(dst[m+1:], dst[m:len(dst)-1])
		dst[m] = i
	}
	return dst
}

// sparseOK reports whether idx and val describe a sparse query of the Set's
// dimension: equal lengths, indices in [0, Dim()).
func (s *Set) sparseOK(idx []int32, val []float32) bool {
	if len(idx) != len(val) {
		return false
	}
	for _, j := range idx {
		if j < 0 || int(j) >= s.dim {
			return false
		}
	}
	return true
}

// transposed returns the centroids as dim rows of k values, t[j*k+i] being
// coordinate j of centroid i, building them on the first call. A sparse
// query then reads one contiguous run of k values per non-zero instead of
// gathering one value from each of k rows; the copy costs the memory of the
// Set's rows once more, so Sets never asked a sparse query do not pay it.
func (s *Set) transposed() []float32 {
	s.tOnce.Do(func() {
		// 32x32 tiles keep both the reads and the writes within a few
		// cache lines per tile.
		const tile = 32
		t := make([]float32, s.dim*s.k)
		for i0 := 0; i0 < s.k; i0 += tile {
			for j0 := 0; j0 < s.dim; j0 += tile {
				for i := i0; i < min(i0+tile, s.k); i++ {
					row := s.rows[i*s.stride : i*s.stride+s.dim]
					for j := j0; j < min(j0+tile, s.dim); j++ {
						t[j*s.k+i] = row[j]
					}
				}
			}
		}
		s.t = t
	})
	return s.t
}

// sparseScores sets sc[i] = dot(c_{i0+i}, q) + b_{i0+i} for the sparse query
// (idx, val), touching only the query's non-zeros: the sum for each centroid
// runs over the non-zeros in the order given.
func (s *Set) sparseScores(sc []float32, i0 int, idx []int32, val []float32) {
	t := s.transposed()
	clear(sc)
	val = val[:len(idx)]
	for j, x := range idx {
		axpy(sc, t[int(x)*s.k+i0:], val[j])
	}
	if s.bias != nil {
		addBias(sc, s.bias[i0:])
	}
}

// axpy sets y[i] += a*x[i] for i < len(y).
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	for len(y) >= 4 && len(x) >= 4 {
		y[0] += a * x[0]
		y[1] += a * x[1]
		y[2] += a * x[2]
		y[3] += a * x[3]
		y, x = y[4:], x[4:]
	}
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// NearestSparse is Nearest for a sparse query: val[j] is coordinate idx[j]
// (0-based), every other coordinate is 0. The indices need not be sorted.
// It returns (-1, -1) if len(idx) != len(val) or an index is outside
// [0, Dim()). The first sparse query on a Set builds a transposed copy of
// the centroids (see transposed) and allocates; later ones do not. The scores may differ from Nearest's on the dense form of the
// same query by float32 rounding (the sums run in another order).
func (s *Set) NearestSparse(idx []int32, val []float32) (centroid, shard int) {
	if !s.sparseOK(idx, val) {
		return -1, -1
	}
	var buf [block]float32
	best, top := 0, float32(math.Inf(-1))
	for i := 0; i < s.k; i += block {
		sc := buf[:min(block, s.k-i)]
		s.sparseScores(sc, i, idx, val)
		for j, v := range sc {
			if v > top {
				best, top = i+j, v
			}
		}
	}
	return best, int(s.shardOf[best])
}

// TopPSparse is TopP for a sparse query given as in NearestSparse; it
// returns dst[:0] if the query is malformed or p < 1.
func (s *Set) TopPSparse(idx []int32, val []float32, p int, dst []int) []int {
	dst = dst[:0]
	if p < 1 || !s.sparseOK(idx, val) {
		return dst
	}
	scp := s.scores.Get().(*[]float32)
	sc := *scp
	s.sparseScores(sc, 0, idx, val)
	dst = topP(sc, p, dst)
	s.scores.Put(scp)
	return dst
}

// Score returns the similarity of centroid c to q that the Set ranks by,
// larger being nearer:
//   - Cosine: cos(c, q) = dot(c, q) / (|c| |q|), in [-1, 1]; 0 when q or
//     c is zero;
//   - L2: -|q - c|², the negated squared Euclidean distance;
//   - InnerProduct: dot(c, q).
//
// It is computed in float64 and rounded once, so it may differ in the last
// bits from the float32 scores Nearest compares (and it is Nearest's score
// divided by |q| for Cosine, or shifted by -|q|² and doubled for L2, which
// does not change the order). It returns NaN if len(q) != Dim() or c is not
// in [0, K()). It is meant for explaining a decision, not for routing.
func (s *Set) Score(q []float32, c int) float32 {
	if len(q) != s.dim || c < 0 || c >= s.k {
		return float32(math.NaN())
	}
	row := s.rows[c*s.stride : c*s.stride+s.dim]
	var dot, qq, d2 float64
	for j, x := range q {
		y := float64(row[j])
		dot += float64(x) * y
		qq += float64(x) * float64(x)
		d := float64(x) - y
		d2 += d * d
	}
	return s.finish(dot, qq, d2)
}

// ScoreSparse is Score for a sparse query given as in NearestSparse; it
// returns NaN if the query is malformed or c is not in [0, K()). The
// indices must be distinct (as a decoded sparsevec's are).
func (s *Set) ScoreSparse(idx []int32, val []float32, c int) float32 {
	if !s.sparseOK(idx, val) || c < 0 || c >= s.k {
		return float32(math.NaN())
	}
	row := s.rows[c*s.stride : c*s.stride+s.dim]
	var dot, qq float64
	for j, x := range idx {
		v := float64(val[j])
		dot += v * float64(row[x])
		qq += v * v
	}
	// |q - c|² = |q|² - 2 dot + |c|², with |c|² over every coordinate.
	var cc float64
	for _, y := range row {
		cc += float64(y) * float64(y)
	}
	return s.finish(dot, qq, qq-2*dot+cc)
}

// finish turns the sums of Score into the metric's similarity.
func (s *Set) finish(dot, qq, d2 float64) float32 {
	switch s.metric {
	case Cosine:
		// The rows are unit (or zero) vectors: dot / |q| is the cosine.
		if qq == 0 {
			return 0
		}
		return float32(dot / math.Sqrt(qq))
	case L2:
		return float32(-d2)
	}
	return float32(dot)
}
