// Package partition groups the cells of a vector-space partition (the
// Voronoi cells of fine centroids) into shards: every shard within a size
// window, neighbouring cells kept on one shard.
//
// The input is a Graph: one vertex per cell, weighted by the rows the cell
// holds, and an edge weight between two cells that counts how often a row of
// one has a near neighbour in the other. A similarity search that probes
// one shard finds a neighbour exactly when the neighbour's cell is on the
// query's shard, so the sum of the edge weights inside shards (the
// "internal weight") is what recall grows with, and the cut (the rest) is
// what it loses.
//
// Refine improves a starting assignment in two phases: a repair phase that
// moves cells until every shard's rows lie in [Lo, Hi], and simulated
// annealing over single moves and pairwise swaps that never leave the
// window, keeping the best assignment seen. With Options.Old it also counts
// the rows whose shard changes and never exceeds Options.MoveBudget, which
// is how a shard is added by moving cells instead of retraining.
//
// Everything is deterministic: the same Graph, start and Options give the
// same assignment.
package partition

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Graph is a weighted undirected graph on cells 0..len(Sizes)-1 in
// compressed sparse row form: the neighbours of cell c are
// Adj[Start[c]:Start[c+1]] with weights W[Start[c]:Start[c+1]]. Every edge
// is stored in both directions with the same weight, there are no
// self-loops and no repeated neighbours (Validate checks all of it).
type Graph struct {
	Sizes []int     // rows per cell, >= 0
	Start []int32   // len(Sizes)+1 offsets into Adj and W
	Adj   []int32   // neighbour cells
	W     []float64 // edge weights, > 0
}

// Cells returns the number of cells.
func (g *Graph) Cells() int { return len(g.Sizes) }

// Rows returns the total of Sizes.
func (g *Graph) Rows() int {
	n := 0
	for _, s := range g.Sizes {
		n += s
	}
	return n
}

// Validate reports the first way g is not a Graph as documented.
func (g *Graph) Validate() error {
	k := len(g.Sizes)
	if len(g.Start) != k+1 || g.Start[0] != 0 || int(g.Start[k]) != len(g.Adj) || len(g.Adj) != len(g.W) {
		return errors.New("partition: graph offsets do not match its edges")
	}
	for c := 0; c < k; c++ {
		if g.Sizes[c] < 0 {
			return fmt.Errorf("partition: cell %d has %d rows", c, g.Sizes[c])
		}
		if g.Start[c] > g.Start[c+1] {
			return fmt.Errorf("partition: cell %d: offsets decrease", c)
		}
		for e := g.Start[c]; e < g.Start[c+1]; e++ {
			d := g.Adj[e]
			if d < 0 || int(d) >= k || int(d) == c {
				return fmt.Errorf("partition: cell %d: neighbour %d out of range or itself", c, d)
			}
			if !(g.W[e] > 0) || math.IsInf(g.W[e], 0) {
				return fmt.Errorf("partition: cell %d: edge weight %v to %d", c, g.W[e], d)
			}
			if e > g.Start[c] && g.Adj[e-1] >= d {
				return fmt.Errorf("partition: cell %d: neighbours not strictly increasing", c)
			}
			if w, ok := g.weight(int(d), c); !ok || w != g.W[e] {
				return fmt.Errorf("partition: edge %d-%d is not symmetric", c, d)
			}
		}
	}
	return nil
}

// weight returns the weight of edge c-d by binary search in c's sorted list.
func (g *Graph) weight(c, d int) (float64, bool) {
	adj := g.Adj[g.Start[c]:g.Start[c+1]]
	i, ok := slices.BinarySearch(adj, int32(d))
	if !ok {
		return 0, false
	}
	return g.W[int(g.Start[c])+i], true
}

// Builder accumulates directed counts between cells and turns them into a
// symmetric Graph.
type Builder struct {
	sizes []int
	edges map[[2]int32]float64
}

// NewBuilder returns a Builder for cells with the given row counts (the
// slice is copied).
func NewBuilder(sizes []int) *Builder {
	return &Builder{sizes: slices.Clone(sizes), edges: make(map[[2]int32]float64)}
}

