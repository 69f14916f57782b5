package kmeans

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/partition"
)

// GroupConfig controls Group.
type GroupConfig struct {
	// Shards is the number of shards (1 <= Shards <= number of cells).
	Shards int
	// Balance F >= 1 puts every shard within [1/F, F] times the mean rows
	// per shard (0: 1.05).
	Balance float64
	// Neighbours is how many near neighbours of every row weigh the edges
	// between cells (0: 10, the recall@10 the grouping is judged by).
	Neighbours int
	// Probes is how many cells, those most similar to a row's own cell,
	// are searched for the row's neighbours (0: 16). The neighbours are
	// exact within those cells; one in a farther cell is missed. On
	// Fashion-MNIST (16 shards of 32 cells) 16 probes gave recall@10 0.906
	// where 8 gave 0.897-0.900: the edges of rows near cell borders matter.
	Probes int
	// Steps and Restarts control the annealing (see partition.Options).
	Steps, Restarts int
	// Seed drives the initial grouping and the annealing.
	Seed int64
	// SwapOnly gives every shard the same number of cells (see
	// partition.Options.SwapOnly); Shards must divide the number of cells.
	SwapOnly bool
	// Workers is the number of goroutines (0: GOMAXPROCS).
	Workers int
}

// Grouping is the outcome of Group.
type Grouping struct {
	// ShardOf is the shard of every cell, Sizes the rows of every cell and
	// Loads the rows of every shard (rows placed by Set.Nearest).
	ShardOf, Sizes, Loads []int
	// CellOf is the cell of every row.
	CellOf []int32
	// Graph is the neighbour graph the grouping was optimised on.
	Graph *partition.Graph
	// Internal is the fraction of the graph's edge weight inside shards.
	Internal float64
	// Place, Graph and Group time the phases.
	PlaceTime, GraphTime, GroupTime time.Duration
}

// Place returns the cell of every row of x by set.Nearest, the placement
// the router uses, on up to workers goroutines.
func Place(x Matrix, set *centroids.Set, workers int) []int32 {
	out := make([]int32, x.Rows)
	forChunks(x.Rows, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			c, _ := set.Nearest(x.Row(i))
			out[i] = int32(c)
		}
	})
	return out
}

// Group assigns the cells of set (its centroids) to shards: every row of x
// is placed in its cell, every row's near neighbours (among the rows of x)
// weigh the edges between cells, the cells are clustered by their centroids
// into Shards groups as a start, and partition.Refine brings every shard
// within the Balance window while keeping neighbouring cells together.
// x holds the rows as the router sees them (not normalised).
func Group(x Matrix, set *centroids.Set, cfg GroupConfig) (*Grouping, error) {
	k := set.K()
	switch {
	case cfg.Shards < 1 || cfg.Shards > k:
		return nil, fmt.Errorf("group %d cells into %d shards: need 1 <= shards <= cells", k, cfg.Shards)
	case x.Dim != set.Dim():
		return nil, fmt.Errorf("rows have %d dimensions, the cells %d", x.Dim, set.Dim())
	case cfg.SwapOnly && k%cfg.Shards != 0:
		return nil, fmt.Errorf("%d cells cannot be spread evenly over %d shards", k, cfg.Shards)
	case cfg.Balance != 0 && !(cfg.Balance >= 1):
		return nil, fmt.Errorf("balance %v must be at least 1", cfg.Balance)
	}
	graphDefaults(&cfg.Balance, &cfg.Neighbours, &cfg.Probes)
	out, cells := prepare(x, set, cfg.Neighbours, cfg.Probes, cfg.Workers)
	t := time.Now()
	start, err := startGroups(cells, out.Sizes, cfg)
	if err != nil {
		return nil, err
	}
	mean := float64(x.Rows) / float64(cfg.Shards)
	res, err := partition.Refine(out.Graph, start, partition.Options{
		Shards: cfg.Shards, Lo: mean / cfg.Balance, Hi: mean * cfg.Balance,
		Steps: cfg.Steps, Restarts: cfg.Restarts, Seed: uint64(cfg.Seed), SwapOnly: cfg.SwapOnly,
	})
	if err != nil {
		return nil, err
	}
	out.GroupTime = time.Since(t)
	out.ShardOf, out.Loads = res.ShardOf, res.Loads
	if res.Total > 0 {
		out.Internal = res.Internal / res.Total
	}
	return out, nil
}

