package bench

import (
	"math"
	"slices"
)

// This file restates, in Go, how PgDog's built-in vector sharding picks a
// shard (github.com/pgdogdev/pgdog at b4601264, August 2026), so that the
// benchmarks can compare it with centroids.Set on the same machine:
//
//   - pgdog-vector/src/lib.rs, Centroids::shard(vector, shards, probes):
//     collects the centroids with their indices into a new Vec (one heap
//     allocation of k (index, &Vector) pairs per query), sorts it with the
//     stable slice::sort_by, whose comparator computes distance_l2 of both
//     centroids to the query every time it is called (so distances are
//     recomputed O(k log k) times), maps NaN comparisons to Equal, takes the
//     first `probes` entries and pushes index % shards into a new Vec. It is
//     called from pgdog/src/frontend/router/parser/query/select.rs for an
//     ORDER BY on a vector column; probes is the table's centroid_probes
//     (default ceil(sqrt(k))); the benchmarks use probes = 1.
//   - pgdog-vector/src/distance_simd_rust.rs, euclidean_distance: asserts
//     equal lengths and computes sqrt(Σ (q-p)²) in float32. A default x86-64
//     Rust build has SSE but not AVX2 enabled (PgDog's .cargo/config.toml sets
//     no target-cpu), so the SSE variant runs: two 4-wide accumulators over
//     8-float chunks, multiply then add, a shuffle reduction, a scalar tail.
//     pgdogL2 repeats it in SSE assembly on amd64 and pgdogL2Go elsewhere.
//
// Go's slices.SortStableFunc (insertion sort of 20-element blocks, then
// in-place merges) is not Rust's driftsort, so the number of comparisons
// differs somewhat; the benchmark reports it as "l2/op".

// pgdogEntry is the (usize, &Vector) pair PgDog sorts.
type pgdogEntry struct {
	i int
	c []float32
}

// pgdogShard is Centroids::shard. It also returns how many distances it
// computed.
func pgdogShard(centroids [][]float32, vector []float32, shards, probes int) ([]int, int) {
	var selected []int
	entries := make([]pgdogEntry, 0, len(centroids))
	for i, c := range centroids {
		entries = append(entries, pgdogEntry{i, c})
	}
	n := 0
	slices.SortStableFunc(entries, func(a, b pgdogEntry) int {
		da, db := pgdogDistance(a.c, vector), pgdogDistance(b.c, vector)
		n += 2
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0 // equal, or NaN: partial_cmp(..).unwrap_or(Equal)
	})
	for _, e := range entries[:min(probes, len(entries))] {
		selected = append(selected, e.i%shards)
	}
	return selected, n
}

// pgdogDistance is Vector::distance_l2 -> Distance::Euclidean.
func pgdogDistance(p, q []float32) float32 {
	if len(p) != len(q) {
		panic("assertion `left == right` failed") // assert_eq!(p.len(), q.len())
	}
	return pgdogL2(p, q)
}

// pgdogL2Go is euclidean_distance_sse in scalar Go, lane for lane: lanes
// s1[0..3] take elements 8c+0..3 of each chunk c and s2[0..3] elements
// 8c+4..7; the reduction adds s1+s2, then lanes (0+2, 1+3, ...) and (0+1);
// the tail is added serially; then sqrt.
func pgdogL2Go(p, q []float32) float32 {
	var s1, s2 [4]float32
	n := len(p) &^ 7
	for i := 0; i < n; i += 8 {
		for l := range 4 {
			d1 := q[i+l] - p[i+l]
			s1[l] += float32(d1 * d1) // the conversion forbids fusing into an FMA
			d2 := q[i+4+l] - p[i+4+l]
			s2[l] += float32(d2 * d2)
		}
	}
	var s [4]float32
	for l := range 4 {
		s[l] = s1[l] + s2[l]
	}
	// shuffle [2,3,0,1] and add, then shuffle [1,0,3,2] and add: lane 0 is
	// (s0+s2) + (s1+s3).
	total := (s[0] + s[2]) + (s[1] + s[3])
	for i := n; i < len(p); i++ {
		d := q[i] - p[i]
		total += float32(d * d)
	}
	return float32(math.Sqrt(float64(total)))
}