// Add adds w to the edge between cells a and b (order does not matter);
// a == b is ignored, since an edge inside a cell is never cut.
func (b *Builder) Add(a, c int, w float64) {
	if a == c {
		return
	}
	if a > c {
		a, c = c, a
	}
	b.edges[[2]int32{int32(a), int32(c)}] += w
}

// Graph returns the graph built so far.
func (b *Builder) Graph() *Graph {
	k := len(b.sizes)
	g := &Graph{Sizes: slices.Clone(b.sizes), Start: make([]int32, k+1)}
	keys := make([][2]int32, 0, len(b.edges))
	for e, w := range b.edges {
		if w > 0 {
			keys = append(keys, e)
		}
	}
	for _, e := range keys {
		g.Start[e[0]+1]++
		g.Start[e[1]+1]++
	}
	for c := 0; c < k; c++ {
		g.Start[c+1] += g.Start[c]
	}
	g.Adj = make([]int32, len(keys)*2)
	g.W = make([]float64, len(keys)*2)
	fill := slices.Clone(g.Start[:k])
	for _, e := range keys {
		w := b.edges[e]
		for _, ab := range [2][2]int32{{e[0], e[1]}, {e[1], e[0]}} {
			p := fill[ab[0]]
			fill[ab[0]]++
			g.Adj[p], g.W[p] = ab[1], w
		}
	}
	// Sort each neighbour list (map order is random; the result must not be).
	for c := 0; c < k; c++ {
		lo, hi := g.Start[c], g.Start[c+1]
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = int(lo) + i
		}
		slices.SortFunc(idx, func(x, y int) int { return int(g.Adj[x]) - int(g.Adj[y]) })
		adj := make([]int32, len(idx))
		w := make([]float64, len(idx))
		for i, j := range idx {
			adj[i], w[i] = g.Adj[j], g.W[j]
		}
		copy(g.Adj[lo:hi], adj)
		copy(g.W[lo:hi], w)
	}
	return g
}

// Options controls Refine.
type Options struct {
	// Shards is the number of shards (>= 1); a start may leave some empty.
	Shards int
	// Lo and Hi bound every shard's rows (0 <= Lo <= Hi). Refine fails if
	// it cannot bring every shard inside them.
	Lo, Hi float64
	// Steps is the number of annealing proposals per restart (0: 4000 per
	// cell, at least 1,000,000).
	Steps int
	// Restarts is the number of independent annealing runs from the
	// repaired start; the best result wins (0: 4).
	Restarts int
	// Seed drives every random choice.
	Seed uint64
	// Old, when not nil, is the shard of every cell before a reshard:
	// rows of cells whose shard differs from Old count as moved, every
	// moved row costs MoveCost internal weight, and no step that would
	// take the moved rows above MoveBudget is taken (Refine fails with
	// ErrWindow if the window cannot be reached within it).
	Old        []int
	MoveCost   float64
	MoveBudget int
	// SwapOnly keeps the number of cells of every shard as in the start:
	// the annealing only swaps, and the repair phase swaps instead of
	// moving. PgDog's bare centroid array needs it (centroid i belongs to
	// shard i % Shards, so every shard owns the same number of cells).
	SwapOnly bool
}

// Result is a refined assignment.
type Result struct {
	ShardOf  []int   // shard of every cell
	Loads    []int   // rows per shard
	Internal float64 // edge weight inside shards (each edge once)
	Total    float64 // all edge weight (each edge once)
	Moved    int     // rows of cells whose shard differs from Options.Old
	Restart  int     // the restart that won
}

// ErrWindow is returned (wrapped, with the loads reached) when no
// assignment within [Lo, Hi] was found.
var ErrWindow = errors.New("cannot bring every shard within the size window")

