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

// trainPlan is what validate makes of the flags, which it leaves as given:
// a copy of them with k and shards resolved (--cells-per-shard; shards
// defaults to k) and, for cells, the grouping's balance defaulted to 1.05;
// the metric parsed and training.created fixed.
type trainPlan struct {
	trainOptions
	m         centroids.Metric
	createdAt string // training.created: RFC 3339, or empty
	cells     bool   // more centroids than shards: cells grouped into shards
}

// validate checks every flag and output path, so that nothing is found
// wrong after minutes of training, and returns the plan they make.
func (o *trainOptions) validate() (*trainPlan, error) {
	m, err := centroids.ParseMetric(o.metric)
	if err != nil {
		return nil, &cli.UsageError{Err: cli.Wrapf(err, "--metric %q: want cosine, l2 or inner_product", o.metric)}
	}
	p := &trainPlan{trainOptions: *o, m: m}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p, nil
}

// resolve fills in the plan's k, shards, balance and createdAt, checking
// the flags on the way.
func (p *trainPlan) resolve() error {
	if err := p.in.validate(); err != nil {
		return err
	}
	if p.cellsPerShard != 0 {
		switch {
		case p.cellsPerShard < 1:
			return cli.Usagef("--cells-per-shard %d: want at least 1 (e.g. 16 or 32)", p.cellsPerShard)
		case p.shards < 1:
			return cli.Usagef("--cells-per-shard needs --shards: the cells are cells-per-shard x shards")
		case p.k != 0 && p.k != p.cellsPerShard*p.shards:
			return cli.Usagef("--k %d disagrees with --cells-per-shard %d x --shards %d = %d: give one of --k and --cells-per-shard", p.k, p.cellsPerShard, p.shards, p.cellsPerShard*p.shards)
		}
		p.k = p.cellsPerShard * p.shards
	}
	switch {
	case p.k < 1:
		return cli.Usagef("--k is required: the number of centroids (at least the number of shards; e.g. --shards 16 --cells-per-shard 32, or --k 64 --shards 16)")
	case p.shards < 0:
		return cli.Usagef("--shards %d: want at least 1 (or leave it out: k)", p.shards)
	}
	if p.shards == 0 {
		p.shards = p.k
	}
	switch {
	case p.k < p.shards:
		return cli.Usagef("--k %d is less than --shards %d: every shard needs at least one centroid", p.k, p.shards)
	case p.pgdogOut != "" && p.k%p.shards != 0:
		return cli.Usagef("--pgdog-out: PgDog's bare array puts centroid i on shard i %% shards, so every shard owns the same number of centroids; %d centroids cannot be spread evenly over %d shards (use --cells-per-shard, or a k that is a multiple of %d)", p.k, p.shards, p.shards)
	case p.out == "" && p.pgdogOut == "" && !p.dryRun:
		return cli.Usagef("no output: give --out FILE (and/or --pgdog-out FILE), or --dry-run to train without writing")
	case p.dryRun && (p.out != "" || p.pgdogOut != ""):
		return cli.Usagef("--dry-run writes no centroid file: drop it, or drop --out/--pgdog-out")
	case p.refine < 1:
		return cli.Usagef("--refine %d: want at least 1", p.refine)
	case p.iters < 0 || p.restarts < 0 || p.tol < 0:
		return cli.Usagef("--iters, --restarts and --tol must not be negative")
	case p.balance != 0 && p.balance < 1:
		return cli.Usagef("--balance %v: want 0 (off) or at least 1 (a shard may hold F times the mean)", p.balance)
	}
	created := p.created
	if created == "now" {
		created = time.Now().UTC().Format(time.RFC3339)
	} else if created != "" {
		if _, err := time.Parse(time.RFC3339, created); err != nil {
			return &cli.UsageError{Err: cli.Wrapf(err, "--created %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or now", created)}
		}
	}
	if p.queries != "" {
		if _, err := p.in.formatOf(p.queries); err != nil {
			return err
		}
	}
	for _, f := range []struct{ flag, path string }{{"--out", p.out}, {"--pgdog-out", p.pgdogOut}, {"--plot", p.plot}} {
		if f.path == "" {
			continue
		}
		if err := atomicfile.CheckDir(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	p.createdAt = created
	p.cells = p.k > p.shards
	if p.cells && p.balance == 0 {
		p.balance = 1.05 // the grouping's default window
	}
	return nil
}

func (o *trainOptions) run(stdout, stderr io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return err
	}
	return p.run(stdout, stderr)
}

// run reads the input, trains, groups cells into shards, evaluates, writes
// the outputs and prints the summary.
func (p *trainPlan) run(stdout, stderr io.Writer) error {
	start := time.Now()
	x, st, source, err := p.in.read(p.in.input, p.seed, p.in.sample, p.quiet, stderr)
	if err != nil {
		return err
	}
	readTime := time.Since(start)
	cfg := p.kmeansConfig()
	res, err := p.train(x, cfg, stderr)
	if err != nil {
		return err
	}
	trainTime := time.Since(start) - readTime

	file := p.file(x, res, source)
	shardSizes := res.ShardSizes
	var g *kmeans.Grouping
	if p.cells {
		if g, err = p.group(x, res); err != nil {
			return err
		}
		file.ShardOf, file.Training.Sizes, shardSizes = g.ShardOf, g.Sizes, g.Loads
		if p.pgdogOut != "" {
			if err := pgdogOrder(file); err != nil {
				return fmt.Errorf("--pgdog-out: %w", err)
			}
		}
	}
	elapsed := time.Since(start)
	var ev *heldOut
	if p.queries != "" {
		if ev, err = p.evalHeldOut(x, file, stderr); err != nil {
			return err
		}
	}
	if err := p.write(file, shardSizes); err != nil {
		return err
	}
	if p.cells {
		how := fmt.Sprintf("two-level: %d coarse clusters, then cells inside each (%d iterations each level), then %d iterations over all cells", p.shards, cfg.Iters, p.refine)
		if p.flatCells {
			how = fmt.Sprintf("flat k-means over all cells, %d iterations", res.Iterations)
		}
		cellSummary(stdout, x, st, cfg, p.balance, how, res, g, readTime, trainTime, elapsed)
	} else {
		summary(stdout, x, st, cfg, res, readTime, elapsed)
	}
	if ev != nil {
		ev.print(stdout)
	}
	if p.dryRun {
		fmt.Fprintln(stdout, "dry run     no file written (give --out FILE to write the centroids)")
	}
	return nil
}

// kmeansConfig is the clustering's configuration: for cells plain k-means
// (the balance is the grouping's), else k-means with --balance's cap.
func (p *trainPlan) kmeansConfig() kmeans.Config {
	cfg := kmeans.Config{
		K: p.k, Metric: p.m, Iters: p.iters, Tol: p.tol, Restarts: p.restarts, Seed: p.seed,
		Shards: p.shards, Balance: p.balance, Workers: p.threads,
	}
	if p.cells {
		cfg.Balance = 0
	}
	return cfg
}

// train clusters x, two-level for cells unless --flat-cells, with a
// progress bar on a terminal.
func (p *trainPlan) train(x kmeans.Matrix, cfg kmeans.Config, stderr io.Writer) (*kmeans.Result, error) {
	if bar := cli.NewProgress(stderr, p.quiet, int64(max(1, p.restarts)*(p.iters+1)), "training", false); bar != nil {
		cfg.Progress = func(r, it int, obj float64) {
			bar.Describe(fmt.Sprintf("restart %d, objective %.6g", r+1, obj))
			bar.Set(r*(p.iters+1) + it + 1)
		}
		defer bar.Finish()
	}
	if p.cells && !p.flatCells {
		return kmeans.TrainCells(x, cfg, p.refine)
	}
	return kmeans.Train(x, cfg)
}

// file is the centroid file of a clustering, before any grouping.
func (p *trainPlan) file(x kmeans.Matrix, res *kmeans.Result, source string) *centroids.File {
	f := &centroids.File{
		Metric: p.m, Dim: x.Dim, Shards: p.shards, ShardOf: res.ShardOf,
		Centroids: make([][]float32, p.k),
		Training: &centroids.Training{
			Points: x.Rows, Iterations: res.Iterations, Seed: p.seed,
			Objective: res.RoutedObjective, Sizes: res.RoutedSizes,
			Source: source, Created: p.createdAt,
		},
	}
	for j := range f.Centroids {
		f.Centroids[j] = res.Centroids.Row(j)
	}
	return f
}

// group places the cells of res into shards (--pgdog-out: by swaps only,
// which keep every shard's cell count).
func (p *trainPlan) group(x kmeans.Matrix, res *kmeans.Result) (*kmeans.Grouping, error) {
	set, err := centroids.New(kmeans.FileOf(res.Centroids, p.m, p.k, nil))
	if err != nil {
		return nil, err
	}
	g, err := kmeans.Group(x, set, kmeans.GroupConfig{
		Shards: p.shards, Balance: p.balance, Seed: p.seed, Workers: p.threads, SwapOnly: p.pgdogOut != "",
	})
	if errors.Is(err, partition.ErrWindow) {
		return nil, fmt.Errorf("grouping %d cells into %d shards (--balance %g): %w; more cells (--cells-per-shard), more training rows or a wider --balance (e.g. 1.2) would help", p.k, p.shards, p.balance, err)
	}
	if err != nil {
		return nil, fmt.Errorf("grouping %d cells into %d shards: %w", p.k, p.shards, err)
	}
	return g, nil
}

// write writes --out, --pgdog-out and --plot, those given.
func (p *trainPlan) write(file *centroids.File, shardSizes []int) error {
	if p.out != "" {
		if err := saveCentroids(p.out, file); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if p.pgdogOut != "" {
		bare := *file
		bare.ShardOf, bare.Shards = nil, 0
		if err := saveBare(p.pgdogOut, &bare); err != nil {
			return fmt.Errorf("--pgdog-out: %w", err)
		}
	}
	if p.plot != "" {
		if err := writePlot(p.plot, shardSizes, file.Training.Sizes); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
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
