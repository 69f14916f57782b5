package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/internal/atomicfile"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/partition"
)

// trainOptions are train-centroids' flags.
type trainOptions struct {
	in                           inputFlags
	metric                       string
	k, shards, iters, restarts   int
	cellsPerShard                int
	threads                      int
	tol, balance                 float64
	seed                         int64
	out, pgdogOut, plot, created string
	queries                      string
	refine                       int
	dryRun, quiet, flatCells     bool
}

func newTrainCmd(stderr io.Writer) *cobra.Command {
	var o trainOptions
	c := &cobra.Command{
		Use:   "train-centroids --input FILE (--shards N --cells-per-shard M | --k K [--shards N]) --out FILE [flags]",
		Short: "Train the centroid file vecshard routes pgvector queries by",
		Long: `train-centroids trains k centroids on sample vectors (spherical k-means for
cosine, plain k-means for l2 and inner_product), assigns them to shards, and
writes the vecshard-centroids/1 file the plugin's configuration names (--out)
and/or PgDog's bare centroid array (--pgdog-out).

With more centroids than shards (--cells-per-shard M, or --k above --shards)
the centroids are fine cells, grouped into shards so that every shard holds
between 1/F and F times the mean rows (--balance F, default 1.05) and
neighbouring cells share a shard: every training row's 10 nearest neighbours
weigh the edges between cells, and a balanced partition keeps the heaviest
edges inside shards. This is the layout to use: k-means with k = shards
leaves shards up to twice the mean, and a layout of cells can grow (see
train-centroids reshard). --queries evaluates the result on held-out rows.

Input is a file (--input) or a PostgreSQL query (--dsn with --query), never
both. Every flag and output path is checked before training starts.`,
		Example: `  train-centroids -i vectors.txt -s 16 --cells-per-shard 32 -o centroids.json --queries heldout.txt
  train-centroids -i vectors.txt -k 64 -s 16 -o centroids.json --plot sizes.png
  train-centroids -i items.csv --column embedding -k 16 -o centroids.json --balance 1.1
  train-centroids --dsn postgres://localhost/app --query "SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)" \
      -k 64 -s 64 -o centroids.json --pgdog-out pgdog-centroids.json
  train-centroids eval --centroids centroids.json -i train.fvecs --queries test.fvecs --probes 1,2,4`,
		Args: cli.NoArgs,
		RunE: cli.HelpIfBare(func(stdout io.Writer) error { return o.run(stdout, stderr) }),
	}
	fs := c.Flags()
	o.in.register(fs, "training vectors")
	fs.IntVarP(&o.k, "k", "k", 0, "number of centroids `K` (k >= shards; or give --cells-per-shard)")
	fs.IntVarP(&o.shards, "shards", "s", 0, "number of shards `N` (default k)")
	fs.IntVarP(&o.cellsPerShard, "cells-per-shard", "m", 0, "train `M` x shards fine cells and group them into shards (needs --shards; e.g. 16 or 32)")
	fs.BoolVar(&o.flatCells, "flat-cells", false, "train the cells by flat k-means over all of them (slower; the default trains shards coarse clusters, then cells inside each, then --refine iterations over all)")
	fs.IntVar(&o.refine, "refine", 5, "`N` Lloyd iterations over all the cells after the two-level training")
	fs.StringVar(&o.queries, "queries", "", "held-out query vectors `FILE` (same formats as --input): report recall@10 at probes 1/2/4 and their imbalance")
	fs.StringVar(&o.metric, "metric", "cosine", "similarity the router uses: cosine, l2, inner_product")
	fs.IntVar(&o.iters, "iters", 20, "maximum number of Lloyd iterations")
	fs.Float64Var(&o.tol, "tol", 0, "stop when an iteration improves the objective by less than this fraction")
	fs.IntVar(&o.restarts, "restarts", 1, "independent runs; the best objective is kept")
	fs.Int64Var(&o.seed, "seed", 1, "random seed (sampling, seeding)")
	fs.Float64Var(&o.balance, "balance", 0, "with cells: every shard within 1/`F`..F x the mean rows (default 1.05); with k == shards: cap every shard at F x the mean during training (0: off)")
	fs.IntVar(&o.threads, "threads", 0, "goroutines (0: GOMAXPROCS); does not change the result")
	fs.StringVarP(&o.out, "out", "o", "", "write the vecshard-centroids/1 `FILE` here")
	fs.StringVar(&o.pgdogOut, "pgdog-out", "", "write PgDog's bare centroid array `FILE` here (centroid i on shard i % shards: k must be a multiple of shards, and every shard then owns k/shards cells)")
	fs.StringVar(&o.plot, "plot", "", "write a PNG bar chart `FILE` of points per shard and per centroid")
	fs.StringVar(&o.created, "created", "", `training.created in --out: an RFC 3339 time or "now" (empty: omitted, so output bytes depend only on the input)`)
	fs.BoolVar(&o.dryRun, "dry-run", false, "train and print the summary without writing a centroid file (no --out needed)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bars")
	return c
}