// Refine improves start (the shard of every cell, in [0, Shards)) as
// described in the package documentation. start is not modified.
func Refine(g *Graph, start []int, opt Options) (*Result, error) {
	k := g.Cells()
	if len(start) != k {
		return nil, fmt.Errorf("partition: start has %d entries for %d cells", len(start), k)
	}
	if opt.Shards < 1 || opt.Shards > max(k, 1) {
		return nil, fmt.Errorf("partition: %d shards for %d cells", opt.Shards, k)
	}
	if !(opt.Lo >= 0 && opt.Lo <= opt.Hi) {
		return nil, fmt.Errorf("partition: window [%v, %v]", opt.Lo, opt.Hi)
	}
	for c, s := range start {
		if s < 0 || s >= opt.Shards {
			return nil, fmt.Errorf("partition: cell %d starts on shard %d of %d", c, s, opt.Shards)
		}
	}
	if opt.Old != nil && len(opt.Old) != k {
		return nil, fmt.Errorf("partition: old has %d entries for %d cells", len(opt.Old), k)
	}
	if opt.Steps == 0 {
		opt.Steps = max(1_000_000, 4000*k)
	}
	if opt.Restarts == 0 {
		opt.Restarts = 4
	}
	if opt.Old == nil {
		opt.MoveBudget = math.MaxInt
	}
	st := newState(g, start, opt)
	if err := st.repair(); err != nil {
		return nil, err
	}
	base := st.clone()
	var best *state
	win := 0
	for r := 0; r < opt.Restarts; r++ {
		s := base.clone()
		s.rng = rand.New(rand.NewPCG(opt.Seed, uint64(r)))
		s.anneal()
		if best == nil || s.bestScore > best.bestScore {
			best, win = s, r
		}
	}
	best.restoreBest()
	return best.result(win), nil
}

// state is one assignment with its bookkeeping.
type state struct {
	g      *Graph
	opt    Options
	k, ns  int
	part   []int
	load   []int
	conn   []float64 // conn[c*ns+s]: weight from cell c to cells on shard s
	count  []int     // cells per shard
	moved  int
	total  float64
	intern float64
	rng    *rand.Rand
	// The best feasible assignment seen by anneal.
	bestPart  []int
	bestScore float64
}

func newState(g *Graph, start []int, opt Options) *state {
	s := &state{g: g, opt: opt, k: g.Cells(), ns: opt.Shards}
	s.part = slices.Clone(start)
	s.load = make([]int, s.ns)
	s.count = make([]int, s.ns)
	s.conn = make([]float64, s.k*s.ns)
	for c := 0; c < s.k; c++ {
		p := s.part[c]
		s.load[p] += g.Sizes[c]
		s.count[p]++
		if s.opt.Old != nil && p != s.opt.Old[c] {
			s.moved += g.Sizes[c]
		}
		for e := g.Start[c]; e < g.Start[c+1]; e++ {
			d := g.Adj[e]
			s.conn[c*s.ns+s.part[d]] += g.W[e]
			s.total += g.W[e]
			if s.part[d] == p {
				s.intern += g.W[e]
			}
		}
	}
	s.total /= 2
	s.intern /= 2
	return s
}

func (s *state) clone() *state {
	c := *s
	c.part = slices.Clone(s.part)
	c.load = slices.Clone(s.load)
	c.conn = slices.Clone(s.conn)
	c.count = slices.Clone(s.count)
	c.bestPart = slices.Clone(s.bestPart)
	return &c
}

// score is what the annealing maximises.
func (s *state) score() float64 { return s.intern - s.opt.MoveCost*float64(s.moved) }

// movedDelta is the change of moved rows when cell c goes to shard to.
func (s *state) movedDelta(c, to int) int {
	if s.opt.Old == nil {
		return 0
	}
	d := 0
	if s.part[c] != s.opt.Old[c] {
		d -= s.g.Sizes[c]
	}
	if to != s.opt.Old[c] {
		d += s.g.Sizes[c]
	}
	return d
}

// move puts cell c on shard to, updating every neighbour's connections.
func (s *state) move(c, to int) {
	from := s.part[c]
	if from == to {
		return
	}
	g := s.g
	s.moved += s.movedDelta(c, to)
	s.intern += s.conn[c*s.ns+to] - s.conn[c*s.ns+from]
	s.load[from] -= g.Sizes[c]
	s.load[to] += g.Sizes[c]
	s.count[from]--
	s.count[to]++
	s.part[c] = to
	for e := g.Start[c]; e < g.Start[c+1]; e++ {
		d := int(g.Adj[e])
		s.conn[d*s.ns+from] -= g.W[e]
		s.conn[d*s.ns+to] += g.W[e]
	}
}

// violation is how far load l is outside the window, in rows.
func (s *state) violation(l int) float64 {
	x := float64(l)
	switch {
	case x > s.opt.Hi:
		return x - s.opt.Hi
	case x < s.opt.Lo:
		return s.opt.Lo - x
	}
	return 0
}

