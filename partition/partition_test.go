package partition

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// cliques returns n groups of m cells, every pair inside a group joined
// with weight 10, neighbouring groups (in a ring) joined by one weak edge
// of weight 1, every cell of the given size.
func cliques(n, m, size int) *Graph {
	sizes := make([]int, n*m)
	for i := range sizes {
		sizes[i] = size
	}
	b := NewBuilder(sizes)
	for g := 0; g < n; g++ {
		for i := 0; i < m; i++ {
			for j := i + 1; j < m; j++ {
				b.Add(g*m+i, g*m+j, 10)
			}
		}
		b.Add(g*m, ((g+1)%n)*m+1, 1)
	}
	return b.Graph()
}

// randomGraph returns k cells of random sizes joined to random near
// neighbours (cells whose indices are close are likelier neighbours).
func randomGraph(r *rand.Rand, k int) *Graph {
	sizes := make([]int, k)
	for i := range sizes {
		sizes[i] = 20 + r.IntN(80)
	}
	b := NewBuilder(sizes)
	for i := 0; i < k; i++ {
		for range 6 {
			j := (i + 1 + r.IntN(k/4+1)) % k
			b.Add(i, j, float64(1+r.IntN(20)))
		}
	}
	return b.Graph()
}

// internal recomputes the weight inside shards from scratch.
func internal(g *Graph, shardOf []int) (in, total float64) {
	for c := 0; c < g.Cells(); c++ {
		for e := g.Start[c]; e < g.Start[c+1]; e++ {
			total += g.W[e]
			if shardOf[g.Adj[e]] == shardOf[c] {
				in += g.W[e]
			}
		}
	}
	return in / 2, total / 2
}

func loadsOf(g *Graph, shardOf []int, shards int) []int {
	l := make([]int, shards)
	for c, s := range shardOf {
		l[s] += g.Sizes[c]
	}
	return l
}

func TestBuilderGraph(t *testing.T) {
	b := NewBuilder([]int{1, 2, 3})
	b.Add(2, 0, 1.5)
	b.Add(0, 2, 1)
	b.Add(1, 1, 7) // inside a cell: ignored
	b.Add(1, 2, 2)
	g := b.Graph()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	want := &Graph{Sizes: []int{1, 2, 3}, Start: []int32{0, 1, 2, 4}, Adj: []int32{2, 2, 0, 1}, W: []float64{2.5, 2, 2.5, 2}}
	if !slices.Equal(g.Start, want.Start) || !slices.Equal(g.Adj, want.Adj) || !slices.Equal(g.W, want.W) {
		t.Fatalf("graph %+v, want %+v", g, want)
	}
	if g.Rows() != 6 || g.Cells() != 3 {
		t.Fatalf("rows %d cells %d", g.Rows(), g.Cells())
	}
}

