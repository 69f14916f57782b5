package kmeans

import (
	"cmp"
	"slices"
)

// AssignShards maps k = len(sizes) centroids onto shards (k >= shards >= 1)
// so that the number of points per shard, the sum of the sizes of its
// centroids, is as even as possible and every shard owns at least one
// centroid. Centroids are placed largest first into the least-loaded shard
// (ties: the lower shard), then single moves and pairwise swaps between the
// fullest shard and the others are applied while they lower the fullest
// shard's load. With k == shards, centroid i goes to shard i.
func AssignShards(sizes []int, shards int) []int {
	k := len(sizes)
	shardOf := make([]int, k)
	if k == shards {
		for i := range shardOf {
			shardOf[i] = i
		}
		return shardOf
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	load := make([]int, shards)
	owned := make([]int, shards)
	for n, c := range order {
		s := n // the first shards centroids open one shard each
		if n >= shards {
			s = 0
			for t := 1; t < shards; t++ {
				if load[t] < load[s] {
					s = t
				}
			}
		}
		shardOf[c] = s
		load[s] += sizes[c]
		owned[s]++
	}
	// Local search: improve the fullest shard by a move or a swap.
	for round := 0; round < 10*k; round++ {
		hi := 0
		for t := range load {
			if load[t] > load[hi] {
				hi = t
			}
		}
		improved := false
		for c := 0; c < k && !improved; c++ {
			if shardOf[c] != hi || sizes[c] == 0 {
				continue
			}
			for lo := 0; lo < shards && !improved; lo++ {
				if lo == hi {
					continue
				}
				// Move c to lo.
				if owned[hi] > 1 && load[lo]+sizes[c] < load[hi] {
					shardOf[c] = lo
					load[hi] -= sizes[c]
					load[lo] += sizes[c]
					owned[hi]--
					owned[lo]++
					improved = true
					break
				}
				// Swap c with a smaller centroid e of lo.
				for e := 0; e < k; e++ {
					if shardOf[e] != lo || sizes[e] >= sizes[c] {
						continue
					}
					diff := sizes[c] - sizes[e]
					if load[lo]+diff < load[hi] {
						shardOf[c], shardOf[e] = lo, hi
						load[hi] -= diff
						load[lo] += diff
						improved = true
						break
					}
				}
			}
		}
		if !improved {
			break
		}
	}
	return shardOf
}
