package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/internal/atomicfile"
	"github.com/vecshard/vecshard/kmeans"
)

// trainOptions are train-centroids' flags.
type trainOptions struct {
	in                           inputFlags
	metric                       string
	k, shards, iters, restarts   int
	threads                      int
	tol, balance                 float64
	seed                         int64
	out, pgdogOut, plot, created string
	dryRun, quiet                bool
}

func newTrainCmd(stderr io.Writer) *cobra.Command {
	var o trainOptions
	c := &cobra.Command{
		Use:   "train-centroids --input FILE --k K [--shards N] --out FILE [flags]",
		Short: "Train the centroid file vecshard routes pgvector queries by",
		Long: `train-centroids trains k centroids on sample vectors (spherical k-means for
cosine, plain k-means for l2 and inner_product), assigns them to shards so
that the points per shard are as even as possible, and writes the
vecshard-centroids/1 file the plugin's configuration names (--out) and/or
PgDog's bare centroid array (--pgdog-out).

Input is a file (--input) or a PostgreSQL query (--dsn with --query), never
both. Every flag and output path is checked before training starts.`,
		Example: `  train-centroids -i vectors.txt -k 64 -s 16 -o centroids.json --plot sizes.png
  train-centroids -i items.csv --column embedding -k 16 -o centroids.json --balance 1.1
  train-centroids --dsn postgres://localhost/app --query "SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)" \
      -k 64 -s 64 -o centroids.json --pgdog-out pgdog-centroids.json
  train-centroids eval --centroids centroids.json -i train.fvecs --queries test.fvecs --probes 1,2,4`,
		Args: cli.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// A bare train-centroids is a request for help, not an error
			// about --k.
			if c.Flags().NFlag() == 0 {
				return c.Help()
			}
			return o.run(c.OutOrStdout(), stderr)
		},
	}
	fs := c.Flags()
	o.in.register(fs, "training vectors")
	fs.IntVarP(&o.k, "k", "k", 0, "number of centroids `K` (required; k >= shards)")
	fs.IntVarP(&o.shards, "shards", "s", 0, "number of shards `N` (default k)")
	fs.StringVar(&o.metric, "metric", "cosine", "similarity the router uses: cosine, l2, inner_product")
	fs.IntVar(&o.iters, "iters", 20, "maximum number of Lloyd iterations")
	fs.Float64Var(&o.tol, "tol", 0, "stop when an iteration improves the objective by less than this fraction")
	fs.IntVar(&o.restarts, "restarts", 1, "independent runs; the best objective is kept")
	fs.Int64Var(&o.seed, "seed", 1, "random seed (sampling, seeding)")
	fs.Float64Var(&o.balance, "balance", 0, "cap every shard at `F` times the mean size during training (F >= 1; 0: off)")
	fs.IntVar(&o.threads, "threads", 0, "goroutines (0: GOMAXPROCS); does not change the result")
	fs.StringVarP(&o.out, "out", "o", "", "write the vecshard-centroids/1 `FILE` here")
	fs.StringVar(&o.pgdogOut, "pgdog-out", "", "write PgDog's bare centroid array `FILE` here (needs k == shards)")
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
	switch {
	case o.k < 1:
		return 0, "", cli.Usagef("--k is required: the number of centroids (at least the number of shards; e.g. --k 64 --shards 16)")
	case o.shards < 0:
		return 0, "", cli.Usagef("--shards %d: want at least 1 (or leave it out: k)", o.shards)
	}
	if o.shards == 0 {
		o.shards = o.k
	}
	switch {
	case o.k < o.shards:
		return 0, "", cli.Usagef("--k %d is less than --shards %d: every shard needs at least one centroid", o.k, o.shards)
	case o.pgdogOut != "" && o.k != o.shards:
		return 0, "", cli.Usagef("--pgdog-out needs k == shards (PgDog's bare array maps centroid i to shard i), have k %d, shards %d", o.k, o.shards)
	case o.out == "" && o.pgdogOut == "" && !o.dryRun:
		return 0, "", cli.Usagef("no output: give --out FILE (and/or --pgdog-out FILE), or --dry-run to train without writing")
	case o.dryRun && (o.out != "" || o.pgdogOut != ""):
		return 0, "", cli.Usagef("--dry-run writes no centroid file: drop it, or drop --out/--pgdog-out")
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

	cfg := kmeans.Config{
		K: o.k, Metric: m, Iters: o.iters, Tol: o.tol, Restarts: o.restarts, Seed: o.seed,
		Shards: o.shards, Balance: o.balance, Workers: o.threads,
	}
	if bar := cli.NewProgress(stderr, o.quiet, int64(max(1, o.restarts)*(o.iters+1)), "training", false); bar != nil {
		cfg.Progress = func(r, it int, obj float64) {
			bar.Describe(fmt.Sprintf("restart %d, objective %.6g", r+1, obj))
			bar.Set(r*(o.iters+1) + it + 1)
		}
		defer bar.Finish()
	}
	res, err := kmeans.Train(x, cfg)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)

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
	if o.out != "" {
		if err := centroids.Save(o.out, file); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if o.pgdogOut != "" {
		bare := *file
		bare.ShardOf = nil
		if err := centroids.SaveBare(o.pgdogOut, &bare); err != nil {
			return fmt.Errorf("--pgdog-out: %w", err)
		}
	}
	if o.plot != "" {
		if err := writePlot(o.plot, res.ShardSizes, res.RoutedSizes); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	summary(stdout, x, st, cfg, res, readTime, elapsed)
	if o.dryRun {
		fmt.Fprintln(stdout, "dry run     no file written (give --out FILE to write the centroids)")
	}
	return nil
}
