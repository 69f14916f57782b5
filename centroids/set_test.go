package centroids

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"github.com/vecshard/vecshard/centroids/internal/kernel"
)

// paths runs f with the assembly kernel (when the CPU has it) and with the
// pure-Go kernel forced, and restores the default afterwards.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer kernel.UseAsm(true)
	for _, asm := range []bool{true, false} {
		if kernel.UseAsm(asm) != asm {
			continue
		}
		t.Run(map[bool]string{true: "asm", false: "go"}[asm], f)
	}
}

func mustNew(t testing.TB, f *File) *Set {
	t.Helper()
	s, err := New(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sparse returns the non-zeros of q.
func sparse(q []float32) ([]int32, []float32) {
	var idx []int32
	var val []float32
	for i, x := range q {
		if x != 0 {
			idx = append(idx, int32(i))
			val = append(val, x)
		}
	}
	return idx, val
}

func TestNearestGolden(t *testing.T) {
	axes := [][]float32{{1, 0}, {0, 1}, {-1, 0}}
	tests := []struct {
		name      string
		metric    Metric
		centroids [][]float32
		q         []float32
		want      int
	}{
		{"cosine x", Cosine, axes, []float32{2, 1}, 0},
		{"cosine y", Cosine, axes, []float32{0.1, 5}, 1},
		{"cosine -x", Cosine, axes, []float32{-3, 0.5}, 2},
		{"cosine tie", Cosine, axes, []float32{1, 1}, 0},
		{"cosine zero query", Cosine, axes, []float32{0, 0}, 0},
		{"cosine zero query, all ties", Cosine, [][]float32{{0, 5}, {3, 0}}, []float32{0, 0}, 0},
		// Cosine ignores length, inner product does not, L2 is distance.
		{"cosine ignores length", Cosine, [][]float32{{10, 0}, {0, 1}}, []float32{0.5, 0.6}, 1},
		{"ip uses length", InnerProduct, [][]float32{{10, 0}, {0, 1}}, []float32{0.5, 0.6}, 0},
		{"l2", L2, [][]float32{{10, 0}, {0, 1}}, []float32{0.5, 0.6}, 1},
		{"ip far wins", InnerProduct, [][]float32{{1, 0}, {3, 0}}, []float32{1.9, 0}, 1},
		{"l2 close wins", L2, [][]float32{{1, 0}, {3, 0}}, []float32{1.9, 0}, 0},
		{"l2 other side", L2, [][]float32{{1, 0}, {3, 0}}, []float32{2.1, 0}, 1},
		{"cosine same direction tie", Cosine, [][]float32{{1, 0}, {3, 0}}, []float32{1.9, 0}, 0},
		{"l2 midpoint tie", L2, [][]float32{{0, 0}, {2, 0}}, []float32{1, 0}, 0},
		{"l2 tie later", L2, [][]float32{{5, 5}, {0, 0}, {2, 0}}, []float32{1, 0}, 1},
		{"ip negative", InnerProduct, [][]float32{{1, 1}, {-1, -1}}, []float32{-1, -2}, 1},
		{"ip zero query", InnerProduct, [][]float32{{1, 1}, {-1, -1}}, []float32{0, 0}, 0},
		{"l2 zero query", L2, [][]float32{{1, 1}, {0.5, 0}}, []float32{0, 0}, 1},
	}
	paths(t, func(t *testing.T) {
		for _, tt := range tests {
			s := mustNew(t, &File{Metric: tt.metric, Dim: 2, Centroids: tt.centroids})
			if c, sh := s.Nearest(tt.q); c != tt.want || sh != tt.want {
				t.Errorf("%s: Nearest = (%d, %d), want (%d, %d)", tt.name, c, sh, tt.want, tt.want)
			}
			idx, val := sparse(tt.q)
			if c, sh := s.NearestSparse(idx, val); c != tt.want || sh != tt.want {
				t.Errorf("%s: NearestSparse = (%d, %d), want %d", tt.name, c, sh, tt.want)
			}
			if got := s.TopP(tt.q, 1, nil); !reflect.DeepEqual(got, []int{tt.want}) {
				t.Errorf("%s: TopP(1) = %v, want [%d]", tt.name, got, tt.want)
			}
		}
	})
}

func TestTopPGolden(t *testing.T) {
	// Inner product in one dimension: the scores are the centroids.
	f := &File{Metric: InnerProduct, Dim: 1, Shards: 2,
		Centroids: [][]float32{{1}, {3}, {2}, {3}, {0}, {-1}, {3}},
		ShardOf:   []int{0, 1, 1, 0, 1, 0, 1}}
	tests := []struct {
		p    int
		q    float32
		want []int
	}{
		{1, 1, []int{1}},
		{2, 1, []int{1, 3}},
		{3, 1, []int{1, 3, 6}},
		{4, 1, []int{1, 3, 6, 2}},
		{7, 1, []int{1, 3, 6, 2, 0, 4, 5}},
		{100, 1, []int{1, 3, 6, 2, 0, 4, 5}},
		{3, -1, []int{5, 4, 0}},
		{7, 0, []int{0, 1, 2, 3, 4, 5, 6}}, // all ties: index order
		{0, 1, []int{}},
		{-1, 1, []int{}},
	}
	paths(t, func(t *testing.T) {
		s := mustNew(t, f)
		for _, tt := range tests {
			got := s.TopP([]float32{tt.q}, tt.p, make([]int, 3, 8))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TopP(%v, %d) = %v, want %v", tt.q, tt.p, got, tt.want)
			}
			got = s.TopPSparse([]int32{0}, []float32{tt.q}, tt.p, nil)
			if len(got) == 0 {
				got = []int{}
			}
			if tt.q != 0 && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("TopPSparse(%v, %d) = %v, want %v", tt.q, tt.p, got, tt.want)
			}
		}
		if c, sh := s.Nearest([]float32{1}); c != 1 || sh != 1 {
			t.Errorf("Nearest = (%d, %d), want (1, 1)", c, sh)
		}
		if c, sh := s.Nearest([]float32{-1}); c != 5 || sh != 0 {
			t.Errorf("Nearest = (%d, %d), want (5, 0)", c, sh)
		}
	})
}