func TestValidate(t *testing.T) {
	good := func() *Graph {
		return &Graph{Sizes: []int{1, 1}, Start: []int32{0, 1, 2}, Adj: []int32{1, 0}, W: []float64{1, 1}}
	}
	for _, tc := range []struct {
		name string
		bend func(g *Graph)
		want string
	}{
		{"offsets", func(g *Graph) { g.Start = g.Start[:2] }, "offsets"},
		{"negative size", func(g *Graph) { g.Sizes[0] = -1 }, "has -1 rows"},
		{"self loop", func(g *Graph) { g.Adj[0] = 0 }, "itself"},
		{"zero weight", func(g *Graph) { g.W[0] = 0 }, "edge weight"},
		{"asymmetric", func(g *Graph) { g.W[1] = 2 }, "not symmetric"},
	} {
		g := good()
		tc.bend(g)
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestRefineFindsCliques: from a scrambled start, every clique ends on one
// shard, which is the best possible layout.
func TestRefineFindsCliques(t *testing.T) {
	g := cliques(4, 8, 100)
	start := make([]int, g.Cells())
	for c := range start {
		start[c] = c % 4 // every clique spread over every shard
	}
	res, err := Refine(g, start, Options{Shards: 4, Lo: 750, Hi: 850, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for c := range res.ShardOf {
		if res.ShardOf[c] != res.ShardOf[c/8*8] {
			t.Fatalf("clique %d split: %v", c/8, res.ShardOf)
		}
	}
	in, total := internal(g, res.ShardOf)
	if in != res.Internal || total != res.Total || in != total-4 {
		t.Fatalf("internal %v of %v (result %v of %v), want all but the 4 ring edges", in, total, res.Internal, res.Total)
	}
}

// TestRefineWindow: on random graphs every result is inside the window,
// its bookkeeping matches a recount, it is deterministic and it is no
// worse than the start it was repaired from.
func TestRefineWindow(t *testing.T) {
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 7))
		k := 40 + r.IntN(200)
		g := randomGraph(r, k)
		shards := 2 + r.IntN(k/10)
		mean := float64(g.Rows()) / float64(shards)
		f := 1.05 + 0.2*r.Float64()
		start := make([]int, k)
		for c := range start {
			start[c] = c * shards / k // contiguous blocks: compact but unbalanced sizes
		}
		opt := Options{Shards: shards, Lo: mean / f, Hi: mean * f, Seed: seed, Steps: 50_000, Restarts: 2}
		res, err := Refine(g, start, opt)
		if errors.Is(err, ErrWindow) {
			t.Logf("seed %d: %v", seed, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for s, l := range loadsOf(g, res.ShardOf, shards) {
			if float64(l) < opt.Lo || float64(l) > opt.Hi || l != res.Loads[s] {
				t.Fatalf("seed %d: shard %d has %d rows (result says %d), window [%.1f, %.1f]", seed, s, l, res.Loads[s], opt.Lo, opt.Hi)
			}
		}
		if in, _ := internal(g, res.ShardOf); in != res.Internal {
			t.Fatalf("seed %d: internal %v, recount %v", seed, res.Internal, in)
		}
		again, _ := Refine(g, start, opt)
		if !slices.Equal(again.ShardOf, res.ShardOf) {
			t.Fatalf("seed %d: not deterministic", seed)
		}
	}
}

// TestRefineSwapOnly keeps every shard's number of cells.
func TestRefineSwapOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	g := randomGraph(r, 120)
	start := make([]int, 120)
	for c := range start {
		start[c] = c % 6
	}
	mean := float64(g.Rows()) / 6
	res, err := Refine(g, start, Options{Shards: 6, Lo: mean / 1.1, Hi: mean * 1.1, Seed: 2, SwapOnly: true, Steps: 50_000})
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, 6)
	for _, s := range res.ShardOf {
		count[s]++
	}
	for s, n := range count {
		if n != 20 {
			t.Fatalf("shard %d owns %d cells, want 20: %v", s, n, count)
		}
	}
	if in0, _ := internal(g, start); res.Internal <= in0 {
		t.Fatalf("internal %v, start had %v", res.Internal, in0)
	}
}

// TestRefineReshard adds a shard to a balanced layout: the new shard is
// filled, the moved rows are counted exactly and stay within the budget.
func TestRefineReshard(t *testing.T) {
	g := cliques(6, 10, 50) // 3000 rows
	old := make([]int, g.Cells())
	for c := range old {
		old[c] = c / 10 % 3 // two cliques per shard, 1000 rows each
	}
	mean := 3000.0 / 4
	opt := Options{Shards: 4, Lo: mean / 1.1, Hi: mean * 1.1, Seed: 3, Old: old, MoveCost: 1, MoveBudget: 900}
	res, err := Refine(g, old, opt)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for c := range old {
		if res.ShardOf[c] != old[c] {
			moved += g.Sizes[c]
		}
	}
	if moved != res.Moved || moved > opt.MoveBudget || res.Loads[3] < int(opt.Lo) {
		t.Fatalf("moved %d (result %d, budget %d), loads %v", moved, res.Moved, opt.MoveBudget, res.Loads)
	}
	// A budget below what the new shard needs cannot be met.
	opt.MoveBudget = 300
	if _, err := Refine(g, old, opt); !errors.Is(err, ErrWindow) {
		t.Fatalf("budget 300: %v, want ErrWindow", err)
	}
}

func TestRefineErrors(t *testing.T) {
	g := cliques(2, 2, 10)
	for _, tc := range []struct {
		name  string
		start []int
		opt   Options
		want  string
	}{
		{"start length", []int{0}, Options{Shards: 2, Hi: 100}, "start has 1 entries"},
		{"no shards", []int{0, 0, 0, 0}, Options{Shards: 0, Hi: 100}, "0 shards"},
		{"window", []int{0, 0, 0, 0}, Options{Shards: 2, Lo: 30, Hi: 20}, "window"},
		{"start shard", []int{0, 0, 0, 5}, Options{Shards: 2, Hi: 100}, "cell 3 starts on shard 5"},
		{"old length", []int{0, 0, 1, 1}, Options{Shards: 2, Hi: 100, Old: []int{0}}, "old has 1"},
		{"impossible", []int{0, 0, 1, 1}, Options{Shards: 2, Lo: 19, Hi: 19}, "cannot bring every shard"},
	} {
		_, err := Refine(g, tc.start, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzRefine: any graph the Builder makes, any start and window, and
// Refine either fails with ErrWindow or returns an assignment inside the
// window whose bookkeeping matches a recount.
func FuzzRefine(f *testing.F) {
	f.Add(uint64(1), uint8(20), uint8(3), uint8(10))
	f.Add(uint64(2), uint8(5), uint8(5), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, cells, shards, slack uint8) {
		k := int(cells%60) + 1
		ns := int(shards)%k + 1
		r := rand.New(rand.NewPCG(seed, 1))
		g := randomGraph(r, max(k, 4))
		k = g.Cells()
		start := make([]int, k)
		for c := range start {
			start[c] = r.IntN(ns)
		}
		mean := float64(g.Rows()) / float64(ns)
		fac := 1 + float64(slack)/100
		opt := Options{Shards: ns, Lo: mean / fac, Hi: mean * fac, Seed: seed, Steps: 2000, Restarts: 1}
		res, err := Refine(g, start, opt)
		if err != nil {
			if !errors.Is(err, ErrWindow) {
				t.Fatal(err)
			}
			return
		}
		for s, l := range loadsOf(g, res.ShardOf, ns) {
			if float64(l) < opt.Lo || float64(l) > opt.Hi || l != res.Loads[s] {
				t.Fatalf("shard %d: %d rows, window [%v, %v]", s, l, opt.Lo, opt.Hi)
			}
		}
		if in, _ := internal(g, res.ShardOf); in != res.Internal {
			t.Fatalf("internal %v, recount %v", res.Internal, in)
		}
	})
}
