package kmeans

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

// blobs returns sizes[b] points around centre b (unit axes scaled by 10 in
// dim dimensions, plus N(0, spread) noise), in blob order.
func blobs(seed uint64, dim int, spread float64, sizes ...int) (Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	total := 0
	for _, s := range sizes {
		total += s
	}
	m := NewMatrix(total, dim)
	label := make([]int, 0, total)
	i := 0
	for b, s := range sizes {
		for range s {
			r := m.Row(i)
			for t := range r {
				r[t] = float32(rng.NormFloat64() * spread)
			}
			r[b%dim] += 10
			label = append(label, b)
			i++
		}
	}
	return m, label
}

// samePartition reports whether two labelings group the points alike.
func samePartition(a []int32, b []int) bool {
	m := map[int32]int{}
	for i := range a {
		if v, ok := m[a[i]]; ok && v != b[i] {
			return false
		}
		m[a[i]] = b[i]
	}
	return len(m) == len(uniq(b))
}

func uniq(b []int) map[int]bool {
	u := map[int]bool{}
	for _, v := range b {
		u[v] = true
	}
	return u
}

func TestTrainFindsBlobs(t *testing.T) {
	x, label := blobs(1, 8, 0.3, 50, 80, 30, 60)
	for _, m := range []centroids.Metric{centroids.Cosine, centroids.L2, centroids.InnerProduct} {
		res, err := Train(x, Config{K: 4, Metric: m, Seed: 3, Restarts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !samePartition(res.Assign, label) {
			t.Errorf("%v: assignment does not match the blobs; sizes %v", m, res.Sizes)
		}
		if !reflect.DeepEqual(res.Routed, res.Assign) {
			t.Errorf("%v: routed differs from the assignment without balance", m)
		}
		// Objective of well-separated blobs: each point's cost is small.
		switch m {
		case centroids.Cosine:
			if res.Objective <= 0 || res.Objective > 0.01*float64(x.Rows) {
				t.Errorf("cosine objective %v", res.Objective)
			}
			for j := 0; j < 4; j++ {
				if n := dot64(res.Centroids.Row(j), res.Centroids.Row(j)); math.Abs(n-1) > 1e-5 {
					t.Errorf("cosine centroid %d has |c|^2 = %v", j, n)
				}
			}
		case centroids.L2:
			// E|x - mean|^2 = dim * spread^2 = 0.72 per point.
			if per := res.Objective / float64(x.Rows); per < 0.5 || per > 0.9 {
				t.Errorf("l2 objective per point %v, want about 0.72", per)
			}
		}
		if got := res.ShardSizes; len(got) != 4 {
			t.Errorf("shard sizes %v", got)
		}
	}
}

// The objective reported equals the one recomputed from scratch with the
// final centroids, and it never increases over iterations.
func TestObjectiveConsistent(t *testing.T) {
	x, _ := blobs(2, 16, 3, 100, 100, 100, 100, 100)
	var objs []float64
	res, err := Train(x, Config{K: 7, Seed: 1, Iters: 15, Progress: func(r, it int, o float64) { objs = append(objs, o) }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(objs); i++ {
		if objs[i] > objs[i-1]*(1+1e-6) {
			t.Errorf("objective rose from %v to %v at iteration %d", objs[i-1], objs[i], i)
		}
	}
	assign, obj := Assign(x, res.Centroids, centroids.Cosine, 1)
	if math.Abs(obj-res.Objective) > 1e-6*obj {
		t.Errorf("objective %v, recomputed %v", res.Objective, obj)
	}
	if !reflect.DeepEqual(assign, res.Assign) {
		t.Error("final assignment is not the nearest-centroid assignment")
	}
}

func TestDeterminism(t *testing.T) {
	x, _ := blobs(3, 24, 4, 300, 200, 500, 100)
	cfg := Config{K: 9, Seed: 42, Restarts: 2, Iters: 10}
	run := func(workers, procs int) *Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		c := cfg
		c.Workers = workers
		res, err := Train(x, c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := run(0, 1)
	for _, w := range [][2]int{{0, 2}, {1, 2}, {2, 2}, {7, 2}, {0, 1}} {
		b := run(w[0], w[1])
		if !reflect.DeepEqual(a.Centroids.Data, b.Centroids.Data) || a.Objective != b.Objective || !reflect.DeepEqual(a.Assign, b.Assign) {
			t.Fatalf("workers %d, GOMAXPROCS %d: result differs", w[0], w[1])
		}
	}
	c := cfg
	c.Seed = 43
	if other, _ := Train(x, c); reflect.DeepEqual(a.Centroids.Data, other.Centroids.Data) {
		t.Error("a different seed gave the same centroids")
	}
}

func TestEmptyClusters(t *testing.T) {
	// 20 copies of one point and 3 distinct others: with k = 5 at most 4
	// distinct centroids exist, yet no cluster may be empty in training.
	x := NewMatrix(23, 3)
	for i := 0; i < 20; i++ {
		copy(x.Row(i), []float32{1, 2, 3})
	}
	copy(x.Row(20), []float32{-1, 0, 0})
	copy(x.Row(21), []float32{0, -1, 0})
	copy(x.Row(22), []float32{0, 0, -1})
	for _, m := range []centroids.Metric{centroids.Cosine, centroids.L2} {
		for _, k := range []int{4, 5, 23} {
			res, err := Train(x, Config{K: k, Metric: m, Seed: 1, Iters: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sizes) != k {
				t.Fatalf("%d sizes", len(res.Sizes))
			}
			for _, v := range res.Centroids.Data {
				if math.IsNaN(float64(v)) {
					t.Fatalf("%v k=%d: NaN centroid", m, k)
				}
			}
			if k == 4 {
				for j, s := range res.Sizes {
					if s == 0 {
						t.Errorf("%v k=4: cluster %d empty: %v", m, j, res.Sizes)
					}
				}
			}
		}
	}
	// k close to n with distinct points: every cluster keeps a point.
	y, _ := blobs(4, 5, 1, 12)
	res, err := Train(y, Config{K: 11, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for j, s := range res.Sizes {
		if s == 0 {
			t.Errorf("k = n-1: cluster %d empty: %v", j, res.Sizes)
		}
	}
}

func TestBalance(t *testing.T) {
	// Skewed: one blob holds 70% of the points.
	x, _ := blobs(5, 12, 0.5, 1400, 300, 200, 100)
	plain, err := Train(x, Config{K: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if Imbalance(plain.ShardSizes) < 1.5 {
		t.Fatalf("test data not skewed: imbalance %v", Imbalance(plain.ShardSizes))
	}
	for _, f := range []float64{1.05, 1.1, 1.3} {
		res, err := Train(x, Config{K: 4, Seed: 1, Balance: f})
		if err != nil {
			t.Fatal(err)
		}
		if got := Imbalance(res.Sizes); got > f+1e-9 {
			t.Errorf("balance %v: training imbalance %v (sizes %v)", f, got, res.Sizes)
		}
		// Routing balance is best effort (a bounded number of rounds);
		// it reaches these two on this data.
		if got := Imbalance(res.ShardSizes); f >= 1.1 && got > f+1e-9 {
			t.Errorf("balance %v: routed imbalance %v (sizes %v)", f, got, res.ShardSizes)
		}
		if res.RoutedObjective < plain.Objective*(1-1e-9) {
			t.Errorf("balance %v: objective %v below the unconstrained %v", f, res.RoutedObjective, plain.Objective)
		}
	}
	// k > shards: the capacity is per shard.
	res, err := Train(x, Config{K: 8, Shards: 4, Seed: 1, Balance: 1.1})
	if err != nil {
		t.Fatal(err)
	}
	train := make([]int, 4)
	for j, s := range res.Sizes {
		train[res.ShardOf[j]] += s
	}
	if got := Imbalance(train); got > 1.1 {
		t.Errorf("k 8, shards 4: training shard imbalance %v (%v)", got, train)
	}
	if got := Imbalance(res.ShardSizes); got > 1.25 {
		t.Errorf("k 8, shards 4: routed shard imbalance %v (%v)", got, res.ShardSizes)
	}
}

func TestConfigErrors(t *testing.T) {
	x, _ := blobs(6, 4, 1, 10)
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{K: 2, Shards: 3}, "cannot cover 3 shards"},
		{Config{K: 0}, "k >= 1"},
		{Config{K: 11}, "10 points cannot make k = 11"},
		{Config{K: 2, Balance: 0.5}, "balance 0.5"},
		{Config{K: 2, Metric: 9}, "unknown metric"},
	}
	for _, tt := range tests {
		if _, err := Train(x, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.cfg, err, tt.want)
		}
	}
	x.Data[5] = float32(math.NaN())
	if _, err := Train(x, Config{K: 2}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("NaN input: %v", err)
	}
}

func TestAssignShards(t *testing.T) {
	tests := []struct {
		sizes  []int
		shards int
		max    int // best achievable max load
	}{
		{[]int{10, 9, 8, 1, 1, 1}, 3, 10},
		{[]int{5, 5, 4, 3, 3}, 2, 10},
		{[]int{7, 0, 0, 0}, 3, 7},
		{[]int{3, 3, 2, 2, 2}, 2, 6},
		{[]int{1, 2, 3}, 3, 3},
	}
	for _, tt := range tests {
		got := AssignShards(tt.sizes, tt.shards)
		load := make([]int, tt.shards)
		owned := make([]int, tt.shards)
		for c, s := range got {
			load[s] += tt.sizes[c]
			owned[s]++
		}
		mx := 0
		for s := range load {
			mx = max(mx, load[s])
			if owned[s] == 0 {
				t.Errorf("%v into %d: shard %d owns no centroid (%v)", tt.sizes, tt.shards, s, got)
			}
		}
		if mx != tt.max {
			t.Errorf("%v into %d: max load %d, want %d (%v)", tt.sizes, tt.shards, mx, tt.max, got)
		}
	}
	if got := AssignShards([]int{4, 1, 9}, 3); !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("k == shards: %v, want identity", got)
	}
}

func TestImbalance(t *testing.T) {
	if got := Imbalance([]int{2, 2, 2}); got != 1 {
		t.Errorf("even: %v", got)
	}
	if got := Imbalance([]int{3, 1, 0, 0}); got != 3 {
		t.Errorf("skewed: %v", got)
	}
	if got := Imbalance(nil); got != 0 {
		t.Errorf("empty: %v", got)
	}
}