func TestAccessors(t *testing.T) {
	s := mustNew(t, &File{Metric: L2, Dim: 3, Shards: 2, Centroids: [][]float32{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}})
	if s.Dim() != 3 || s.K() != 3 || s.Shards() != 2 || s.Metric() != L2 {
		t.Errorf("Dim, K, Shards, Metric = %d, %d, %d, %v", s.Dim(), s.K(), s.Shards(), s.Metric())
	}
	for c, want := range []int{0, 1, 0} {
		if got := s.ShardOf(c); got != want {
			t.Errorf("ShardOf(%d) = %d, want %d (i %% shards)", c, got, want)
		}
	}
	if s.ShardOf(-1) != -1 || s.ShardOf(3) != -1 {
		t.Error("ShardOf out of range is not -1")
	}
	bare := mustNew(t, &File{Metric: Cosine, Dim: 1, Centroids: [][]float32{{1}, {2}, {3}}})
	if bare.Shards() != 3 || bare.ShardOf(2) != 2 {
		t.Errorf("bare form: Shards %d, ShardOf(2) %d; want 3, 2", bare.Shards(), bare.ShardOf(2))
	}
	for _, m := range []Metric{Cosine, L2, InnerProduct} {
		if got, err := ParseMetric(m.String()); got != m || err != nil {
			t.Errorf("ParseMetric(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMetric("Cosine"); err == nil {
		t.Error("ParseMetric is not exact")
	}
}

func TestBadQueries(t *testing.T) {
	s := mustNew(t, &File{Metric: Cosine, Dim: 3, Centroids: [][]float32{{1, 2, 3}, {4, 5, 6}}})
	if c, sh := s.Nearest([]float32{1, 2}); c != -1 || sh != -1 {
		t.Errorf("Nearest of a short query = (%d, %d)", c, sh)
	}
	if c, _ := s.Nearest(nil); c != -1 {
		t.Errorf("Nearest(nil) = %d", c)
	}
	if got := s.TopP([]float32{1, 2, 3, 4}, 1, nil); len(got) != 0 {
		t.Errorf("TopP of a long query = %v", got)
	}
	for _, q := range []struct {
		idx []int32
		val []float32
	}{{[]int32{3}, []float32{1}}, {[]int32{-1}, []float32{1}}, {[]int32{0, 1}, []float32{1}}} {
		if c, sh := s.NearestSparse(q.idx, q.val); c != -1 || sh != -1 {
			t.Errorf("NearestSparse(%v, %v) = (%d, %d)", q.idx, q.val, c, sh)
		}
		if got := s.TopPSparse(q.idx, q.val, 2, nil); len(got) != 0 {
			t.Errorf("TopPSparse(%v, %v) = %v", q.idx, q.val, got)
		}
	}
	// An empty sparse query is the zero vector.
	if c, _ := s.NearestSparse(nil, nil); c != 0 {
		t.Errorf("NearestSparse(zero) = %d", c)
	}
	// NaN never comes from pgvector; it must not crash.
	nan := float32(math.NaN())
	s.Nearest([]float32{nan, 1, 1})
	s.TopP([]float32{nan, nan, nan}, 2, nil)
}

// reference returns the metric's similarity of c and q in float64 (larger is
// nearer).
func reference(m Metric, c, q []float32) float64 {
	var dot, cc, qq float64
	for j := range c {
		dot += float64(c[j]) * float64(q[j])
		cc += float64(c[j]) * float64(c[j])
		qq += float64(q[j]) * float64(q[j])
	}
	switch m {
	case Cosine:
		return dot / math.Sqrt(cc*qq)
	case L2:
		return -math.Sqrt(cc - 2*dot + qq)
	}
	return dot
}

func randFile(r *rand.Rand, m Metric, k, dim int) *File {
	f := &File{Metric: m, Dim: dim, Centroids: make([][]float32, k)}
	for i := range f.Centroids {
		f.Centroids[i] = randVec(r, dim)
	}
	return f
}

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// TestNearestReference checks, against float64 arithmetic on the original
// centroids, that the chosen centroid is the best or within float32 rounding
// of it, for random data in many shapes, on every kernel path, and that the
// dense, sparse and TopP forms agree.
func TestNearestReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	paths(t, func(t *testing.T) {
		for _, m := range []Metric{Cosine, L2, InnerProduct} {
			for _, dim := range []int{1, 5, 16, 17, 100, 784} {
				for _, k := range []int{1, 3, 4, 13, 130, 300} {
					f := randFile(r, m, k, dim)
					s := mustNew(t, f)
					for range 5 {
						q := randVec(r, dim)
						best := math.Inf(-1)
						for _, c := range f.Centroids {
							best = max(best, reference(m, c, q))
						}
						c, _ := s.Nearest(q)
						if got := reference(m, f.Centroids[c], q); best-got > 1e-4*(1+math.Abs(best)) {
							t.Errorf("%v d=%d k=%d: Nearest = %d scoring %v, best %v", m, dim, k, c, got, best)
						}
						top := s.TopP(q, 3, nil)
						if len(top) != min(3, k) || top[0] != c {
							t.Errorf("%v d=%d k=%d: TopP = %v, Nearest = %d", m, dim, k, top, c)
						}
						for i := 1; i < len(top); i++ {
							if reference(m, f.Centroids[top[i-1]], q) < reference(m, f.Centroids[top[i]], q)-1e-4 {
								t.Errorf("%v d=%d k=%d: TopP = %v not in order", m, dim, k, top)
							}
						}
						// Sparse: zero about half of q.
						for j := range q {
							if r.IntN(2) == 0 {
								q[j] = 0
							}
						}
						idx, val := sparse(q)
						cd, _ := s.Nearest(q)
						cs, _ := s.NearestSparse(idx, val)
						if cd != cs && math.Abs(reference(m, f.Centroids[cd], q)-reference(m, f.Centroids[cs], q)) > 1e-4 {
							t.Errorf("%v d=%d k=%d: Nearest = %d, NearestSparse = %d", m, dim, k, cd, cs)
						}
					}
				}
			}
		}
	})
}

// TestSparseDenseExact uses small integers, whose sums are exact in any
// order, so the sparse and dense forms must agree exactly, ties included.
func TestSparseDenseExact(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	paths(t, func(t *testing.T) {
		for _, m := range []Metric{L2, InnerProduct} {
			for _, dim := range []int{3, 20, 64} {
				f := &File{Metric: m, Dim: dim, Centroids: make([][]float32, 40)}
				for i := range f.Centroids {
					f.Centroids[i] = make([]float32, dim)
					for j := range dim {
						f.Centroids[i][j] = float32(r.IntN(5) - 2)
					}
				}
				s := mustNew(t, f)
				for range 50 {
					q := make([]float32, dim)
					for j := range q {
						if r.IntN(3) == 0 {
							q[j] = float32(r.IntN(7) - 3)
						}
					}
					idx, val := sparse(q)
					cd, sd := s.Nearest(q)
					cs, ss := s.NearestSparse(idx, val)
					if cd != cs || sd != ss {
						t.Fatalf("%v: Nearest(%v) = %d, NearestSparse = %d", m, q, cd, cs)
					}
					td, ts := s.TopP(q, 5, nil), s.TopPSparse(idx, val, 5, nil)
					if !reflect.DeepEqual(td, ts) || td[0] != cd {
						t.Fatalf("%v: TopP = %v, TopPSparse = %v, Nearest %d", m, td, ts, cd)
					}
				}
			}
		}
	})
}

func TestAligned(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, dim := range []int{1, 3, 16, 100, 784} {
		for _, k := range []int{1, 2, 7, 64} {
			s := mustNew(t, randFile(r, Cosine, k, dim))
			if a := uintptr(unsafe.Pointer(&s.rows[0])) % 64; a != 0 {
				t.Errorf("d=%d k=%d: rows at address %% 64 = %d", dim, k, a)
			}
			if s.stride%16 != 0 || s.stride < dim || s.stride >= dim+16 {
				t.Errorf("d=%d: stride %d", dim, s.stride)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled scratch space; make alloc runs this without it")
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, m := range []Metric{Cosine, L2} {
		for _, k := range []int{5, 300} {
			s := mustNew(t, randFile(r, m, k, 100))
			q := randVec(r, 100)
			idx, val := sparse(q[:50])
			dst := make([]int, 0, 4)
			zero := make([]float32, 100)
			zeroIdx, zeroVal := []int32{3}, []float32{0}
			for name, f := range map[string]func(){
				"Nearest":       func() { s.Nearest(q) },
				"TopP":          func() { dst = s.TopP(q, 4, dst) },
				"NearestSparse": func() { s.NearestSparse(idx, val) },
				"TopPSparse":    func() { dst = s.TopPSparse(idx, val, 4, dst) },
				// A zero query ties every centroid: the exact fallback.
				"Nearest/exact":       func() { s.Nearest(zero) },
				"TopP/exact":          func() { dst = s.TopP(zero, 4, dst) },
				"NearestSparse/exact": func() { s.NearestSparse(zeroIdx, zeroVal) },
				"TopPSparse/exact":    func() { dst = s.TopPSparse(zeroIdx, zeroVal, 4, dst) },
			} {
				if a := testing.AllocsPerRun(200, f); a != 0 {
					t.Errorf("%v k=%d: %s allocates %v times per call", m, k, name, a)
				}
			}
		}
	}
}

// TestConcurrent runs every query form from several goroutines on one Set;
// run with -race.
func TestConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	s := mustNew(t, randFile(r, L2, 200, 64))
	qs := make([][]float32, 32)
	want := make([]string, len(qs))
	for i := range qs {
		qs[i] = randVec(r, 64)
		c, _ := s.Nearest(qs[i])
		want[i] = fmt.Sprint(c, s.TopP(qs[i], 3, nil))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var dst []int
			for n := range 200 {
				i := (g + n) % len(qs)
				c, _ := s.Nearest(qs[i])
				dst = s.TopP(qs[i], 3, dst)
				if got := fmt.Sprint(c, dst); got != want[i] {
					t.Errorf("query %d: %s, want %s", i, got, want[i])
					return
				}
				idx, val := sparse(qs[i])
				s.NearestSparse(idx, val)
				dst = s.TopPSparse(idx, val, 3, dst)
			}
		})
	}
	wg.Wait()
}

// TestTiesAcrossBlocks: equal best centroids in different kernel blocks
// (Nearest scores 128 at a time) and different positions within a group of
// four still resolve to the lowest index.
func TestTiesAcrossBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	paths(t, func(t *testing.T) {
		for _, m := range []Metric{Cosine, L2, InnerProduct} {
			f := randFile(r, m, 300, 37)
			q := randVec(r, 37)
			best := make([]float32, 37)
			for j := range best {
				best[j] = q[j] // distance 0, cosine 1
				if m == InnerProduct {
					best[j] *= 3 // dot 3|q|², far above any random centroid's
				}
			}
			for _, i := range []int{129, 131, 250, 299} {
				f.Centroids[i] = best
			}
			s := mustNew(t, f)
			if c, _ := s.Nearest(q); c != 129 {
				t.Errorf("%v: Nearest = %d, want 129", m, c)
			}
			idx, val := sparse(q)
			if c, _ := s.NearestSparse(idx, val); c != 129 {
				t.Errorf("%v: NearestSparse = %d, want 129", m, c)
			}
			if got := s.TopP(q, 4, nil); !reflect.DeepEqual(got, []int{129, 131, 250, 299}) {
				t.Errorf("%v: TopP = %v", m, got)
			}
		}
	})
}

