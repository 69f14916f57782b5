// Command train-centroids trains the centroid file that vecshard routes
// pgvector queries by, and evaluates a centroid file as a router.
//
//	train-centroids --input items.txt --k 64 --shards 8 --out centroids.json
//	train-centroids --dsn postgres://... --query "SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)" --k 16
//	train-centroids eval --centroids centroids.json --input train.npy --queries test.npy
//
// Inputs are pgvector text (.txt, .vec), CSV/TSV (--column), .fvecs, .npy,
// IDX (as Fashion-MNIST ships it, optionally .gz) or a PostgreSQL query
// whose first column is a vector as text or a float array. With --sample N
// only a uniform sample of N rows is kept in memory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "eval" {
		err = runEval(os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = runTrain(os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "train-centroids:", err)
		os.Exit(1)
	}
}

// inputFlags are the flags that describe where vectors come from.
type inputFlags struct {
	input, format, column, dsn, query string
	header, skipBad                   bool
	sample                            int
}

func (f *inputFlags) register(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.input, "input", "", what+" file (.txt/.vec, .csv, .tsv, .fvecs, .npy, .idx, optionally .gz)")
	fs.StringVar(&f.format, "format", "", "input format, overriding the file extension: txt, csv, tsv, fvecs, npy, idx")
	fs.StringVar(&f.column, "column", "", "CSV/TSV column holding the vector: header name or 0-based index")
	fs.BoolVar(&f.header, "header", false, "the first CSV/TSV line is a header (implied when --column is a name)")
	fs.StringVar(&f.dsn, "dsn", "", "PostgreSQL connection URL to read vectors from (with --query)")
	fs.StringVar(&f.query, "query", "", "SQL whose first column is a vector as text or a float array")
	fs.BoolVar(&f.skipBad, "skip-bad", false, "count and skip bad rows instead of failing")
	fs.IntVar(&f.sample, "sample", 0, "keep a uniform random sample of at most N rows (0: all)")
}

