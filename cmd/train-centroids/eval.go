package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/kmeans"
)

// evalOptions are the flags of train-centroids eval.
type evalOptions struct {
	in                 inputFlags
	centroids, queries string
	probes             string
	topK, threads      int
	quiet              bool
}

func newEvalCmd(stderr io.Writer) *cobra.Command {
	var o evalOptions
	c := &cobra.Command{
		Use:   "eval --centroids FILE --input TRAIN --queries TEST [flags]",
		Short: "Measure a centroid file as a router: recall per probe count, balance",
		Long: `eval routes every query vector as the plugin would and measures how many of
its exact top-k neighbours among the training vectors (found by brute
force) lie on the shards searched, for each probe count, and how evenly the
centroids spread the training vectors over the shards.`,
		Example: `  train-centroids eval --centroids centroids.json -i train.fvecs --queries test.fvecs --probes 1,2,4`,
		Args:    cli.NoArgs,
		RunE:    cli.HelpIfBare(func(stdout io.Writer) error { return o.run(stdout, stderr) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.centroids, "centroids", "", "centroid `FILE` to evaluate (required)")
	o.in.register(fs, "training vectors (the data the shards hold)")
	fs.StringVar(&o.queries, "queries", "", "query vectors `FILE` (same formats as --input; required)")
	fs.StringVar(&o.probes, "probes", "1,2,4", "comma-separated probe counts")
	fs.IntVar(&o.topK, "topk", 10, "neighbours per query")
	fs.IntVar(&o.threads, "threads", 0, "goroutines (0: GOMAXPROCS)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bars")
	return c
}

func (o *evalOptions) run(stdout, stderr io.Writer) error {
	if o.centroids == "" || o.queries == "" {
		return cli.Usagef("eval needs --centroids FILE, --input TRAIN (or --dsn/--query) and --queries TEST")
	}
	if err := o.in.validate(); err != nil {
		return err
	}
	if _, err := o.in.formatOf(o.queries); err != nil {
		return err
	}
	var ps []int
	for _, s := range strings.Split(o.probes, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 1 {
			return &cli.UsageError{Err: cli.Wrapf(err, "--probes %s: %q is not a count (want e.g. --probes 1,2,4)", o.probes, s)}
		}
		ps = append(ps, p)
	}
	if o.topK < 1 {
		return cli.Usagef("--topk %d: want at least 1", o.topK)
	}
	f, err := centroids.Load(o.centroids)
	if err != nil {
		return fmt.Errorf("--centroids: %w", err)
	}
	start := time.Now()
	train, _, _, err := o.in.read(o.in.input, 1, o.in.sample, o.quiet, stderr)
	if err != nil {
		return err
	}
	q, _, _, err := o.in.read(o.queries, 1, 0, o.quiet, stderr)
	if err != nil {
		return err
	}
	set, err := centroids.New(f)
	if err != nil {
		return fmt.Errorf("--centroids: %w", err)
	}
	var progress func(int)
	if bar := cli.NewProgress(stderr, o.quiet, int64(q.Rows), "exact neighbours (queries)", false); bar != nil {
		defer bar.Finish()
		progress = func(n int) { bar.Add(n) }
	}
	res, err := kmeans.EvalProgress(train, q, set, o.topK, ps, o.threads, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "centroids   %s (k %d, shards %d, %s)\n", o.centroids, set.K(), set.Shards(), set.Metric())
	fmt.Fprintf(stdout, "train       %d x %d\n", train.Rows, train.Dim)
	fmt.Fprintf(stdout, "queries     %d\n", q.Rows)
	for i, p := range res.Probes {
		fmt.Fprintf(stdout, "recall@%d    probes %d: %.4f\n", res.TopK, p, res.Recall[i])
	}
	printLoads(stdout, res.ShardSizes, 0, "training rows")
	held := make([]int, set.Shards())
	for _, c := range kmeans.Place(q, set, o.threads) {
		held[set.ShardOf(int(c))]++
	}
	fmt.Fprintf(stdout, "held-out    imbalance %.3f max/mean queries per shard, smallest shard %d queries\n", kmeans.Imbalance(held), slices.Min(held))
	fmt.Fprintf(stdout, "time        %.3fs\n", time.Since(start).Seconds())
	return nil
}
