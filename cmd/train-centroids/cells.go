package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// cellSummary prints what train-centroids made of fine cells grouped into
// shards.
func cellSummary(w io.Writer, x kmeans.Matrix, st vecio.Stats, cfg kmeans.Config, balance float64, how string, res *kmeans.Result, g *kmeans.Grouping, readTime, trainTime, elapsed time.Duration) {
	inputSummary(w, x, st, cfg)
	fmt.Fprintf(w, "cells       %d (%d per shard on average)\n", cfg.K, cfg.K/cfg.Shards)
	fmt.Fprintf(w, "shards      %d\n", cfg.Shards)
	fmt.Fprintf(w, "training    %s\n", how)
	fmt.Fprintf(w, "objective   %.6g (%s)\n", res.RoutedObjective, objectiveName(cfg.Metric))
	printLoads(w, g.Loads, balance, "training rows")
	fmt.Fprintf(w, "neighbours  %.1f%% of the training rows' 10 nearest neighbours (searched in 16 nearby cells) share the row's shard\n", 100*g.Internal)
	fmt.Fprintf(w, "time        %.3fs: reading %.3fs, training cells %.3fs, placing rows %.3fs, neighbour graph %.3fs, grouping %.3fs (%d threads)\n",
		elapsed.Seconds(), readTime.Seconds(), trainTime.Seconds(), g.PlaceTime.Seconds(), g.GraphTime.Seconds(), g.GroupTime.Seconds(), runtime.GOMAXPROCS(0))
}

// printLoads prints rows per shard, the imbalance and the smallest shard,
// against the window [1/balance, balance] x mean when balance > 0.
func printLoads(w io.Writer, loads []int, balance float64, what string) {
	total := 0
	for _, l := range loads {
		total += l
	}
	mean := float64(total) / float64(max(1, len(loads)))
	fmt.Fprintf(w, "per shard   %s\n", joinInts(loads))
	fmt.Fprintf(w, "imbalance   %.3f max/mean %s per shard", kmeans.Imbalance(loads), what)
	if balance > 0 {
		fmt.Fprintf(w, " (window %.3f..%.3f x mean)", 1/balance, balance)
	}
	fmt.Fprintln(w)
	if len(loads) > 0 {
		fmt.Fprintf(w, "smallest    %d %s (%.3f x mean)\n", slices.Min(loads), what, float64(slices.Min(loads))/mean)
	}
}

// heldOut is the evaluation of a layout on held-out queries.
type heldOut struct {
	queries int
	ev      *kmeans.EvalResult
	loads   []int
	time    time.Duration
}

// evalHeldOut reads --queries and evaluates f on them: recall@10 of the
// training rows at probes 1, 2 and 4 and how the queries themselves spread
// over the shards (rows inserted later are distributed like them).
func (o *trainOptions) evalHeldOut(x kmeans.Matrix, f *centroids.File, stderr io.Writer) (*heldOut, error) {
	t := time.Now()
	q, _, _, err := o.in.read(o.queries, 1, 0, o.quiet, stderr)
	if err != nil {
		return nil, fmt.Errorf("--queries: %w", err)
	}
	if q.Dim != x.Dim {
		return nil, fmt.Errorf("--queries %s: %d dimensions, the training vectors have %d", o.queries, q.Dim, x.Dim)
	}
	set, err := centroids.New(f)
	if err != nil {
		return nil, err
	}
	var probes []int
	for _, p := range []int{1, 2, 4} {
		if p <= set.K() {
			probes = append(probes, p)
		}
	}
	var progress func(int)
	if bar := cli.NewProgress(stderr, o.quiet, int64(q.Rows), "held-out recall (exact neighbours)", false); bar != nil {
		defer bar.Finish()
		progress = func(n int) { bar.Add(n) }
	}
	ev, err := kmeans.EvalProgress(x, q, set, min(10, x.Rows), probes, o.threads, progress)
	if err != nil {
		return nil, err
	}
	loads := make([]int, set.Shards())
	for _, c := range kmeans.Place(q, set, o.threads) {
		loads[set.ShardOf(int(c))]++
	}
	return &heldOut{queries: q.Rows, ev: ev, loads: loads, time: time.Since(t)}, nil
}

func (h *heldOut) print(w io.Writer) {
	fmt.Fprintf(w, "held out    %d queries (%.3fs)\n", h.queries, h.time.Seconds())
	for i, p := range h.ev.Probes {
		fmt.Fprintf(w, "recall@%d    probes %d: %.4f\n", h.ev.TopK, p, h.ev.Recall[i])
	}
	fmt.Fprintf(w, "held-out    imbalance %.3f max/mean queries per shard, smallest shard %d queries\n", kmeans.Imbalance(h.loads), slices.Min(h.loads))
}