// read loads the vectors described by f, or by path when it is not empty.
func (f *inputFlags) read(path string, seed int64, stderr io.Writer) (kmeans.Matrix, vecio.Stats, string, error) {
	var r vecio.Reader
	var err error
	source := path
	switch {
	case path != "":
		opt := vecio.Options{Column: f.column, Header: f.header}
		if f.format != "" {
			if opt.Format, err = vecio.ParseFormat(f.format); err != nil {
				return kmeans.Matrix{}, vecio.Stats{}, "", err
			}
		}
		r, err = vecio.Open(path, opt)
	case f.dsn != "":
		if f.query == "" {
			return kmeans.Matrix{}, vecio.Stats{}, "", errors.New("--dsn needs --query")
		}
		source = "postgres: " + f.query
		r, err = vecio.OpenPostgres(context.Background(), f.dsn, f.query)
	default:
		return kmeans.Matrix{}, vecio.Stats{}, "", errors.New("need --input FILE or --dsn URL --query SQL")
	}
	if err != nil {
		return kmeans.Matrix{}, vecio.Stats{}, "", err
	}
	defer r.Close()
	x, st, err := vecio.Collect(r, f.sample, seed, f.skipBad)
	if err != nil {
		return x, st, "", err
	}
	if st.Skipped > 0 {
		fmt.Fprintf(stderr, "skipped %d bad rows\n", st.Skipped)
	}
	return x, st, source, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train-centroids", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in inputFlags
	in.register(fs, "training vectors")
	var (
		metric   = fs.String("metric", "cosine", "similarity the router uses: cosine, l2, inner_product")
		k        = fs.Int("k", 0, "number of centroids (required)")
		shards   = fs.Int("shards", 0, "number of shards (default k); k >= shards")
		iters    = fs.Int("iters", 20, "maximum number of Lloyd iterations")
		tol      = fs.Float64("tol", 0, "stop when an iteration improves the objective by less than this fraction")
		restarts = fs.Int("restarts", 1, "independent runs; the best objective is kept")
		seed     = fs.Int64("seed", 1, "random seed (sampling, seeding)")
		balance  = fs.Float64("balance", 0, "cap every shard at F times the mean size during training (F >= 1; 0: off)")
		threads  = fs.Int("threads", 0, "goroutines (0: GOMAXPROCS); does not change the result")
		out      = fs.String("out", "", "write the vecshard-centroids/1 file here")
		pgdogOut = fs.String("pgdog-out", "", "write PgDog's bare centroid array here (needs k == shards)")
		plotPath = fs.String("plot", "", "write a PNG bar chart of points per shard and per centroid here")
		created  = fs.String("created", "", `training.created in --out: an RFC 3339 time or "now" (empty: omitted, so output bytes depend only on the input)`)
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	m, err := centroids.ParseMetric(*metric)
	if err != nil {
		return err
	}
	if *k < 1 {
		return errors.New("--k must be at least 1")
	}
	if *shards == 0 {
		*shards = *k
	}
	if *k < *shards {
		return fmt.Errorf("--k %d is less than --shards %d: every shard needs at least one centroid", *k, *shards)
	}
	if *pgdogOut != "" && *k != *shards {
		return fmt.Errorf("--pgdog-out needs k == shards (PgDog's bare array maps centroid i to shard i), have k %d, shards %d", *k, *shards)
	}
	createdAt := *created
	if createdAt == "now" {
		createdAt = time.Now().UTC().Format(time.RFC3339)
	} else if createdAt != "" {
		if _, err := time.Parse(time.RFC3339, createdAt); err != nil {
			return fmt.Errorf("--created: %w", err)
		}
	}

	start := time.Now()
	x, st, source, err := in.read(in.input, *seed, stderr)
	if err != nil {
		return err
	}
	readTime := time.Since(start)

	cfg := kmeans.Config{
		K: *k, Metric: m, Iters: *iters, Tol: *tol, Restarts: *restarts, Seed: *seed,
		Shards: *shards, Balance: *balance, Workers: *threads,
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(*restarts*(*iters+1),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("training"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
		cfg.Progress = func(r, it int, obj float64) {
			bar.Describe(fmt.Sprintf("restart %d, objective %.6g", r+1, obj))
			bar.Set(r*(*iters+1) + it + 1)
		}
		defer bar.Finish()
	}
	res, err := kmeans.Train(x, cfg)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)

	file := &centroids.File{
		Metric: m, Dim: x.Dim, Shards: *shards, ShardOf: res.ShardOf,
		Centroids: make([][]float32, *k),
		Training: &centroids.Training{
			Points: x.Rows, Iterations: res.Iterations, Seed: *seed,
			Objective: res.RoutedObjective, Sizes: res.RoutedSizes,
			Source: source, Created: createdAt,
		},
	}
	for j := range file.Centroids {
		file.Centroids[j] = res.Centroids.Row(j)
	}
	if *out != "" {
		if err := centroids.Save(*out, file); err != nil {
			return err
		}
	}
	if *pgdogOut != "" {
		bare := *file
		bare.ShardOf = nil
		if err := centroids.SaveBare(*pgdogOut, &bare); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if err := writePlot(*plotPath, res.ShardSizes, res.RoutedSizes); err != nil {
			return err
		}
	}
	summary(stdout, x, st, cfg, res, readTime, elapsed)
	return nil
}

// summary prints what was trained and how evenly the router will spread
// the training points.
func summary(w io.Writer, x kmeans.Matrix, st vecio.Stats, cfg kmeans.Config, res *kmeans.Result, readTime, elapsed time.Duration) {
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

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train-centroids eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in inputFlags
	in.register(fs, "training vectors (the data the shards hold)")
	var (
		cpath   = fs.String("centroids", "", "centroid file to evaluate (required)")
		queries = fs.String("queries", "", "query vectors file (same formats as --input; required)")
		probes  = fs.String("probes", "1,2,4", "comma-separated probe counts")
		topK    = fs.Int("topk", 10, "neighbours per query")
		threads = fs.Int("threads", 0, "goroutines (0: GOMAXPROCS)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpath == "" || *queries == "" {
		return errors.New("eval needs --centroids FILE, --input TRAIN (or --dsn/--query) and --queries TEST")
	}
	var ps []int
	for _, s := range strings.Split(*probes, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--probes: %q is not a number", s)
		}
		ps = append(ps, p)
	}
	f, err := centroids.Load(*cpath)
	if err != nil {
		return err
	}
	start := time.Now()
	train, _, _, err := in.read(in.input, 1, stderr)
	if err != nil {
		return err
	}
	qin := in
	qin.sample = 0
	q, _, _, err := qin.read(*queries, 1, stderr)
	if err != nil {
		return err
	}
	set, err := centroids.New(f)
	if err != nil {
		return err
	}
	res, err := kmeans.Eval(train, q, set, *topK, ps, *threads)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "centroids   %s (k %d, shards %d, %s)\n", *cpath, set.K(), set.Shards(), set.Metric())
	fmt.Fprintf(stdout, "train       %d x %d\n", train.Rows, train.Dim)
	fmt.Fprintf(stdout, "queries     %d\n", q.Rows)
	for i, p := range res.Probes {
		fmt.Fprintf(stdout, "recall@%d    probes %d: %.4f\n", res.TopK, p, res.Recall[i])
	}
	fmt.Fprintf(stdout, "per shard   %s\n", joinInts(res.ShardSizes))
	fmt.Fprintf(stdout, "imbalance   %.4f (max/mean points of train per shard)\n", res.Imbalance)
	fmt.Fprintf(stdout, "time        %.3fs\n", time.Since(start).Seconds())
	return nil
}
