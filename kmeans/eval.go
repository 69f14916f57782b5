package kmeans

import (
	"fmt"
	"math"
	"sync"

	"github.com/vecshard/vecshard/centroids"
)

// EvalResult is the quality of a centroid set as a router.
type EvalResult struct {
	// Queries is the number of queries, TopK the neighbours per query.
	Queries, TopK int
	// Probes lists the probe counts and Recall the mean recall@TopK for
	// each: the fraction of a query's exact TopK neighbours (over the
	// training points) that lie on the shards of its Probes[i] most
	// similar centroids.
	Probes []int
	Recall []float64
	// ShardSizes counts the training points the router sends to each
	// shard; Imbalance is max/mean of it.
	ShardSizes []int
	Imbalance  float64
}

// scores is what the metric maximizes for query q and rows r:
// q.r / |r| for Cosine, q.r - |r|^2/2 for L2, q.r for InnerProduct.
func rowBias(m Matrix, metric centroids.Metric) (Matrix, []float32) {
	bias := make([]float32, m.Rows)
	switch metric {
	case centroids.Cosine:
		return Normalized(m), bias
	case centroids.L2:
		for i := range bias {
			r := m.Row(i)
			bias[i] = dot(r, r) / 2
		}
	}
	return m, bias
}

// Eval computes, for every row of queries, its exact topK neighbours among
// train by the set's metric (brute force on all cores; ties to the lower
// index) and the recall of searching only the shards of its p nearest
// centroids (set.TopP, as the router probes), for every p in probes. It
// also reports how evenly the router (set.Nearest) spreads train over the
// shards.
func Eval(train, queries Matrix, set *centroids.Set, topK int, probes []int, workers int) (*EvalResult, error) {
	return EvalProgress(train, queries, set, topK, probes, workers, nil)
}

// EvalProgress is Eval that calls progress (if not nil, from any goroutine
// but never concurrently) with the number of queries whose exact
// neighbours were just found, the long step.
func EvalProgress(train, queries Matrix, set *centroids.Set, topK int, probes []int, workers int, progress func(queries int)) (*EvalResult, error) {
	k := set.K()
	switch {
	case train.Dim != set.Dim() || queries.Dim != set.Dim():
		return nil, fmt.Errorf("eval: dimensions differ: train %d, queries %d, centroids %d", train.Dim, queries.Dim, set.Dim())
	case topK < 1 || topK > train.Rows:
		return nil, fmt.Errorf("eval: top-%d of %d training points", topK, train.Rows)
	}
	for _, p := range probes {
		if p < 1 || p > k {
			return nil, fmt.Errorf("eval: %d probes with %d centroids", p, k)
		}
	}
	routed := Place(train, set, workers)
	res := &EvalResult{Queries: queries.Rows, TopK: topK, Probes: probes, Recall: make([]float64, len(probes)), ShardSizes: make([]int, set.Shards())}
	pointShard := make([]int32, train.Rows)
	for i, c := range routed {
		sh := set.ShardOf(int(c))
		pointShard[i] = int32(sh)
		res.ShardSizes[sh]++
	}
	res.Imbalance = Imbalance(res.ShardSizes)
	if queries.Rows == 0 {
		return res, nil
	}
	neigh := exactTopK(train, queries, topK, set.Metric(), workers, progress)
	nc := (queries.Rows + chunkRows - 1) / chunkRows
	hits := make([][]int, nc)
	forChunks(queries.Rows, workers, func(ch, lo, hi int) {
		h := make([]int, len(probes))
		on := make([]bool, set.Shards())
		var top []int
		for q := lo; q < hi; q++ {
			for pi, p := range probes {
				top = set.TopP(queries.Row(q), p, top)
				clear(on)
				for _, c := range top {
					on[set.ShardOf(c)] = true
				}
				for _, n := range neigh[q*topK : (q+1)*topK] {
					if on[pointShard[n]] {
						h[pi]++
					}
				}
			}
		}
		hits[ch] = h
	})
	for pi := range probes {
		total := 0
		for _, h := range hits {
			total += h[pi]
		}
		res.Recall[pi] = float64(total) / float64(queries.Rows*topK)
	}
	return res, nil
}

// ExactTopK returns, for every query row, the indices of its topK most
// similar train rows by metric (Cosine: by cosine; L2: by Euclidean
// distance; InnerProduct: by dot product), best first, ties to the lower
// index, as queries.Rows*topK entries. It blocks queries and train rows so
// that both fit in cache and uses all workers.
func ExactTopK(train, queries Matrix, topK int, metric centroids.Metric, workers int) []int32 {
	return exactTopK(train, queries, topK, metric, workers, nil)
}

func exactTopK(train, queries Matrix, topK int, metric centroids.Metric, workers int, progress func(int)) []int32 {
	var mu sync.Mutex
	tm, tb := rowBias(train, metric)
	qm := queries
	if metric == centroids.Cosine {
		qm = Normalized(queries)
	}
	out := make([]int32, queries.Rows*topK)
	const qBlock, tBlock = 64, 128
	nq := (qm.Rows + qBlock - 1) / qBlock
	forEach(nq, workers, func(b int) {
		q0, q1 := b*qBlock, min(qm.Rows, (b+1)*qBlock)
		nb := q1 - q0
		bestS := make([]float32, nb*topK)
		bestI := make([]int32, nb*topK)
		for i := range bestS {
			bestS[i] = float32(math.Inf(-1))
			bestI[i] = -1
		}
		block := make([]float32, nb*tBlock)
		for t0 := 0; t0 < tm.Rows; t0 += tBlock {
			t1 := min(tm.Rows, t0+tBlock)
			dotBlock(qm, q0, q1, tm, t0, t1, block, tBlock)
			for qi := 0; qi < nb; qi++ {
				s := bestS[qi*topK : (qi+1)*topK]
				ix := bestI[qi*topK : (qi+1)*topK]
				row := block[qi*tBlock : qi*tBlock+(t1-t0)]
				for t, v := range row {
					v -= tb[t0+t]
					if v <= s[topK-1] {
						continue // not better than the worst kept (ties keep the lower index)
					}
					// Insert, keeping s sorted best first.
					p := topK - 1
					for p > 0 && s[p-1] < v {
						s[p], ix[p] = s[p-1], ix[p-1]
						p--
					}
					s[p], ix[p] = v, int32(t0+t)
				}
			}
		}
		copy(out[q0*topK:q1*topK], bestI)
		if progress != nil {
			mu.Lock()
			progress(nb)
			mu.Unlock()
		}
	})
	return out
}