// validate checks every flag and output path, so that nothing is found
// wrong after minutes of training.
func (o *trainOptions) validate() (centroids.Metric, string, error) {
	m, err := centroids.ParseMetric(o.metric)
	if err != nil {
		return 0, "", cli.Usagef("--metric %q: want cosine, l2 or inner_product", o.metric)
	}
	if err := o.in.validate(); err != nil {
		return 0, "", err
	}
	if o.cellsPerShard != 0 {
		switch {
		case o.cellsPerShard < 1:
			return 0, "", cli.Usagef("--cells-per-shard %d: want at least 1 (e.g. 16 or 32)", o.cellsPerShard)
		case o.shards < 1:
			return 0, "", cli.Usagef("--cells-per-shard needs --shards: the cells are cells-per-shard x shards")
		case o.k != 0 && o.k != o.cellsPerShard*o.shards:
			return 0, "", cli.Usagef("--k %d disagrees with --cells-per-shard %d x --shards %d = %d: give one of --k and --cells-per-shard", o.k, o.cellsPerShard, o.shards, o.cellsPerShard*o.shards)
		}
		o.k = o.cellsPerShard * o.shards
	}
	switch {
	case o.k < 1:
		return 0, "", cli.Usagef("--k is required: the number of centroids (at least the number of shards; e.g. --shards 16 --cells-per-shard 32, or --k 64 --shards 16)")
	case o.shards < 0:
		return 0, "", cli.Usagef("--shards %d: want at least 1 (or leave it out: k)", o.shards)
	}
	if o.shards == 0 {
		o.shards = o.k
	}
	switch {
	case o.k < o.shards:
		return 0, "", cli.Usagef("--k %d is less than --shards %d: every shard needs at least one centroid", o.k, o.shards)
	case o.pgdogOut != "" && o.k%o.shards != 0:
		return 0, "", cli.Usagef("--pgdog-out: PgDog's bare array puts centroid i on shard i %% shards, so every shard owns the same number of centroids; %d centroids cannot be spread evenly over %d shards (use --cells-per-shard, or a k that is a multiple of %d)", o.k, o.shards, o.shards)
	case o.out == "" && o.pgdogOut == "" && !o.dryRun:
		return 0, "", cli.Usagef("no output: give --out FILE (and/or --pgdog-out FILE), or --dry-run to train without writing")
	case o.dryRun && (o.out != "" || o.pgdogOut != ""):
		return 0, "", cli.Usagef("--dry-run writes no centroid file: drop it, or drop --out/--pgdog-out")
	case o.refine < 1:
		return 0, "", cli.Usagef("--refine %d: want at least 1", o.refine)
	case o.iters < 0 || o.restarts < 0 || o.tol < 0:
		return 0, "", cli.Usagef("--iters, --restarts and --tol must not be negative")
	case o.balance != 0 && o.balance < 1:
		return 0, "", cli.Usagef("--balance %v: want 0 (off) or at least 1 (a shard may hold F times the mean)", o.balance)
	}
	created := o.created
	if created == "now" {
		created = time.Now().UTC().Format(time.RFC3339)
	} else if created != "" {
		if _, err := time.Parse(time.RFC3339, created); err != nil {
			return 0, "", cli.Usagef("--created %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or now", created)
		}
	}
	if o.queries != "" {
		if _, err := o.in.formatOf(o.queries); err != nil {
			return 0, "", err
		}
	}
	for _, p := range []struct{ flag, path string }{{"--out", o.out}, {"--pgdog-out", o.pgdogOut}, {"--plot", o.plot}} {
		if p.path == "" {
			continue
		}
		if err := atomicfile.CheckDir(p.path); err != nil {
			return 0, "", fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	return m, created, nil
}

func (o *trainOptions) run(stdout, stderr io.Writer) error {
	m, createdAt, err := o.validate()
	if err != nil {
		return err
	}
	start := time.Now()
	x, st, source, err := o.in.read(o.in.input, o.seed, o.in.sample, o.quiet, stderr)
	if err != nil {
		return err
	}
	readTime := time.Since(start)

	cells := o.k > o.shards
	cfg := kmeans.Config{
		K: o.k, Metric: m, Iters: o.iters, Tol: o.tol, Restarts: o.restarts, Seed: o.seed,
		Shards: o.shards, Balance: o.balance, Workers: o.threads,
	}
	if cells {
		// Plain k-means for the cells; the balance is the grouping's.
		cfg.Balance = 0
		if o.balance == 0 {
			o.balance = 1.05
		}
	}
	if bar := cli.NewProgress(stderr, o.quiet, int64(max(1, o.restarts)*(o.iters+1)), "training", false); bar != nil {
		cfg.Progress = func(r, it int, obj float64) {
			bar.Describe(fmt.Sprintf("restart %d, objective %.6g", r+1, obj))
			bar.Set(r*(o.iters+1) + it + 1)
		}
		defer bar.Finish()
	}
	var res *kmeans.Result
	if cells && !o.flatCells {
		res, err = kmeans.TrainCells(x, cfg, o.refine)
	} else {
		res, err = kmeans.Train(x, cfg)
	}
	if err != nil {
		return err
	}
	trainTime := time.Since(start) - readTime

	file := &centroids.File{
		Metric: m, Dim: x.Dim, Shards: o.shards, ShardOf: res.ShardOf,
		Centroids: make([][]float32, o.k),
		Training: &centroids.Training{
			Points: x.Rows, Iterations: res.Iterations, Seed: o.seed,
			Objective: res.RoutedObjective, Sizes: res.RoutedSizes,
			Source: source, Created: createdAt,
		},
	}
	for j := range file.Centroids {
		file.Centroids[j] = res.Centroids.Row(j)
	}
	shardSizes := res.ShardSizes
	var g *kmeans.Grouping
	if cells {
		set, err := centroids.New(kmeans.FileOf(res.Centroids, m, o.k, nil))
		if err != nil {
			return err
		}
		g, err = kmeans.Group(x, set, kmeans.GroupConfig{
			Shards: o.shards, Balance: o.balance, Seed: o.seed, Workers: o.threads, SwapOnly: o.pgdogOut != "",
		})
		if errors.Is(err, partition.ErrWindow) {
			return fmt.Errorf("grouping %d cells into %d shards (--balance %g): %w; more cells (--cells-per-shard), more training rows or a wider --balance (e.g. 1.2) would help", o.k, o.shards, o.balance, err)
		}
		if err != nil {
			return fmt.Errorf("grouping %d cells into %d shards: %w", o.k, o.shards, err)
		}
		file.ShardOf, file.Training.Sizes, shardSizes = g.ShardOf, g.Sizes, g.Loads
	}
	if o.pgdogOut != "" && o.k > o.shards {
		if err := pgdogOrder(file); err != nil {
			return fmt.Errorf("--pgdog-out: %w", err)
		}
	}
	elapsed := time.Since(start)
	var ev *heldOut
	if o.queries != "" {
		if ev, err = o.evalHeldOut(x, file, stderr); err != nil {
			return err
		}
	}
	if o.out != "" {
		if err := saveCentroids(o.out, file); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if o.pgdogOut != "" {
		bare := *file
		bare.ShardOf, bare.Shards = nil, 0
		if err := saveBare(o.pgdogOut, &bare); err != nil {
			return fmt.Errorf("--pgdog-out: %w", err)
		}
	}
	if o.plot != "" {
		if err := writePlot(o.plot, shardSizes, file.Training.Sizes); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	if cells {
		how := fmt.Sprintf("two-level: %d coarse clusters, then cells inside each (%d iterations each level), then %d iterations over all cells", o.shards, cfg.Iters, o.refine)
		if o.flatCells {
			how = fmt.Sprintf("flat k-means over all cells, %d iterations", res.Iterations)
		}
		cellSummary(stdout, x, st, cfg, o.balance, how, res, g, readTime, trainTime, elapsed)
	} else {
		summary(stdout, x, st, cfg, res, readTime, elapsed)
	}
	if ev != nil {
		ev.print(stdout)
	}
	if o.dryRun {
		fmt.Fprintln(stdout, "dry run     no file written (give --out FILE to write the centroids)")
	}
	return nil
}

// pgdogOrder reorders the cells of f, which every shard owns equally many
// of, so that cell i is on shard i % f.Shards: the mapping of PgDog's bare
// centroid array. Within a shard the cells keep their order.
func pgdogOrder(f *centroids.File) error {
	s := f.Shards
	per := make([][]int, s)
	for c, sh := range f.ShardOf {
		per[sh] = append(per[sh], c)
	}
	for sh, cs := range per {
		if len(cs) != len(f.ShardOf)/s {
			return fmt.Errorf("shard %d owns %d cells, not %d: PgDog's bare array cannot express it", sh, len(cs), len(f.ShardOf)/s)
		}
	}
	order := make([]int, 0, len(f.ShardOf))
	for j := 0; j < len(f.ShardOf)/s; j++ {
		for sh := 0; sh < s; sh++ {
			order = append(order, per[sh][j])
		}
	}
	rows := make([][]float32, len(order))
	shardOf := make([]int, len(order))
	var sizes []int
	if f.Training != nil && f.Training.Sizes != nil {
		sizes = make([]int, len(order))
	}
	for i, c := range order {
		rows[i], shardOf[i] = f.Centroids[c], f.ShardOf[c]
		if sizes != nil {
			sizes[i] = f.Training.Sizes[c]
		}
	}
	f.Centroids, f.ShardOf = rows, shardOf
	if sizes != nil {
		f.Training.Sizes = sizes
	}
	return nil
}
