package kmeans

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/partition"
)

// trainCells trains cfg.K cells on x and loads them as a set in which every
// cell is its own shard.
func trainCells(t *testing.T, x Matrix, cfg Config) (*Result, *centroids.Set) {
	t.Helper()
	res, err := Train(x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, err := centroids.New(FileOf(res.Centroids, cfg.Metric, cfg.K, nil))
	if err != nil {
		t.Fatal(err)
	}
	return res, set
}

// TestNeighbourGraphExact: probing every cell finds the exact neighbours,
// so the graph equals one built from brute-force ExactTopK.
func TestNeighbourGraphExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	x := randMatrix(rng, 400, 9)
	for _, m := range []centroids.Metric{centroids.Cosine, centroids.L2, centroids.InnerProduct} {
		res, set := trainCells(t, x, Config{K: 12, Metric: m, Seed: 3})
		cellOf := res.Routed
		const n = 5
		got := NeighbourGraph(x, set, cellOf, n, 12, 3)
		if err := got.Validate(); err != nil {
			t.Fatal(err)
		}
		top := ExactTopK(x, x, n+1, m, 1)
		b := partition.NewBuilder(got.Sizes)
		for i := 0; i < x.Rows; i++ {
			kept := 0
			for _, r := range top[i*(n+1) : (i+1)*(n+1)] {
				if int(r) == i || kept == n {
					continue
				}
				kept++
				b.Add(int(cellOf[i]), int(cellOf[r]), 1)
			}
		}
		want := b.Graph()
		if !slices.Equal(got.Start, want.Start) || !slices.Equal(got.Adj, want.Adj) || !slices.Equal(got.W, want.W) {
			t.Fatalf("%v: graph differs from brute force", m)
		}
		// Fewer probes: never more weight than exact, and deterministic
		// whatever the number of goroutines.
		a := NeighbourGraph(x, set, cellOf, n, 3, 1)
		c := NeighbourGraph(x, set, cellOf, n, 3, 4)
		if !slices.Equal(a.W, c.W) || !slices.Equal(a.Adj, c.Adj) {
			t.Fatalf("%v: graph depends on the number of goroutines", m)
		}
	}
}

// TestGroup: fine cells of blob data grouped into shards inside the
// window, the same for any number of goroutines, every cell's rows
// counted, and SwapOnly giving every shard the same number of cells.
func TestGroup(t *testing.T) {
	x, _ := blobs(8, 16, 0.3, 300, 250, 400, 350, 200, 500)
	_, set := trainCells(t, x, Config{K: 48, Metric: centroids.Cosine, Seed: 1})
	for _, swap := range []bool{false, true} {
		var first *Grouping
		for _, w := range []int{1, 3} {
			g, err := Group(x, set, GroupConfig{Shards: 4, Balance: 1.1, Seed: 2, Workers: w, SwapOnly: swap, Steps: 100_000})
			if err != nil {
				t.Fatalf("swap %v, %d workers: %v", swap, w, err)
			}
			mean := float64(x.Rows) / 4
			total := 0
			for s, l := range g.Loads {
				total += l
				if float64(l) < mean/1.1 || float64(l) > mean*1.1 {
					t.Fatalf("swap %v: shard %d has %d rows, mean %.0f", swap, s, l, mean)
				}
			}
			if total != x.Rows {
				t.Fatalf("loads add up to %d of %d rows", total, x.Rows)
			}
			if swap {
				count := make([]int, 4)
				for _, s := range g.ShardOf {
					count[s]++
				}
				if slices.Max(count) != 12 || slices.Min(count) != 12 {
					t.Fatalf("swap-only cells per shard %v", count)
				}
			}
			if first == nil {
				first = g
			} else if !slices.Equal(first.ShardOf, g.ShardOf) {
				t.Fatalf("swap %v: grouping depends on the number of goroutines", swap)
			}
		}
	}
	if _, err := Group(x, set, GroupConfig{Shards: 5, SwapOnly: true}); err == nil {
		t.Fatal("SwapOnly with 48 cells on 5 shards succeeded")
	}
}

// TestReshard adds a shard: within the window, rows moved counted and
// within the budget, the old layout reported.
func TestReshard(t *testing.T) {
	x, _ := blobs(9, 16, 0.3, 400, 300, 350, 450, 500, 250, 350, 400)
	res, set := trainCells(t, x, Config{K: 48, Metric: centroids.Cosine, Seed: 1})
	g, err := Group(x, set, GroupConfig{Shards: 4, Balance: 1.05, Seed: 2, Steps: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	old := FileOf(res.Centroids, centroids.Cosine, 4, g.ShardOf)
	r, err := Reshard(x, old, ReshardConfig{Shards: 5, Balance: 1.1, MaxMove: 0.3, Seed: 1, Steps: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for c := range r.ShardOf {
		if r.ShardOf[c] != g.ShardOf[c] {
			moved += r.Sizes[c]
		}
	}
	mean := float64(x.Rows) / 5
	if moved != r.Moved || float64(moved) > 0.3*float64(x.Rows) || moved < r.Least || !slices.Equal(r.OldShardOf, g.ShardOf) {
		t.Fatalf("moved %d (reported %d, least %d)", moved, r.Moved, r.Least)
	}
	for s, l := range r.Loads {
		if float64(l) < mean/1.1 || float64(l) > mean*1.1 {
			t.Fatalf("shard %d has %d rows, mean %.0f", s, l, mean)
		}
	}
	for _, tc := range []struct {
		f      *centroids.File
		shards int
	}{
		{old, 3},  // shrinking
		{old, 60}, // more shards than cells
		{&centroids.File{Metric: centroids.Cosine, Dim: old.Dim, Centroids: old.Centroids}, 5}, // bare
	} {
		if _, err := Reshard(x, tc.f, ReshardConfig{Shards: tc.shards}); err == nil {
			t.Errorf("reshard to %d shards succeeded", tc.shards)
		}
	}
}

// TestTrainCells: two-level training gives K cells, the same for any
// number of goroutines, and refuses what it cannot do.
func TestTrainCells(t *testing.T) {
	x, _ := blobs(3, 16, 0.4, 500, 300, 400, 600)
	var first *Result
	for _, w := range []int{1, 3} {
		res, err := TrainCells(x, Config{K: 40, Shards: 4, Metric: centroids.Cosine, Seed: 5, Workers: w}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if res.Centroids.Rows != 40 || len(res.Routed) != x.Rows {
			t.Fatalf("%d cells, %d routed rows", res.Centroids.Rows, len(res.Routed))
		}
		for j, s := range res.RoutedSizes {
			if s == 0 {
				t.Fatalf("cell %d is empty", j)
			}
		}
		if first == nil {
			first = res
		} else if !slices.Equal(first.Centroids.Data, res.Centroids.Data) {
			t.Fatal("two-level cells depend on the number of goroutines")
		}
	}
	for _, cfg := range []Config{
		{K: 40, Shards: 4, Balance: 1.1},
		{K: 3, Shards: 4},
		{K: 40, Shards: 4, Init: NewMatrix(40, 16)},
	} {
		cfg.Metric = centroids.Cosine
		if _, err := TrainCells(x, cfg, 3); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if _, err := Train(x, Config{K: 4, Metric: centroids.Cosine, Init: NewMatrix(3, 16)}); err == nil {
		t.Error("3 starting centroids for k = 4 accepted")
	}
}