// TestBare: a bare file (Shards 0) maps centroid c to c % n under a pooler
// of n shards, for any k; an object file keeps its shard_of whatever n is.
func TestBare(t *testing.T) {
	rows := make([][]float32, 8)
	for i := range rows {
		rows[i] = []float32{float32(i + 1)}
	}
	bare := mustNew(t, &File{Metric: InnerProduct, Dim: 1, Centroids: rows})
	if !bare.Bare() || bare.Shards() != 8 {
		t.Fatalf("Bare %v, Shards %d; want true, 8", bare.Bare(), bare.Shards())
	}
	for _, n := range []int{1, 3, 4, 8, 9} {
		for c := range 8 {
			if got := bare.ShardFor(c, n); got != c%n {
				t.Errorf("bare ShardFor(%d, %d) = %d, want %d", c, n, got, c%n)
			}
		}
	}
	if bare.ShardFor(0, 0) != -1 || bare.ShardFor(8, 4) != -1 || bare.ShardFor(-1, 4) != -1 {
		t.Error("bare ShardFor out of range is not -1")
	}
	obj := mustNew(t, &File{Metric: InnerProduct, Dim: 1, Shards: 3, Centroids: rows, ShardOf: []int{2, 1, 0, 0, 0, 0, 0, 1}})
	if obj.Bare() {
		t.Error("object file reported bare")
	}
	for c, want := range []int{2, 1, 0, 0, 0, 0, 0, 1} {
		for _, n := range []int{3, 4} { // n is not consulted
			if got := obj.ShardFor(c, n); got != want {
				t.Errorf("ShardFor(%d, %d) = %d, want shard_of %d", c, n, got, want)
			}
		}
	}
	// A bare file has no shard_of to speak of: only the identity is valid.
	if _, err := New(&File{Metric: L2, Dim: 1, Centroids: rows[:2], ShardOf: []int{1, 0}}); err == nil {
		t.Error("New accepted a non-identity shard_of without shards")
	}
	if _, err := New(&File{Metric: L2, Dim: 1, Centroids: rows[:2], ShardOf: []int{0, 1}}); err != nil {
		t.Errorf("identity shard_of without shards: %v", err)
	}
}

