package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// summary prints what was trained and how evenly the router will spread
// the training points.
func summary(w io.Writer, x kmeans.Matrix, st vecio.Stats, cfg kmeans.Config, res *kmeans.Result, readTime, elapsed time.Duration) {
	inputSummary(w, x, st, cfg)
	fmt.Fprintf(w, "k           %d\n", cfg.K)
	fmt.Fprintf(w, "shards      %d\n", cfg.Shards)
	fmt.Fprintf(w, "iterations  %d (restart %d of %d won)\n", res.Iterations, res.Restart+1, max(1, cfg.Restarts))
	fmt.Fprintf(w, "objective   %.6g (%s)\n", res.RoutedObjective, objectiveName(cfg.Metric))
	if cfg.Balance > 0 {
		fmt.Fprintf(w, "balanced    %.6g objective of the capacity-constrained assignment (imbalance %.4f); routing by nearest centroid costs %+.3g%% objective\n",
			res.Objective, kmeans.Imbalance(shardSizes(res.Sizes, res.ShardOf, cfg.Shards)),
			100*(res.RoutedObjective-res.Objective)/res.Objective)
	}
	fmt.Fprintf(w, "per shard   %s\n", joinInts(res.ShardSizes))
	fmt.Fprintf(w, "imbalance   %.4f (max/mean points per shard, routed by nearest centroid)\n", kmeans.Imbalance(res.ShardSizes))
	fmt.Fprintf(w, "time        %.3fs (reading %.3fs, %d threads)\n", elapsed.Seconds(), readTime.Seconds(), runtime.GOMAXPROCS(0))
}

// inputSummary prints the lines every summary starts with: the points read,
// the rows skipped, the dimension and the metric.
func inputSummary(w io.Writer, x kmeans.Matrix, st vecio.Stats, cfg kmeans.Config) {
	sampled := ""
	if st.Sampled {
		sampled = fmt.Sprintf(" (uniform sample of %d rows)", st.Rows)
	}
	fmt.Fprintf(w, "points      %d%s\n", x.Rows, sampled)
	if st.Skipped > 0 {
		fmt.Fprintf(w, "skipped     %d bad rows\n", st.Skipped)
	}
	fmt.Fprintf(w, "dim         %d\n", x.Dim)
	fmt.Fprintf(w, "metric      %s\n", cfg.Metric)
}

func shardSizes(sizes, shardOf []int, shards int) []int {
	out := make([]int, shards)
	for j, s := range sizes {
		out[shardOf[j]] += s
	}
	return out
}

func objectiveName(m centroids.Metric) string {
	switch m {
	case centroids.Cosine:
		return "sum of 1 - cosine to the nearest centroid"
	case centroids.L2:
		return "sum of squared distances to the nearest centroid"
	}
	return "sum of -inner product with the best centroid"
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}