// graphDefaults fills in the defaults Group and Reshard share: the 1.05
// window, 10 neighbours, 16 probed cells.
func graphDefaults(balance *float64, neighbours, probes *int) {
	if *balance == 0 {
		*balance = 1.05
	}
	if *neighbours == 0 {
		*neighbours = 10
	}
	if *probes == 0 {
		*probes = 16
	}
}

// prepare places the rows of x in the cells of set and builds their
// neighbour graph.
func prepare(x Matrix, set *centroids.Set, neighbours, probes, workers int) (*Grouping, Matrix) {
	out := &Grouping{}
	t := time.Now()
	out.CellOf = Place(x, set, workers)
	out.Sizes = make([]int, set.K())
	for _, c := range out.CellOf {
		out.Sizes[c]++
	}
	out.PlaceTime = time.Since(t)
	t = time.Now()
	cells := setRows(set)
	out.Graph = NeighbourGraph(x, set, out.CellOf, neighbours, probes, workers)
	out.GraphTime = time.Since(t)
	return out, cells
}

// ReshardConfig controls Reshard.
type ReshardConfig struct {
	// Shards is the new number of shards, at least the old one.
	Shards int
	// Balance F puts every new shard within [1/F, F] times the new mean
	// (0: 1.05).
	Balance float64
	// MaxMove caps the rows that change shard, as a fraction of all rows
	// (0: 1.1 x added/Shards, 10% over the least any balanced layout with
	// the added shards filled must move).
	MaxMove float64
	// MoveCost is what moving one row costs in neighbour pairs kept
	// together (0: 1): the annealing takes a move only when it keeps that
	// many more (row, neighbour) pairs on one shard per row moved.
	MoveCost float64
	// Steps is the number of annealing proposals per restart (0: 16,000
	// per cell, at least 1,000,000: four times Group's, since a reshard
	// anneals under a tight row budget; on Fashion-MNIST 16 -> 17 shards,
	// 8x the steps kept 0.2 points more recall@10).
	// Neighbours, Probes, Restarts, Seed and Workers are as in
	// GroupConfig.
	Neighbours, Probes, Steps, Restarts int
	Seed                                int64
	Workers                             int
}

// Resharding is the outcome of Reshard.
type Resharding struct {
	Grouping
	// OldShardOf and OldLoads are the layout before, on the same rows.
	OldShardOf, OldLoads []int
	// Moved is the number of rows whose shard changes; Least is the fewest
	// any layout within the window must move (the rows the added shards
	// need to reach the window's floor, or that the old shards must shed
	// to reach its ceiling, whichever is more).
	Moved, Least int
}

// Reshard spreads the cells of old (a centroid file with shards) over
// cfg.Shards shards without retraining: every shard within the Balance
// window on the rows of x, whole cells moved, the fewest rows moved (within
// MaxMove) and neighbouring cells kept together.
func Reshard(x Matrix, old *centroids.File, cfg ReshardConfig) (*Resharding, error) {
	if old.Shards < 1 {
		return nil, fmt.Errorf("the old centroid file is PgDog's bare array (no shard count): a shard cannot be added by moving its cells, since centroid i is on shard i %% n for every n")
	}
	set, err := centroids.New(old)
	if err != nil {
		return nil, err
	}
	k, s0 := set.K(), old.Shards
	switch {
	case cfg.Shards < s0:
		return nil, fmt.Errorf("--shards %d is fewer than the %d shards of the old layout: only growing is supported", cfg.Shards, s0)
	case cfg.Shards > k:
		return nil, fmt.Errorf("%d shards need at least %d cells, the old layout has %d: retrain with more cells", cfg.Shards, cfg.Shards, k)
	case x.Dim != set.Dim():
		return nil, fmt.Errorf("rows have %d dimensions, the centroid file %d", x.Dim, set.Dim())
	case x.Rows == 0:
		return nil, fmt.Errorf("no rows to weigh the cells by")
	case cfg.Balance != 0 && !(cfg.Balance >= 1):
		return nil, fmt.Errorf("balance %v must be at least 1", cfg.Balance)
	}
	graphDefaults(&cfg.Balance, &cfg.Neighbours, &cfg.Probes)
	if cfg.MoveCost == 0 {
		cfg.MoveCost = 1
	}
	if cfg.Steps == 0 {
		cfg.Steps = max(1_000_000, 16_000*k)
	}
	added := cfg.Shards - s0
	if cfg.MaxMove == 0 {
		cfg.MaxMove = 1.1 * float64(added) / float64(cfg.Shards)
	}
	g, _ := prepare(x, set, cfg.Neighbours, cfg.Probes, cfg.Workers)
	out := &Resharding{Grouping: *g}
	out.OldShardOf = make([]int, k)
	out.OldLoads = make([]int, s0)
	for c := range out.OldShardOf {
		out.OldShardOf[c] = set.ShardOf(c)
		out.OldLoads[out.OldShardOf[c]] += g.Sizes[c]
	}
	mean := float64(x.Rows) / float64(cfg.Shards)
	lo, hi := mean/cfg.Balance, mean*cfg.Balance
	shed := 0.0
	for _, l := range out.OldLoads {
		shed += max(0, float64(l)-hi)
	}
	out.Least = int(math.Ceil(max(float64(added)*lo, shed)))
	t := time.Now()
	res, err := partition.Refine(g.Graph, out.OldShardOf, partition.Options{
		Shards: cfg.Shards, Lo: lo, Hi: hi, Steps: cfg.Steps, Restarts: cfg.Restarts, Seed: uint64(cfg.Seed),
		Old: out.OldShardOf, MoveCost: cfg.MoveCost, MoveBudget: int(cfg.MaxMove * float64(x.Rows)),
	})
	if err != nil {
		return nil, err
	}
	out.GroupTime = time.Since(t)
	out.ShardOf, out.Loads, out.Moved = res.ShardOf, res.Loads, res.Moved
	if res.Total > 0 {
		out.Internal = res.Internal / res.Total
	}
	return out, nil
}

