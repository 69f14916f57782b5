package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

// The nearest-centroid benchmarks, over every combination of these
// dimensions and centroid counts. All three report the centroid matrix
// (k*d*4 bytes) as their bytes per op, so their MB/s compare directly.
var (
	nearestDims = []int{128, 784, 1536, 3072}
	nearestKs   = []int{4, 16, 64, 256, 1024}
)

// nearestData returns k random centroids of dimension d and a query, the
// same for every benchmark of a given shape.
func nearestData(d, k int) ([][]float32, []float32) {
	r := rand.New(rand.NewPCG(uint64(d), uint64(k)))
	vec := func() []float32 {
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return v
	}
	cs := make([][]float32, k)
	for i := range cs {
		cs[i] = vec()
	}
	return cs, vec()
}

func forShapes(b *testing.B, f func(b *testing.B, d, k int)) {
	for _, d := range nearestDims {
		for _, k := range nearestKs {
			b.Run(fmt.Sprintf("d=%d/k=%d", d, k), func(b *testing.B) {
				b.SetBytes(int64(4 * d * k))
				f(b, d, k)
			})
		}
	}
}

var sinkInt int
var sinkFloat float32

// BenchmarkNearest: centroids.Set.Nearest, cosine, on a decoded query.
func BenchmarkNearest(b *testing.B) {
	forShapes(b, func(b *testing.B, d, k int) {
		cs, q := nearestData(d, k)
		s, err := centroids.New(&centroids.File{Metric: centroids.Cosine, Dim: d, Centroids: cs})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			c, _ := s.Nearest(q)
			sinkInt += c
		}
	})
}

// BenchmarkNearestPgDogBaseline: PgDog's built-in Centroids::shard with one
// probe, restated in pgdog.go.
func BenchmarkNearestPgDogBaseline(b *testing.B) {
	forShapes(b, func(b *testing.B, d, k int) {
		cs, q := nearestData(d, k)
		b.ReportAllocs()
		dists := 0
		for b.Loop() {
			sel, n := pgdogShard(cs, q, k, 1)
			sinkInt += sel[0]
			dists += n
		}
		b.ReportMetric(float64(dists)/float64(b.N), "l2/op")
	})
}

// BenchmarkStreamRead: a sum of the same k*d floats, 8-wide with eight
// independent accumulators: the memory floor under any nearest-centroid
// search over k dense centroids.
func BenchmarkStreamRead(b *testing.B) {
	forShapes(b, func(b *testing.B, d, k int) {
		cs, _ := nearestData(d, k)
		flat := make([]float32, 0, d*k)
		for _, c := range cs {
			flat = append(flat, c...)
		}
		b.ReportAllocs()
		for b.Loop() {
			sinkFloat += streamSum(flat)
		}
	})
}

// TestPgDogRestatement pins the restated baseline: the assembly and Go forms
// of PgDog's SSE distance agree bit for bit, both are sqrt(Σ(q-p)²) within
// float32 rounding, and the shard is the nearest centroid's index mod shards.
func TestPgDogRestatement(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 100, 1536} {
		p, q := make([]float32, n), make([]float32, n)
		var want float64
		for j := range p {
			p[j], q[j] = float32(r.NormFloat64()), float32(r.NormFloat64())
			want += (float64(q[j]) - float64(p[j])) * (float64(q[j]) - float64(p[j]))
		}
		want = math.Sqrt(want)
		a, g := pgdogL2(p, q), pgdogL2Go(p, q)
		if math.Float32bits(a) != math.Float32bits(g) {
			t.Errorf("n=%d: pgdogL2 = %v, pgdogL2Go = %v", n, a, g)
		}
		if math.Abs(float64(g)-want) > 1e-5*want {
			t.Errorf("n=%d: pgdogL2Go = %v, want %v", n, g, want)
		}
	}
	cs := [][]float32{{0, 0}, {5, 5}, {1, 1}, {1, 1}, {3, 0}}
	for _, tt := range []struct {
		q              []float32
		shards, probes int
		want           []int
	}{
		{[]float32{1.2, 1}, 5, 1, []int{2}},           // ties keep index order (stable sort)
		{[]float32{1.2, 1}, 5, 3, []int{2, 3, 0}},     // then {0,0}
		{[]float32{1.2, 1}, 2, 3, []int{0, 1, 0}},     // index % shards
		{[]float32{3, 0.1}, 3, 1, []int{1}},           // centroid 4 -> shard 1
		{[]float32{9, 9}, 4, 9, []int{1, 0, 2, 3, 0}}, // order 1, 4, 2, 3, 0,
	} {
		got, _ := pgdogShard(cs, tt.q, tt.shards, tt.probes)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("pgdogShard(%v, %d, %d) = %v, want %v", tt.q, tt.shards, tt.probes, got, tt.want)
		}
	}
}

// TestNearestAgreesWithPgDog: for L2 our Set and PgDog's method pick the
// same centroid (on random data, where ties and near-ties do not occur).
func TestNearestAgreesWithPgDog(t *testing.T) {
	for _, d := range []int{128, 784} {
		cs, _ := nearestData(d, 64)
		s, err := centroids.New(&centroids.File{Metric: centroids.L2, Dim: d, Centroids: cs})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(2, uint64(d)))
		for range 20 {
			q := make([]float32, d)
			base := cs[r.IntN(len(cs))]
			for j := range q {
				q[j] = base[j] + float32(r.NormFloat64())
			}
			c, _ := s.Nearest(q)
			p, _ := pgdogShard(cs, q, len(cs), 1)
			if c != p[0] {
				t.Errorf("d=%d: Nearest = %d, PgDog = %d", d, c, p[0])
			}
		}
	}
}