func (s *state) inWindow(l int) bool { return s.violation(l) == 0 }

func (s *state) totalViolation() float64 {
	v := 0.0
	for _, l := range s.load {
		v += s.violation(l)
	}
	return v
}

// moveGain is the change of score when cell c goes to shard to.
func (s *state) moveGain(c, to int) float64 {
	from := s.part[c]
	return s.conn[c*s.ns+to] - s.conn[c*s.ns+from] - s.opt.MoveCost*float64(s.movedDelta(c, to))
}

// swapGain is the change of score when cells a and b (on different shards)
// trade shards.
func (s *state) swapGain(a, b int) float64 {
	pa, pb := s.part[a], s.part[b]
	w, _ := s.g.weight(a, b)
	gain := s.conn[a*s.ns+pb] - s.conn[a*s.ns+pa] + s.conn[b*s.ns+pa] - s.conn[b*s.ns+pb] - 2*w
	dm := s.movedDelta(a, pb) + s.movedDelta(b, pa)
	return gain - s.opt.MoveCost*float64(dm)
}

// repair moves (or swaps) cells until every shard is within the window,
// each step the one that lowers the total violation most, ties broken by
// the larger gain. It fails when no step lowers the violation.
func (s *state) repair() error {
	for step := 0; ; step++ {
		if s.totalViolation() == 0 {
			return nil
		}
		if step > 20*s.k+100 {
			break
		}
		best := repairStep{gain: math.Inf(-1), c: -1, to: -1, swap: -1}
		if !s.opt.SwapOnly {
			s.repairMoves(&best)
		}
		if best.c < 0 {
			// No single move helps: try swaps.
			s.repairSwaps(&best)
		}
		if best.c < 0 {
			break
		}
		if best.swap >= 0 {
			from := s.part[best.c]
			s.move(best.c, best.to)
			s.move(best.swap, from)
		} else {
			s.move(best.c, best.to)
		}
	}
	return fmt.Errorf("%w of %.1f..%.1f rows: the closest reached is %v", ErrWindow, s.opt.Lo, s.opt.Hi, s.load)
}

// repairStep is the best step a round of repair has found so far: move
// cell c to shard to or, when swap >= 0, swap c with cell swap of shard
// to; c < 0 while none is found.
type repairStep struct {
	dv, gain    float64 // the change of total violation (rows) and of score
	c, to, swap int
}

// consider keeps the step if it lowers the violation and has the largest
// gain among those that do (the smaller dv on a tie): taking the largest
// reduction instead would fill an empty shard with the biggest cells
// wherever they are.
func (b *repairStep) consider(dv, gain float64, c, to, swap int) {
	if dv < -1e-9 && (gain > b.gain || (gain == b.gain && dv < b.dv)) {
		*b = repairStep{dv: dv, gain: gain, c: c, to: to, swap: swap}
	}
}

// repairMoves considers single moves in tiers, the first that has a move
// wins: moves that improve both shards (an overfull shard giving to an
// underfull one), moves that make neither worse (so filling one shard
// opens no hole in another), then any move that lowers the total.
func (s *state) repairMoves(best *repairStep) {
	sz := s.g.Sizes
	for tier := 0; tier < 3 && best.c < 0; tier++ {
		for c := 0; c < s.k; c++ {
			from := s.part[c]
			lf := s.load[from]
			vf, vf2 := s.violation(lf), s.violation(lf-sz[c])
			if (tier == 0 && vf2 >= vf) || (tier == 1 && vf2 > vf) {
				continue
			}
			for to := 0; to < s.ns; to++ {
				if to == from || !s.budgetOK(s.movedDelta(c, to)) {
					continue
				}
				lt := s.load[to]
				vt, vt2 := s.violation(lt), s.violation(lt+sz[c])
				if (tier == 0 && vt2 >= vt) || (tier == 1 && vt2 > vt) {
					continue
				}
				if dv := vf2 + vt2 - vf - vt; dv < 0 {
					best.consider(dv, s.moveGain(c, to), c, to, -1)
				}
			}
		}
	}
}

