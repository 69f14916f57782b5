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
	n, k := p.x.Rows, p.k
	limit := max((n+k-1)/k, int(math.Floor(p.cfg.Balance*float64(n)/float64(k))))
	// Keep half a percent of headroom so that another implementation's
	// rounding at cell boundaries does not tip a full cell over.
	limit = max((n+k-1)/k, limit-limit/200)
	mean := n / k
	scores := make([]float32, n*k)
	first := make([]float32, n)  // best score
	best := make([]int32, n)     // best centroid
	second := make([]float32, n) // best score among the other centroids
	secIdx := make([]int32, n)
	// The step bound of an overfull cell grows while it stays overfull
	// round after round (far from its goal).
	step := make([]float64, k)
	last := make([]int, k)
	for j := range step {
		step[j] = maxStep
	}
	// scores holds x_i . c_j for every point and centroid. The first round
	// computes all of them; later rounds only the columns of the centroids
	// the previous round moved (the others are unchanged, and the kernel
	// computes a pair's product the same way in any column subset), so a
	// round costs the moved centroids, not every point against every
	// centroid.
	moved := make([]bool, k)
	for j := range moved {
		moved[j] = true
	}
	var cols []int
	var sub Matrix
	for round := 0; round < maxRounds; round++ {
		cols = cols[:0]
		for j, m := range moved {
			if m {
				cols = append(cols, j)
			}
		}
		if len(cols) == k {
			sub = s.c
		} else {
			sub = NewMatrix(len(cols), p.x.Dim)
			for t, j := range cols {
				copy(sub.Row(t), s.c.Row(j))
			}
		}
		forChunks(n, p.cfg.Workers, func(_, lo, hi int) {
			if len(cols) == k {
				dotBlock(p.x, lo, hi, s.c, 0, k, scores[lo*k:hi*k], k)
			} else if len(cols) > 0 {
				m := len(cols)
				block := make([]float32, (hi-lo)*m)
				dotBlock(p.x, lo, hi, sub, 0, m, block, m)
				for i := lo; i < hi; i++ {
					row := block[(i-lo)*m : (i-lo+1)*m]
					sc := scores[i*k : (i+1)*k]
					for t, j := range cols {
						sc[j] = row[t]
					}
				}
			}
			for i := lo; i < hi; i++ {
				sc := scores[i*k : (i+1)*k]
				b, b2i, b1, b2 := 0, 0, float32(math.Inf(-1)), float32(math.Inf(-1))
				for j := range sc {
					v := s.score(sc[j], j)
					if v > b1 {
						b, b2i, b1, b2 = j, b, v, b1
					} else if v > b2 {
						b2i, b2 = j, v
					}
				}
				best[i], first[i], second[i], secIdx[i] = int32(b), b1, b2, int32(b2i)
			}
		})
		members := make([][]int32, k)
		runnersUp := make([][]int32, k)
		for i, b := range best {
			members[b] = append(members[b], int32(i))
			runnersUp[secIdx[i]] = append(runnersUp[secIdx[i]], int32(i))
		}
		over := false
		for j := range members {
			if len(members[j]) > limit {
				over = true
			}
		}
		if !over {
			if debugBalance {
				println("rebalanced in", round, "rounds")
			}
			return
		}
		clear(moved)
		forEach(k, p.cfg.Workers, func(j int) {
			before := slices.Clone(s.c.Row(j))
			defer func() { moved[j] = !slices.Equal(before, s.c.Row(j)) }()
			m := members[j]
			dir := 0
			switch {
			case len(m) > limit:
				dir = -1
			case len(m) < mean && len(runnersUp[j]) > 0:
				dir = +1
			}
			switch {
			case dir != -1:
				// Pulls stay small: growing cells distort the most.
				step[j] = maxStep
			case dir == last[j]:
				step[j] = min(step[j]*1.5, maxGrownStep)
			default:
				step[j] = max(maxStep, step[j]/2)
			}
			last[j] = dir
			switch {
			case len(m) > limit:
				// Aim a little below the limit: neighbours moving in the
				// same round push points into this cell.
				excess := min(len(m)-1, len(m)-limit+limit/50)
				// Prefer the points whose runner-up cell has room, so the
				// move does not just overfill a neighbour.
				gap := func(i int32) float32 {
					g := first[i] - second[i]
					if len(members[secIdx[i]]) >= limit {
						g += 1e3
					}
					return g
				}
				p.moveCentroid(s, j, m, gap, excess, -1, step[j], func(i int32, v float64) bool { return v < float64(second[i]) })
			case len(m) < mean:
				r := runnersUp[j]
				if len(r) == 0 {
					return
				}
				// Take only points of overfull cells.
				r = slices.DeleteFunc(r, func(i int32) bool { return len(members[best[i]]) <= limit })
				if len(r) == 0 {
					return
				}
				gap := func(i int32) float32 { return first[i] - second[i] }
				want := min(len(r), (mean-len(m)+1)/2)
				p.moveCentroid(s, j, r, gap, want, +1, step[j], func(i int32, v float64) bool { return v > float64(first[i]) })
			}
		})
		p.refresh(s)
	}
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
	d := p.x.Dim
	slices.SortFunc(pts, func(a, b int32) int {
		if c := cmp.Compare(gap(a), gap(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	u := make([]float64, d)
	for _, i := range pts[:want] {
		addTo(u, p.x.Row(int(i)))
	}
	c := s.c.Row(j)
	cosine := p.cfg.Metric == centroids.Cosine
	var cu float64
	for t := range u {
		u[t] /= float64(want)
		cu += float64(c[t]) * u[t]
	}
	w := make([]float32, d)
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
		return
	}
	for t := range w {
		w[t] = float32(float64(w[t]) / math.Sqrt(wn))
	}
	// Per point: a = x.c, b = x.w; the new score for a step th along w
	// (negative: away) has a closed form.
	a := make([]float32, len(pts))
	b := make([]float32, len(pts))
	for t, i := range pts {
		x := p.x.Row(int(i))
		a[t] = dot(x, c)
		b[t] = dot(x, w)
	}
	cw := float64(dot(c, w))
	half := float64(s.half[j])
	count := func(th float64) int {
		th *= float64(dir)
		cnt := 0
		for t, i := range pts {
			var v float64
			switch p.cfg.Metric {
			case centroids.Cosine:
				v = math.Cos(th)*float64(a[t]) + math.Sin(th)*float64(b[t]) - half
			case centroids.L2:
				v = float64(a[t]) + th*float64(b[t]) - (half + th*cw + th*th/2)
			default:
				v = float64(a[t]) + th*float64(b[t])
			}
			if moved(i, v) {
				cnt++
			}
		}
		return cnt
	}
	// Small steps only: the search is first-order in the other cells.
	hi := maxStep
	if !cosine {
		hi = maxStep * math.Sqrt(float64(dot(c, c)))
	}
	lo := 0.0
	for it := 0; it < 30; it++ {
		mid := (lo + hi) / 2
		if count(mid) >= want {
			hi = mid
		} else {
			lo = mid
		}
	}
	th := hi * float64(dir)
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
