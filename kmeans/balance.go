package kmeans

import (
	"cmp"
	"math"
	"slices"

	"github.com/vecshard/vecshard/centroids"
)

// assignBalanced is the capacity-constrained assignment step used when
// Config.Balance > 0. Every shard holds at most
// cap = max(ceil(n/shards), floor(Balance*n/shards)) points. Points are
// taken in order of decreasing margin (best score minus second-best, so
// the points with the most to lose go first) and each goes to its most
// similar centroid whose shard still has room. With k > shards the
// centroid-to-shard map is recomputed every step from the sizes the
// points would give the centroids without the cap.
func (p *problem) assignBalanced(s *state) float64 {
	n, k := p.x.Rows, p.k
	shards := p.cfg.Shards
	scores := make([]float32, n*k)
	margin := make([]float32, n)
	forChunks(n, p.cfg.Workers, func(_, lo, hi int) {
		dotBlock(p.x, lo, hi, s.c, 0, k, scores[lo*k:hi*k], k)
		for i := lo; i < hi; i++ {
			sc := scores[i*k : (i+1)*k]
			best, b1, b2 := 0, float32(math.Inf(-1)), float32(math.Inf(-1))
			for j := range sc {
				v := s.score(sc[j], j)
				sc[j] = v
				if v > b1 {
					best, b1, b2 = j, v, b1
				} else if v > b2 {
					b2 = v
				}
			}
			s.assign[i] = int32(best)
			margin[i] = b1 - b2
			if k == 1 {
				margin[i] = 0
			}
		}
	})
	if k == shards {
		s.shard = AssignShards(make([]int, k), shards)
	} else {
		// Spread the centroids by the sizes they would have unconstrained.
		s.shard = AssignShards(countSizes(s.assign, k), shards)
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(margin[b], margin[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	limit := max((n+shards-1)/shards, int(math.Floor(p.cfg.Balance*float64(n)/float64(shards))))
	load := make([]int, shards)
	var obj float64
	for _, i := range order {
		sc := scores[int(i)*k : int(i+1)*k]
		best, bv := -1, float32(math.Inf(-1))
		for j, v := range sc {
			if v > bv && load[s.shard[j]] < limit {
				best, bv = j, v
			}
		}
		s.assign[i] = int32(best)
		load[s.shard[best]]++
		cst := p.costOf(int(i), bv)
		s.cost[i] = cst
		obj += float64(cst)
	}
	return obj
}

// rebalanceRouted moves centroids, after capacity-constrained training,
// until routing every point to its most similar centroid also respects the
// per-centroid capacity (k == shards), or maxRounds passes. The means of a
// balanced partition need not have balanced Voronoi cells, and the router
// only sees the cells. Each round rescores the points against the
// centroids the round before moved (all of them in the first), then moves every
// centroid whose cell is too full away from the mean of its lowest-margin
// points (those nearest another cell), and every centroid whose cell is
// below the mean size towards the mean of the points of overfull cells
// that rank it second with the smallest gap: on the unit sphere by a rotation, otherwise
// along a straight line. Each step is the smallest (found by bisection)
// that moves the wanted number of those points, other centroids held
// fixed.
func (p *problem) rebalanceRouted(s *state) {
	const maxRounds = 150
	r := newRebalancer(p, s)
	for round := 0; round < maxRounds; round++ {
		r.rescore()
		if !r.group() {
			if debugBalance {
				println("rebalanced in", round, "rounds")
			}
			return
		}
		clear(r.moved)
		forEach(p.k, p.cfg.Workers, r.move)
		p.refresh(s)
	}
}

// rebalancer is the state rebalanceRouted carries from round to round.
type rebalancer struct {
	p *problem
	s *state
	// limit is the most points a cell may hold, mean the fewest a cell
	// is pulled up to.
	limit, mean int
	// scores holds x_i . c_j for every point and centroid, row-major.
	scores []float32
	first  []float32 // best score
	best   []int32   // best centroid
	second []float32 // best score among the other centroids
	secIdx []int32
	// The step bound of an overfull cell grows while it stays overfull
	// round after round (far from its goal): step is the bound, last the
	// direction of the centroid's last move.
	step []float64
	last []int
	// moved marks the centroids the last round moved, whose columns of
	// scores are stale; cols lists them.
	moved []bool
	cols  []int
	// members are the points of every cell, runnersUp the points that
	// rank every centroid second.
	members, runnersUp [][]int32
}

func newRebalancer(p *problem, s *state) *rebalancer {
	n, k := p.x.Rows, p.k
	limit := max((n+k-1)/k, int(math.Floor(p.cfg.Balance*float64(n)/float64(k))))
	// Keep half a percent of headroom so that another implementation's
	// rounding at cell boundaries does not tip a full cell over.
	limit = max((n+k-1)/k, limit-limit/200)
	r := &rebalancer{
		p: p, s: s, limit: limit, mean: n / k,
		scores: make([]float32, n*k),
		first:  make([]float32, n),
		best:   make([]int32, n),
		second: make([]float32, n),
		secIdx: make([]int32, n),
		step:   make([]float64, k),
		last:   make([]int, k),
		moved:  make([]bool, k),
	}
	for j := range r.step {
		r.step[j] = maxStep
	}
	for j := range r.moved {
		r.moved[j] = true
	}
	return r
}

// rescore brings scores up to date and ranks every point's centroids. The
// first round computes every column; later rounds only the columns of the
// centroids the previous round moved (the others are unchanged, and the
// kernel computes a pair's product the same way in any column subset), so
// a round costs the moved centroids, not every point against every
// centroid.
func (r *rebalancer) rescore() {
	p, s, k := r.p, r.s, r.p.k
	r.cols = r.cols[:0]
	for j, m := range r.moved {
		if m {
			r.cols = append(r.cols, j)
		}
	}
	cols := r.cols
	var sub Matrix
	if len(cols) == k {
		sub = s.c
	} else {
		sub = NewMatrix(len(cols), p.x.Dim)
		for t, j := range cols {
			copy(sub.Row(t), s.c.Row(j))
		}
	}
	forChunks(p.x.Rows, p.cfg.Workers, func(_, lo, hi int) {
		if len(cols) == k {
			dotBlock(p.x, lo, hi, s.c, 0, k, r.scores[lo*k:hi*k], k)
		} else if len(cols) > 0 {
			r.scoreColumns(sub, lo, hi)
		}
		r.rank(lo, hi)
	})
}

// scoreColumns scores the points lo..hi against sub, the moved centroids
// (cols), and writes the products into their columns of scores.
func (r *rebalancer) scoreColumns(sub Matrix, lo, hi int) {
	k, cols := r.p.k, r.cols
	m := len(cols)
	block := make([]float32, (hi-lo)*m)
	dotBlock(r.p.x, lo, hi, sub, 0, m, block, m)
	for i := lo; i < hi; i++ {
		row := block[(i-lo)*m : (i-lo+1)*m]
		sc := r.scores[i*k : (i+1)*k]
		for t, j := range cols {
			sc[j] = row[t]
		}
	}
}

// rank finds the best and the second-best centroid of the points lo..hi.
func (r *rebalancer) rank(lo, hi int) {
	k, s := r.p.k, r.s
	for i := lo; i < hi; i++ {
		sc := r.scores[i*k : (i+1)*k]
		b, b2i, b1, b2 := 0, 0, float32(math.Inf(-1)), float32(math.Inf(-1))
		for j := range sc {
			v := s.score(sc[j], j)
			if v > b1 {
				b, b2i, b1, b2 = j, b, v, b1
			} else if v > b2 {
				b2i, b2 = j, v
			}
		}
		r.best[i], r.first[i], r.second[i], r.secIdx[i] = int32(b), b1, b2, int32(b2i)
	}
}

// group fills members and runnersUp from the ranking and reports whether
// any cell holds more than limit points.
func (r *rebalancer) group() (over bool) {
	k := r.p.k
	r.members = make([][]int32, k)
	r.runnersUp = make([][]int32, k)
	for i, b := range r.best {
		r.members[b] = append(r.members[b], int32(i))
		r.runnersUp[r.secIdx[i]] = append(r.runnersUp[r.secIdx[i]], int32(i))
	}
	for j := range r.members {
		if len(r.members[j]) > r.limit {
			over = true
		}
	}
	return over
}

// move moves centroid j for this round: away from its lowest-margin
// points if its cell is overfull, towards the runner-up points of
// overfull cells if its cell is below the mean. It marks j moved if its
// row changed. It touches only centroid j's row and step, so the rounds
// run it for every centroid concurrently.
func (r *rebalancer) move(j int) {
	c := r.s.c.Row(j)
	before := slices.Clone(c)
	defer func() { r.moved[j] = !slices.Equal(before, c) }()
	m := r.members[j]
	r.adjustStep(j, len(m))
	switch {
	case len(m) > r.limit:
		r.shrink(j, m)
	case len(m) < r.mean:
		r.grow(j, len(m))
	}
}

// adjustStep sets the step bound of centroid j, whose cell holds size
// points, from the direction it moves this round and the last.
func (r *rebalancer) adjustStep(j, size int) {
	dir := 0
	switch {
	case size > r.limit:
		dir = -1
	case size < r.mean && len(r.runnersUp[j]) > 0:
		dir = +1
	}
	switch {
	case dir != -1:
		// Pulls stay small: growing cells distort the most.
		r.step[j] = maxStep
	case dir == r.last[j]:
		r.step[j] = min(r.step[j]*1.5, maxGrownStep)
	default:
		r.step[j] = max(maxStep, r.step[j]/2)
	}
	r.last[j] = dir
}

// shrink moves centroid j, whose cell m is overfull, away from the points
// of m nearest another cell until enough of them leave.
func (r *rebalancer) shrink(j int, m []int32) {
	limit := r.limit
	// Aim a little below the limit: neighbours moving in the
	// same round push points into this cell.
	excess := min(len(m)-1, len(m)-limit+limit/50)
	// Prefer the points whose runner-up cell has room, so the
	// move does not just overfill a neighbour.
	gap := func(i int32) float32 {
		g := r.first[i] - r.second[i]
		if len(r.members[r.secIdx[i]]) >= limit {
			g += 1e3
		}
		return g
	}
	r.p.moveCentroid(r.s, j, m, gap, excess, -1, r.step[j], func(i int32, v float64) bool { return v < float64(r.second[i]) })
}

// grow moves centroid j, whose cell of size points is below the mean,
// towards the points of overfull cells that rank it second, until about
// half its shortfall of them join.
func (r *rebalancer) grow(j, size int) {
	pts := r.runnersUp[j]
	if len(pts) == 0 {
		return
	}
	// Take only points of overfull cells.
	pts = slices.DeleteFunc(pts, func(i int32) bool { return len(r.members[r.best[i]]) <= r.limit })
	if len(pts) == 0 {
		return
	}
	gap := func(i int32) float32 { return r.first[i] - r.second[i] }
	want := min(len(pts), (r.mean-size+1)/2)
	r.p.moveCentroid(r.s, j, pts, gap, want, +1, r.step[j], func(i int32, v float64) bool { return v > float64(r.first[i]) })
}

// maxStep is the initial bound on one move: radians on the sphere, else a
// fraction of |c|.
const maxStep = 0.01

// maxGrownStep bounds the grown step of a cell that stays overfull.
const maxGrownStep = 0.1

// moveCentroid moves centroid j towards (dir +1) or away from (dir -1)
// the mean of the want points of pts with the smallest gap, by the
// smallest step after which moved(i, new score of i for j) holds for want
// points of pts.
func (p *problem) moveCentroid(s *state, j int, pts []int32, gap func(int32) float32, want, dir int, maxStep float64, moved func(int32, float64) bool) {
	if want <= 0 {
		return
	}
	slices.SortFunc(pts, func(a, b int32) int {
		if c := cmp.Compare(gap(a), gap(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	c := s.c.Row(j)
	w, ok := p.moveDirection(c, pts[:want])
	if !ok {
		return
	}
	l := p.newMoveLine(c, w, pts, float64(s.half[j]), dir, moved)
	// Small steps only: the search is first-order in the other cells.
	hi := maxStep
	if p.cfg.Metric != centroids.Cosine {
		hi = maxStep * math.Sqrt(float64(dot(c, c)))
	}
	p.stepCentroid(c, w, l.smallestStep(hi, want)*float64(dir))
}

// moveDirection is the unit direction from centroid c towards the mean of
// the points near: on the sphere its tangent component at c (a rotation
// keeps |c| = 1), otherwise the straight line. ok is false when c is
// already at the mean (there is no direction).
func (p *problem) moveDirection(c []float32, near []int32) (w []float32, ok bool) {
	d := p.x.Dim
	u := make([]float64, d)
	for _, i := range near {
		addTo(u, p.x.Row(int(i)))
	}
	cosine := p.cfg.Metric == centroids.Cosine
	var cu float64
	for t := range u {
		u[t] /= float64(len(near))
		cu += float64(c[t]) * u[t]
	}
	w = make([]float32, d)
	var wn float64
	for t := range u {
		v := u[t] - float64(c[t])
		if cosine {
			v = u[t] - cu*float64(c[t]) // tangent component
		}
		wn += v * v
		w[t] = float32(v)
	}
	if wn == 0 {
		return nil, false
	}
	for t := range w {
		w[t] = float32(float64(w[t]) / math.Sqrt(wn))
	}
	return w, true
}

// moveLine scores the points pts against a centroid c stepping th along
// the unit direction w (towards for dir +1, away for -1). Per point
// a = x.c and b = x.w, so the new score has a closed form in th and the
// search needs no more products.
type moveLine struct {
	metric centroids.Metric
	pts    []int32
	a, b   []float32
	cw     float64 // c.w
	half   float64 // |c|^2 / 2 (0 for inner product)
	dir    int
	moved  func(int32, float64) bool
}

func (p *problem) newMoveLine(c, w []float32, pts []int32, half float64, dir int, moved func(int32, float64) bool) *moveLine {
	a := make([]float32, len(pts))
	b := make([]float32, len(pts))
	for t, i := range pts {
		x := p.x.Row(int(i))
		a[t] = dot(x, c)
		b[t] = dot(x, w)
	}
	return &moveLine{metric: p.cfg.Metric, pts: pts, a: a, b: b, cw: float64(dot(c, w)), half: half, dir: dir, moved: moved}
}

// count is the number of points for which moved holds after a step th.
func (l *moveLine) count(th float64) int {
	th *= float64(l.dir)
	cnt := 0
	for t, i := range l.pts {
		var v float64
		switch l.metric {
		case centroids.Cosine:
			v = math.Cos(th)*float64(l.a[t]) + math.Sin(th)*float64(l.b[t]) - l.half
		case centroids.L2:
			v = float64(l.a[t]) + th*float64(l.b[t]) - (l.half + th*l.cw + th*th/2)
		default:
			v = float64(l.a[t]) + th*float64(l.b[t])
		}
		if l.moved(i, v) {
			cnt++
		}
	}
	return cnt
}

// smallestStep bisects 0..hi (30 halvings) for the smallest step that
// moves want points; hi itself when no smaller one does.
func (l *moveLine) smallestStep(hi float64, want int) float64 {
	lo := 0.0
	for it := 0; it < 30; it++ {
		mid := (lo + hi) / 2
		if l.count(mid) >= want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// stepCentroid moves c by th along w: a rotation on the sphere (then
// renormalised against rounding), otherwise a straight step.
func (p *problem) stepCentroid(c, w []float32, th float64) {
	cosine := p.cfg.Metric == centroids.Cosine
	for t := range c {
		if cosine {
			c[t] = float32(math.Cos(th)*float64(c[t]) + math.Sin(th)*float64(w[t]))
		} else {
			c[t] += float32(th) * w[t]
		}
	}
	if cosine {
		normalizeInto(c, c)
	}
}

// debugBalance prints the number of rebalancing rounds (for tuning).
const debugBalance = false