// setRows returns the centroids of set as a Matrix (unit rows for Cosine).
func setRows(set *centroids.Set) Matrix {
	m := NewMatrix(set.K(), set.Dim())
	for j := 0; j < m.Rows; j++ {
		set.Centroid(j, m.Row(j))
	}
	return m
}

// startGroups clusters the cells into cfg.Shards groups by their centroids
// (k-means on the centroids, each weighted once), a start that is compact
// but not balanced: partition.Refine balances it. With SwapOnly every
// group gets exactly cells/Shards cells, filled in order of the cells'
// similarity to their group's centroid.
func startGroups(cells Matrix, sizes []int, cfg GroupConfig) ([]int, error) {
	k, s := cells.Rows, cfg.Shards
	start := make([]int, k)
	if s == k {
		for c := range start {
			start[c] = c
		}
		return start, nil
	}
	metric := centroids.Cosine
	res, err := Train(cells, Config{K: s, Metric: metric, Iters: 30, Seed: cfg.Seed, Restarts: 3, Workers: cfg.Workers})
	if err != nil {
		return nil, err
	}
	if !cfg.SwapOnly {
		for c, a := range res.Assign {
			start[c] = int(a)
		}
		return start, nil
	}
	// Equal counts: every cell ranks the groups; cells with the largest
	// margin choose first.
	per := k / s
	g := Normalized(res.Centroids)
	cn := Normalized(cells)
	sc := make([]float32, k*s)
	dotBlock(cn, 0, k, g, 0, s, sc, s)
	type pref struct {
		c      int
		margin float32
	}
	prefs := make([]pref, k)
	for c := range prefs {
		row := sc[c*s : (c+1)*s]
		b1, b2 := float32(math.Inf(-1)), float32(math.Inf(-1))
		for _, v := range row {
			if v > b1 {
				b1, b2 = v, b1
			} else if v > b2 {
				b2 = v
			}
		}
		prefs[c] = pref{c, b1 - b2}
	}
	slices.SortStableFunc(prefs, func(a, b pref) int { return descending(a.margin, b.margin) })
	count := make([]int, s)
	for _, p := range prefs {
		row := sc[p.c*s : (p.c+1)*s]
		best := -1
		for j, v := range row {
			if count[j] < per && (best < 0 || v > row[best]) {
				best = j
			}
		}
		start[p.c] = best
		count[best]++
	}
	return start, nil
}

// NeighbourGraph returns the graph on the cells in which the edge between
// cells a and b weighs how many (row, neighbour) pairs join them: for every
// row of x, its n most similar other rows by metric (searched in the rows
// of the probes cells most similar to its own cell; ties to the lower row)
// each add 1 to the edge between the row's cell and the neighbour's.
// cellOf is the cell of every row (the centroids of set), and the cells
// most similar to a cell are those set.TopP ranks first for its centroid.
// The counts are integers, so the result does not depend on the number of
// goroutines.
func NeighbourGraph(x Matrix, set *centroids.Set, cellOf []int32, n, probes, workers int) *partition.Graph {
	k := set.K()
	sizes, start, order := groupByCell(cellOf, k, x.Rows)
	gm, gb := rowBias(groupedRows(x, set.Metric(), order), set.Metric()) // gm == grouped unless Cosine (already unit)
	ns := neighbourSearch{
		gm: gm, gb: gb, order: order, start: start, cellOf: cellOf,
		near: nearCells(set, min(probes, k), workers), n: n,
	}
	parts := make([]map[[2]int32]float64, k)
	forEach(k, workers, func(a int) { parts[a] = ns.cellEdges(a) })
	b := partition.NewBuilder(sizes)
	for _, edges := range parts {
		for e, w := range edges {
			b.Add(int(e[0]), int(e[1]), w)
		}
	}
	return b.Graph()
}