// repairSwaps considers swaps between a cell of a shard outside the window
// and a cell of another size on any other shard (cells of the same size
// change no load).
func (s *state) repairSwaps(best *repairStep) {
	sz := s.g.Sizes
	for a := 0; a < s.k; a++ {
		pa := s.part[a]
		la := s.load[pa]
		if s.violation(la) == 0 {
			continue
		}
		for b := 0; b < s.k; b++ {
			pb := s.part[b]
			if pb == pa || sz[a] == sz[b] || !s.budgetOK(s.movedDelta(a, pb)+s.movedDelta(b, pa)) {
				continue
			}
			lb := s.load[pb]
			na, nb := la-sz[a]+sz[b], lb-sz[b]+sz[a]
			dv := s.violation(na) + s.violation(nb) - s.violation(la) - s.violation(lb)
			if dv < 0 {
				best.consider(dv, s.swapGain(a, b), a, pb, b)
			}
		}
	}
}

// anneal runs simulated annealing from the current (feasible) assignment.
// A proposal picks a random cell c and, through a random edge of c, a
// neighbouring shard t; it moves c to t when both shards stay in the window,
// else swaps c with a random cell of t adjacent to c's shard. Gains are
// accepted with the Metropolis rule at a temperature that falls
// geometrically from the mean edge weight of a cell to a thousandth of it.
func (s *state) anneal() {
	g := s.g
	s.bestPart = slices.Clone(s.part)
	s.bestScore = s.score()
	if s.k < 2 || s.ns < 2 || len(g.Adj) == 0 {
		return
	}
	t0 := 0.0
	for _, w := range g.W {
		t0 += w
	}
	t0 /= float64(s.k) * 4
	tEnd := t0 / 1000
	cool := math.Pow(tEnd/t0, 1/float64(max(1, s.opt.Steps)))
	temp := t0
	sz := g.Sizes
	for step := 0; step < s.opt.Steps; step, temp = step+1, temp*cool {
		c := s.rng.IntN(s.k)
		lo, hi := int(g.Start[c]), int(g.Start[c+1])
		if lo == hi {
			continue
		}
		d := int(g.Adj[lo+s.rng.IntN(hi-lo)])
		from, to := s.part[c], s.part[d]
		if from == to {
			continue
		}
		var gain float64
		swap := -1
		if !s.opt.SwapOnly && s.inWindow(s.load[from]-sz[c]) && s.inWindow(s.load[to]+sz[c]) &&
			s.budgetOK(s.movedDelta(c, to)) {
			gain = s.moveGain(c, to)
		} else {
			// Swap with a cell of shard to: d itself or, half the time, a
			// random neighbour of d on shard to (keeps swaps local).
			e := d
			if dl, dh := int(g.Start[d]), int(g.Start[d+1]); dh > dl && s.rng.IntN(2) == 0 {
				if x := int(g.Adj[dl+s.rng.IntN(dh-dl)]); s.part[x] == to {
					e = x
				}
			}
			if !s.inWindow(s.load[from]-sz[c]+sz[e]) || !s.inWindow(s.load[to]-sz[e]+sz[c]) {
				continue
			}
			if !s.budgetOK(s.movedDelta(c, to) + s.movedDelta(e, from)) {
				continue
			}
			gain = s.swapGain(c, e)
			swap = e
		}
		if gain < 0 && s.rng.Float64() >= math.Exp(gain/temp) {
			continue
		}
		s.move(c, to)
		if swap >= 0 {
			s.move(swap, from)
		}
		if sc := s.score(); sc > s.bestScore+1e-9 {
			s.bestScore = sc
			copy(s.bestPart, s.part)
		}
	}
}

// budgetOK reports whether a step that changes the moved rows by dm is
// allowed: it stays within the budget or does not add to the moved rows
// (the repair phase may have ended above the budget).
func (s *state) budgetOK(dm int) bool {
	return dm <= 0 || s.moved+dm <= s.opt.MoveBudget
}

// restoreBest moves every cell back to its best-seen shard.
func (s *state) restoreBest() {
	for c, p := range s.bestPart {
		s.move(c, p)
	}
}

func (s *state) result(restart int) *Result {
	// Recompute from scratch: the incremental sums drift by rounding.
	f := newState(s.g, s.part, s.opt)
	return &Result{
		ShardOf: f.part, Loads: f.load, Internal: f.intern, Total: f.total,
		Moved: f.moved, Restart: restart,
	}
}
