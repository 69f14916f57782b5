package kmeans

import (
	"cmp"
	"math"
	"slices"
)

// assignBalanced is the capacity-constrained assignment step used when
// Config.Balance > 0. Every shard holds at most
// cap = max(ceil(n/shards), floor(Balance*n/shards)) points. Points are
// taken in order of decreasing margin (best score minus second-best, so
// the points with the most to lose go first) and each goes to its most
// similar centroid whose shard still has room. With k > shards the
// centroid-to-shard map is recomputed from the previous step's sizes.
func (p *problem) assignBalanced(s *state, it int) float64 {
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
		// Spread the centroids by the sizes they would have unconstrained
		// (first step) or had in the previous constrained step.
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