// groupByCell orders the rows by cell (in row order within a cell), so
// that a cell's rows are contiguous for the kernel: the rows of cell c are
// order[start[c]:start[c+1]], and sizes[c] is their count.
func groupByCell(cellOf []int32, k, rows int) (sizes, start []int, order []int32) {
	sizes = make([]int, k)
	for _, c := range cellOf {
		sizes[c]++
	}
	start = make([]int, k+1)
	for c, s := range sizes {
		start[c+1] = start[c] + s
	}
	order = make([]int32, rows)
	fill := slices.Clone(start[:k])
	for i, c := range cellOf {
		order[fill[c]] = int32(i)
		fill[c]++
	}
	return sizes, start, order
}

// groupedRows copies the rows of x in order (unit rows for Cosine, whose
// scores are then plain products).
func groupedRows(x Matrix, metric centroids.Metric, order []int32) Matrix {
	xs := x
	if metric == centroids.Cosine {
		xs = Normalized(x)
	}
	grouped := NewMatrix(x.Rows, x.Dim)
	for p, i := range order {
		copy(grouped.Row(p), xs.Row(int(i)))
	}
	return grouped
}

// nearCells lists, for every cell a, the cells whose rows are searched for
// the rows of a: the probes cells most similar to a's centroid, a itself
// always among them (first, normally), so a row's own cell is searched
// even when its centroid ranks others above it.
func nearCells(set *centroids.Set, probes, workers int) [][]int {
	near := make([][]int, set.K())
	forEach(set.K(), workers, func(a int) {
		c := set.Centroid(a, make([]float32, set.Dim()))
		near[a] = set.TopP(c, probes, make([]int, 0, probes))
		if !slices.Contains(near[a], a) {
			near[a][len(near[a])-1] = a
		}
	})
	return near
}

// neighbourSearch is what every cell's search of NeighbourGraph reads; it
// is never written, so the cells are searched concurrently.
type neighbourSearch struct {
	gm     Matrix    // the rows grouped by cell (groupedRows, after rowBias)
	gb     []float32 // the bias rowBias subtracts from a product, per grouped row
	order  []int32   // the row of x at every grouped position
	start  []int     // the grouped rows of cell c are start[c]..start[c+1]
	cellOf []int32   // the cell of every row of x
	near   [][]int   // the cells searched for each cell's rows (nearCells)
	n      int       // neighbours per row
}

// cellEdges finds the n best neighbours of every row of cell a and counts
// them per edge from a to another cell (nil when a has no rows). The
// target rows are scored a block at a time so the block of scores of all
// of a's rows stays in cache.
func (ns *neighbourSearch) cellEdges(a int) map[[2]int32]float64 {
	n := ns.n
	q0, q1 := ns.start[a], ns.start[a+1]
	nq := q1 - q0
	if nq == 0 {
		return nil
	}
	bestS := make([]float32, nq*n)
	bestI := make([]int32, nq*n)
	for t := range bestS {
		bestS[t], bestI[t] = float32(math.Inf(-1)), -1
	}
	const tBlock = 256
	block := make([]float32, nq*tBlock)
	for _, c := range ns.near[a] {
		for t0 := ns.start[c]; t0 < ns.start[c+1]; t0 += tBlock {
			t1 := min(ns.start[c+1], t0+tBlock)
			dotBlock(ns.gm, q0, q1, ns.gm, t0, t1, block, tBlock)
			for qi := 0; qi < nq; qi++ {
				ns.offer(bestS[qi*n:(qi+1)*n], bestI[qi*n:(qi+1)*n], ns.order[q0+qi], t0, block[qi*tBlock:qi*tBlock+(t1-t0)])
			}
		}
	}
	edges := make(map[[2]int32]float64)
	for _, r := range bestI {
		if r < 0 {
			continue
		}
		if b := ns.cellOf[r]; b != int32(a) {
			edges[[2]int32{min(int32(a), b), max(int32(a), b)}]++
		}
	}
	return edges
}