// TestScore: the similarities Score reports, one metric at a time, and
// ScoreSparse agrees with Score on the dense form of a sparse query.
func TestScore(t *testing.T) {
	rows := [][]float32{{3, 4, 0}, {0, 0, 2}, {0, 0, 0}}
	q := []float32{1, 2, 2} // |q| = 3
	for _, c := range []struct {
		m    Metric
		want []float64
	}{
		{Cosine, []float64{11.0 / 15, 2.0 / 3, 0}}, // dot / (|c| |q|); zero centroid: 0
		{L2, []float64{-(4 + 4 + 4), -(1 + 4 + 0), -9}},
		{InnerProduct, []float64{11, 4, 0}},
	} {
		s := mustNew(t, &File{Metric: c.m, Dim: 3, Centroids: rows})
		for i, want := range c.want {
			if got := s.Score(q, i); math.Abs(float64(got)-want) > 1e-6 {
				t.Errorf("%v: Score(q, %d) = %v, want %v", c.m, i, got, want)
			}
			if got := s.ScoreSparse([]int32{2, 0, 1}, []float32{2, 1, 2}, i); math.Abs(float64(got)-want) > 1e-5 {
				t.Errorf("%v: ScoreSparse(q, %d) = %v, want %v", c.m, i, got, want)
			}
		}
		// The nearest centroid has the largest score.
		best, _ := s.Nearest(q)
		for i := range rows {
			if s.Score(q, i) > s.Score(q, best) {
				t.Errorf("%v: centroid %d scores above the nearest, %d", c.m, i, best)
			}
		}
		if c.m == Cosine && s.Score(make([]float32, 3), 0) != 0 {
			t.Error("cosine score of a zero query is not 0")
		}
		for _, bad := range []float32{s.Score(q[:2], 0), s.Score(q, 3), s.Score(q, -1),
			s.ScoreSparse([]int32{3}, []float32{1}, 0), s.ScoreSparse([]int32{0}, nil, 0), s.ScoreSparse(nil, nil, 3)} {
			if !math.IsNaN(float64(bad)) {
				t.Errorf("%v: malformed query or centroid scored %v, want NaN", c.m, bad)
			}
		}
	}
}
