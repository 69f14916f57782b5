package centroids

import (
	"math"
	"slices"
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
// Placement is a pure function of the query and the file: the same on
// every CPU and kernel (assembly or pure Go) and for a dense or a sparse
// form of the same values. The scores are computed in float32 by the fast
// kernel, and a decision is kept only when it is certified: the winner
// leads by more than twice a bound on the float32 error of any score.
// Otherwise the candidates within that margin are rescored exactly (see
// exact) and the best exact score wins, ties to the lowest centroid index.
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
	scores  sync.Pool // *work, for TopP and the exact fallback

	// The certificate (see Nearest): the largest row norm and the largest
	// |b_i|, and the biases in float64 for the exact scores.
	maxNorm, maxBias float64
	bias64           []float64

	dense sync.Pool // *[]float32 of dim values: a sparse query made dense

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
			s.bias64 = append(s.bias64, -sq/2)
			s.maxBias = max(s.maxBias, sq/2)
		default:
			copy(row, c)
		}
		var rr float64
		for _, x := range row {
			rr += float64(x) * float64(x)
		}
		s.maxNorm = max(s.maxNorm, math.Sqrt(rr))
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
		return &work{sc: make([]float32, s.k), cand: make([]int, 0, s.k), ex: make([]float64, 0, s.k)}
	}
	s.dense.New = func() any {
		d := make([]float32, s.dim)
		return &d
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
// shard: the centroid with the largest exact score (see exact), ties to the
// lowest index, the same on every kernel. If len(q) != Dim() it returns
// (-1, -1): checking the dimension first is the caller's job. A query with
// NaN or infinite values gets an unspecified (but valid and deterministic)
// centroid; rejecting them is also the caller's job. It does not allocate.
func (s *Set) Nearest(q []float32) (centroid, shard int) {
	if len(q) != s.dim {
		return -1, -1
	}
	var buf [block]float32
	best, top, second := 0, float32(math.Inf(-1)), float32(math.Inf(-1))
	for i := 0; i < s.k; i += block {
		sc := buf[:min(block, s.k-i)]
		s.denseScores(sc, i, q)
		for j, v := range sc {
			if v > top {
				best, top, second = i+j, v, top
			} else if v > second {
				second = v
			}
		}
	}
	e := s.errBound(queryNormSq(q))
	if !certified(top, second, e) {
		best = s.nearestExact(q, nil, nil, top, e)
	}
	return best, int(s.shardOf[best])
}

// denseScores sets sc[j] to the float32 score of centroid i0+j for q.
func (s *Set) denseScores(sc []float32, i0 int, q []float32) {
	kernel.Dots(sc, s.rows[i0*s.stride:], s.stride, q)
	if s.bias != nil {
		addBias(sc, s.bias[i0:])
	}
}

// certified reports whether the float32 winner with score top, the
// runner-up scoring second, is the exact winner when every float32 score
// is within e of its exact score.
func certified(top, second float32, e float64) bool {
	gap := float64(top) - float64(second)
	return gap > 2*e && !math.IsInf(float64(top), 0) && !math.IsInf(e, 0) && !math.IsNaN(e)
}

// errBound bounds |float32 score - exact score| for any centroid and a
// query whose float32 squared norm is qq. Both the float32 kernel (any
// summation order, with or without FMA) and the float64 exact sum err by
// at most about n·u·Σ|q_j c_j| + u·|b| (u = 2^-24 for float32), and
// Σ|q_j c_j| <= |q|·|c| (Cauchy-Schwarz); the bound doubles that and
// inflates qq for its own rounding. It is +Inf when qq is not finite or a
// float32 score could overflow.
//
// Subnormal float32 results lose relative precision, so the bound also
// allows an absolute 2^-149 per operation (doubled), and a query whose
// squared norm is tiny in float32 (it may have underflowed) is measured in
// float64 by the caller (see queryNormSq).
func (s *Set) errBound(qq float64) float64 {
	n := float64(s.dim + 8)
	u := 0x1p-23 // twice float32's unit roundoff
	qn := math.Sqrt(qq * (1 + n*u))
	mag := qn*s.maxNorm + s.maxBias
	if !(mag < 0x1p126) {
		// A float32 score or partial sum could overflow to an infinity
		// (or a NaN, which no comparison sees): decide exactly.
		return math.Inf(1)
	}
	return n*u*mag + 2*n*0x1p-148
}

// queryNormSq is normSq, redone in float64 when the float32 sum is so small
// that it may have underflowed.
func queryNormSq(q []float32) float64 {
	qq := float64(normSq(q))
	if qq >= 0x1p-100 || math.IsNaN(qq) {
		return qq
	}
	var sum float64
	for _, x := range q {
		sum += float64(x) * float64(x)
	}
	return sum * (1 + 0x1p-40)
}

// normSq returns Σ q_j² in float32 (by the kernel, so it is cheap next to
// the scores); errBound allows for its rounding.
func normSq(q []float32) float32 {
	n8 := len(q) &^ (kernel.Align - 1)
	var r [1]float32
	if n8 > 0 {
		kernel.Dots(r[:], q[:n8], n8, q[:n8])
	}
	for _, x := range q[n8:] {
		r[0] += x * x
	}
	return r[0]
}

// exact returns the score of centroid c for the dense query q computed in
// float64: Σ q_j·r_cj over j, the products exact (float32 × float32 fits
// float64), summed in four accumulators by j mod 4 in increasing j, then
// (a0+a1)+(a2+a3), plus b_c in float64. Every operation is an IEEE float64
// operation in a fixed order (a fused multiply-add changes nothing since
// the products are exact), so the value is the same on every machine. A
// zero coordinate adds ±0, which changes no sum, so the dense and the sparse
// form of a query score alike.
func (s *Set) exact(q []float32, c int) float64 {
	row := s.rows[c*s.stride : c*s.stride+s.dim]
	q = q[:len(row)]
	var a0, a1, a2, a3 float64
	j := 0
	for ; j+4 <= len(row); j += 4 {
		a0 += float64(q[j]) * float64(row[j])
		a1 += float64(q[j+1]) * float64(row[j+1])
		a2 += float64(q[j+2]) * float64(row[j+2])
		a3 += float64(q[j+3]) * float64(row[j+3])
	}
	for t := 0; j < len(row); j, t = j+1, t+1 {
		v := float64(q[j]) * float64(row[j])
		switch t {
		case 0:
			a0 += v
		case 1:
			a1 += v
		default:
			a2 += v
		}
	}
	sum := (a0 + a1) + (a2 + a3)
	if s.bias64 != nil {
		sum += s.bias64[c]
	}
	return sum
}

// nearestExact rescored: among the centroids whose float32 score is at
// least top - 2e (all of them when that is not a number), the one with the
// largest exact score, ties to the lowest index. The query is q, or the
// sparse (idx, val) when q is nil.
func (s *Set) nearestExact(q []float32, idx []int32, val []float32, top float32, e float64) int {
	if q == nil {
		dp := s.dense.Get().(*[]float32)
		defer s.dense.Put(dp)
		q = densify(*dp, idx, val)
		defer clearSparse(*dp, idx)
	}
	thr := float64(top) - 2*e
	all := math.IsNaN(thr) || math.IsInf(thr, 0)
	var buf [block]float32
	best, bv := -1, 0.0
	for i := 0; i < s.k; i += block {
		sc := buf[:min(block, s.k-i)]
		if !all {
			if idx != nil {
				s.sparseScores(sc, i, idx, val)
			} else {
				s.denseScores(sc, i, q)
			}
		}
		for j, v := range sc {
			if !all && !(float64(v) >= thr) {
				continue
			}
			if x := s.exact(q, i+j); best < 0 || x > bv {
				best, bv = i+j, x
			}
		}
	}
	return best
}

// densify writes the sparse query into d (all zero on entry) and returns it;
// repeated indices add up, as they do in the float32 sparse scores.
func densify(d []float32, idx []int32, val []float32) []float32 {
	for j, x := range idx {
		d[x] += val[j]
	}
	return d
}

// clearSparse zeroes the coordinates densify wrote.
func clearSparse(d []float32, idx []int32) {
	for _, x := range idx {
		d[x] = 0
	}
}

func addBias(sc, bias []float32) {
	bias = bias[:len(sc)]
	for j := range sc {
		sc[j] += bias[j]
	}
}

// TopP returns the p centroids nearest to q, nearest first (by exact score,
// ties: lower index first, as in Nearest, so TopP(q, 1) is Nearest's
// centroid), appended to dst[:0]; fewer than p if K() < p. It returns
// dst[:0] if len(q) != Dim() or p < 1. It does not allocate when cap(dst) >= p.
func (s *Set) TopP(q []float32, p int, dst []int) []int {
	dst = dst[:0]
	if len(q) != s.dim || p < 1 {
		return dst
	}
	w := s.scores.Get().(*work)
	s.denseScores(w.sc, 0, q)
	dst = s.certifiedTopP(w, p, dst, s.errBound(queryNormSq(q)), q, nil, nil)
	s.scores.Put(w)
	return dst
}

// work is the scratch space of TopP: the float32 scores of every centroid
// and, for the exact fallback, candidates and their exact scores.
type work struct {
	sc   []float32
	cand []int
	ex   []float64
}

// certifiedTopP picks the top p of w.sc and keeps them when every boundary
// that decides the answer (between consecutive winners, and between the
// last winner and the rest) is wider than 2e; otherwise it rescores the
// centroids within 2e of the p-th score exactly and ranks them by exact
// score, ties to the lower index. Any centroid outside that margin scores
// exactly below each of the p float32 winners, so it cannot be in the
// exact top p.
func (s *Set) certifiedTopP(w *work, p int, dst []int, e float64, q []float32, idx []int32, val []float32) []int {
	sc := w.sc
	dst = topP(sc, p, dst)
	n := len(dst)
	last := float64(sc[dst[n-1]])
	thr := last - 2*e
	all := math.IsNaN(thr) || math.IsInf(thr, 0)
	ok := !all
	for t := 1; ok && t < n; t++ {
		ok = float64(sc[dst[t-1]])-float64(sc[dst[t]]) > 2*e
	}
	if ok {
		for j, v := range sc {
			if float64(v) >= thr && !slices.Contains(dst, j) {
				ok = false
				break
			}
		}
	}
	if ok {
		return dst
	}
	if q == nil {
		dp := s.dense.Get().(*[]float32)
		defer s.dense.Put(dp)
		q = densify(*dp, idx, val)
		defer clearSparse(*dp, idx)
	}
	cand, ex := w.cand[:0], w.ex[:0]
	for j, v := range sc {
		if all || float64(v) >= thr {
			x := s.exact(q, j)
			// Insertion by (exact score descending, index ascending); a
			// NaN score ranks after every number.
			m := len(cand)
			cand, ex = append(cand, j), append(ex, x)
			for m > 0 && exactBefore(x, j, ex[m-1], cand[m-1]) {
				cand[m], ex[m] = cand[m-1], ex[m-1]
				m--
			}
			cand[m], ex[m] = j, x
		}
	}
	dst = append(dst[:0], cand[:min(p, len(cand))]...)
	w.cand, w.ex = cand[:0], ex[:0]
	return dst
}

// exactBefore reports whether centroid i with exact score x ranks before
// centroid j with exact score y.
func exactBefore(x float64, i int, y float64, j int) bool {
	switch {
	case x > y:
		return true
	case x < y:
		return false
	case x == y:
		return i < j
	}
	// A NaN is involved: numbers first, then by index.
	if math.IsNaN(x) != math.IsNaN(y) {
		return !math.IsNaN(x)
	}
	return i < j
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
// [0, Dim()). The answer is Nearest's on the dense form of the same query
// (the float32 scores may differ, since the sums run in another order, but
// the exact fallback decides every near tie the same way). The first
// sparse query on a Set builds a transposed copy of the centroids (see
// transposed) and allocates; later ones do not.
func (s *Set) NearestSparse(idx []int32, val []float32) (centroid, shard int) {
	if !s.sparseOK(idx, val) {
		return -1, -1
	}
	var buf [block]float32
	best, top, second := 0, float32(math.Inf(-1)), float32(math.Inf(-1))
	for i := 0; i < s.k; i += block {
		sc := buf[:min(block, s.k-i)]
		s.sparseScores(sc, i, idx, val)
		for j, v := range sc {
			if v > top {
				best, top, second = i+j, v, top
			} else if v > second {
				second = v
			}
		}
	}
	e := s.errBound(sparseNormSq(idx, val))
	if !certified(top, second, e) {
		best = s.nearestExact(nil, idx, val, top, e)
	}
	return best, int(s.shardOf[best])
}

// sparseNormSq bounds the squared norm of a sparse query's dense form: Σ v²
// when the indices are strictly increasing (as a decoded sparsevec's are),
// else that times the number of entries, since a coordinate repeated m
// times squares to at most m times the sum of its parts' squares.
func sparseNormSq(idx []int32, val []float32) float64 {
	var r float64
	for _, x := range val {
		r += float64(x) * float64(x)
	}
	r *= 1 + 0x1p-40
	for j := 1; j < len(idx); j++ {
		if idx[j] <= idx[j-1] {
			return r * float64(len(idx))
		}
	}
	return r
}

// TopPSparse is TopP for a sparse query given as in NearestSparse; it
// returns dst[:0] if the query is malformed or p < 1. Its answer is TopP's
// on the dense form of the query.
func (s *Set) TopPSparse(idx []int32, val []float32, p int, dst []int) []int {
	dst = dst[:0]
	if p < 1 || !s.sparseOK(idx, val) {
		return dst
	}
	w := s.scores.Get().(*work)
	s.sparseScores(w.sc, 0, idx, val)
	dst = s.certifiedTopP(w, p, dst, s.errBound(sparseNormSq(idx, val)), nil, idx, val)
	s.scores.Put(w)
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

// Centroid copies centroid c as the Set searches it into dst (len(dst) >=
// Dim()) and returns dst[:Dim()]: scaled to unit length for Cosine, as in
// the file otherwise. It returns nil if c is not in [0, K()).
func (s *Set) Centroid(c int, dst []float32) []float32 {
	if c < 0 || c >= s.k {
		return nil
	}
	return dst[:copy(dst[:s.dim], s.rows[c*s.stride:c*s.stride+s.dim])]
}