// offer inserts the grouped rows t0.. with the products in block into the
// n best neighbours s (scores) and ix (rows) of row self, kept sorted best
// first; self is never its own neighbour.
func (ns *neighbourSearch) offer(s []float32, ix []int32, self int32, t0 int, block []float32) {
	n := len(s)
	for t, v := range block {
		r := ns.order[t0+t]
		if r == self {
			continue
		}
		v -= ns.gb[t0+t]
		if !better(v, r, s[n-1], ix[n-1]) {
			continue
		}
		p := n - 1
		for p > 0 && better(v, r, s[p-1], ix[p-1]) {
			s[p], ix[p] = s[p-1], ix[p-1]
			p--
		}
		s[p], ix[p] = v, r
	}
}

// better reports whether neighbour r with score v ranks before neighbour i
// with score s: a higher score, or the same score and a lower row; i < 0
// is an empty slot, which everything beats.
func better(v float32, r int32, s float32, i int32) bool {
	return i < 0 || v > s || (v == s && r < i)
}

// TrainCells trains cfg.K fine cells for cfg.Shards shards in two levels:
// Shards coarse clusters of all the points, then, inside every coarse
// cluster, a share of the K cells proportional to its points (largest
// remainder, at least one), and finally Refine iterations of Lloyd's
// algorithm over all the points from those cells, so that cells on the
// borders between coarse clusters settle as flat k-means would place them.
// Every level runs cfg.Iters iterations. It costs about Shards + K/Shards
// + Refine x K distance computations per point and iteration instead of
// K x Iters for flat k-means: on Fashion-MNIST at 64 x 16 cells a fifth of
// the time, with the same recall once grouped. cfg.Balance must be 0 and
// cfg.Init empty; the Result is that of the refinement.
func TrainCells(x Matrix, cfg Config, refine int) (*Result, error) {
	if cfg.Balance != 0 || cfg.Init.Rows != 0 {
		return nil, fmt.Errorf("TrainCells trains plain cells: no balance, no starting centroids")
	}
	k, s := cfg.K, cfg.Shards
	if s < 1 || k < s {
		return nil, fmt.Errorf("%d cells for %d shards: need cells >= shards >= 1", k, s)
	}
	if x.Rows < k {
		return nil, fmt.Errorf("%d points cannot make k = %d centroids", x.Rows, k)
	}
	if s == k || s == 1 {
		return Train(x, cfg)
	}
	coarse, err := Train(x, Config{K: s, Metric: cfg.Metric, Iters: cfg.Iters, Tol: cfg.Tol, Restarts: cfg.Restarts, Seed: cfg.Seed, Workers: cfg.Workers})
	if err != nil {
		return nil, err
	}
	members := make([][]int, s)
	for i, a := range coarse.Assign {
		members[a] = append(members[a], i)
	}
	// Cells per coarse cluster: proportional to its points, at least one,
	// at most its points; the largest remainders get the rest.
	share := make([]int, s)
	type rem struct {
		c int
		r float64
	}
	rems := make([]rem, s)
	given := 0
	for c, m := range members {
		exact := float64(k) * float64(len(m)) / float64(x.Rows)
		share[c] = min(len(m), max(1, int(exact)))
		given += share[c]
		rems[c] = rem{c, exact - float64(share[c])}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return descending(a.r, b.r) })
	for given != k {
		changed := false
		for _, r := range rems {
			c := r.c
			if given < k && share[c] < len(members[c]) {
				share[c]++
				given++
				changed = true
			} else if given > k && share[c] > 1 {
				share[c]--
				given--
				changed = true
			}
			if given == k {
				break
			}
		}
		if !changed {
			return nil, fmt.Errorf("cannot spread %d cells over %d coarse clusters", k, s)
		}
	}
	init := NewMatrix(k, x.Dim)
	row := 0
	for c, m := range members {
		sub := NewMatrix(len(m), x.Dim)
		for t, i := range m {
			copy(sub.Row(t), x.Row(i))
		}
		res, err := Train(sub, Config{K: share[c], Metric: cfg.Metric, Iters: cfg.Iters, Tol: cfg.Tol, Seed: cfg.Seed + int64(c) + 1, Workers: cfg.Workers})
		if err != nil {
			return nil, err
		}
		copy(init.Data[row*x.Dim:], res.Centroids.Data)
		row += share[c]
	}
	fine := cfg
	fine.Init, fine.Iters, fine.Restarts = init, max(1, refine), 1
	fine.Shards = k
	return Train(x, fine)
}

// descending orders larger values first for a stable sort; incomparable
// values (NaN) tie.
func descending[T float32 | float64](a, b T) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
