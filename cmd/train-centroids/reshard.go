package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/internal/atomicfile"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/partition"
)

// reshardOptions are the flags of train-centroids reshard.
type reshardOptions struct {
	in                         inputFlags
	centroids, out, plot       string
	queries                    string
	shards, threads            int
	balance, maxMove, moveCost float64
	seed                       int64
	quiet                      bool
}

func newReshardCmd(stderr io.Writer) *cobra.Command {
	var o reshardOptions
	c := &cobra.Command{
		Use:   "reshard --centroids OLD --shards N --input SAMPLE --out NEW [flags]",
		Short: "Add shards to a layout of fine cells by moving whole cells, no retraining",
		Long: `reshard spreads the cells of an existing centroid file over more shards. The
centroids stay as they are, so every row keeps its cell; only whole cells
change shard. It puts every shard within 1/F..F times the new mean rows of
the sample (--balance F, default 1.05) while moving as few rows as it can
(never more than --max-move, default 1.1 x added/N of the rows: 10% over
the least any balanced layout moves) and keeping neighbouring cells on one
shard. It prints the rows moved, the new balance and, with --queries, the
recall before and after.

Then move the rows: vecshard split --from OLD-CONFIG (see vecshard split
--help) writes, per shard, only the rows that move and the keys to delete.`,
		Example: `  train-centroids reshard --centroids centroids.json -s 17 -i sample.fvecs -o centroids-17.json --queries heldout.fvecs --plot reshard.png`,
		Args:    cli.NoArgs,
		RunE:    cli.HelpIfBare(func(stdout io.Writer) error { return o.run(stdout, stderr) }),
	}
	fs := c.Flags()
	fs.StringVar(&o.centroids, "centroids", "", "the current centroid `FILE` (with shards and shard_of; required)")
	fs.IntVarP(&o.shards, "shards", "s", 0, "the new number of shards `N` (more than the file's; required)")
	o.in.register(fs, "sample of the table's vectors, to weigh the cells by")
	fs.StringVarP(&o.out, "out", "o", "", "write the new centroid `FILE` here (required)")
	fs.StringVar(&o.queries, "queries", "", "held-out query vectors `FILE`: report recall@10 before and after")
	fs.Float64Var(&o.balance, "balance", 1.05, "every shard within 1/`F`..F x the new mean rows")
	fs.Float64Var(&o.maxMove, "max-move", 0, "move at most this `FRACTION` of the rows (0: 1.1 x added shards / new shards)")
	fs.Float64Var(&o.moveCost, "move-cost", 1, "(row, neighbour) pairs a moved row must keep together to be worth moving (`C`)")
	fs.StringVar(&o.plot, "plot", "", "write a PNG `FILE` of points per shard before and after")
	fs.Int64Var(&o.seed, "seed", 1, "random seed of the annealing")
	fs.IntVar(&o.threads, "threads", 0, "goroutines (0: GOMAXPROCS); does not change the result")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bars")
	return c
}

func (o *reshardOptions) run(stdout, stderr io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	old, err := o.loadOld()
	if err != nil {
		return err
	}
	start := time.Now()
	x, source, err := o.readSample(old, stderr)
	if err != nil {
		return err
	}
	readTime := time.Since(start)
	r, err := o.reshard(x, old)
	if err != nil {
		return err
	}
	nf := reshardedFile(old, o.shards, r, x.Rows, source)
	var before, after *heldOut
	if o.queries != "" {
		if before, after, err = o.evalBoth(x, old, nf, stderr); err != nil {
			return err
		}
	}
	if err := o.write(nf, r); err != nil {
		return err
	}
	o.report(stdout, old, x.Rows, r, before, after)
	fmt.Fprintf(stdout, "time        %.3fs: reading %.3fs, placing rows %.3fs, neighbour graph %.3fs, moving cells %.3fs (%d threads)\n",
		time.Since(start).Seconds(), readTime.Seconds(), r.PlaceTime.Seconds(), r.GraphTime.Seconds(), r.GroupTime.Seconds(), runtime.GOMAXPROCS(0))
	return nil
}

// check checks the flags and that the output paths can be written before
// anything is read, so a typo does not cost a read of the sample.
func (o *reshardOptions) check() error {
	switch {
	case o.centroids == "":
		return cli.Usagef("reshard needs --centroids OLD: the centroid file the shards use now")
	case o.shards < 1:
		return cli.Usagef("reshard needs --shards N: the new number of shards")
	case o.out == "":
		return cli.Usagef("reshard needs --out NEW: where to write the new centroid file")
	case o.balance < 1:
		return cli.Usagef("--balance %v: want at least 1 (every shard within 1/F..F x the mean)", o.balance)
	case o.maxMove < 0 || o.maxMove > 1:
		return cli.Usagef("--max-move %v: want a fraction of the rows, 0 < F <= 1 (or 0 for the default)", o.maxMove)
	case o.moveCost < 0:
		return cli.Usagef("--move-cost %v: want 0 or more", o.moveCost)
	}
	if err := o.in.validate(); err != nil {
		return err
	}
	if o.queries != "" {
		if _, err := o.in.formatOf(o.queries); err != nil {
			return err
		}
	}
	for _, p := range []struct{ flag, path string }{{"--out", o.out}, {"--plot", o.plot}} {
		if p.path == "" {
			continue
		}
		if err := atomicfile.CheckDir(p.path); err != nil {
			return fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	return nil
}

// loadOld loads --centroids and checks that it can grow to --shards by
// moving whole cells.
func (o *reshardOptions) loadOld() (*centroids.File, error) {
	old, err := centroids.Load(o.centroids)
	if err != nil {
		return nil, fmt.Errorf("--centroids: %w", err)
	}
	switch {
	case old.Shards == 0:
		return nil, fmt.Errorf("--centroids %s is PgDog's bare array: it puts centroid i on shard i %% n for every n, so adding a shard moves nearly every row; train a vecshard-centroids/1 file (--out) to reshard", o.centroids)
	case o.shards <= old.Shards:
		return nil, cli.Usagef("--shards %d: %s already has %d shards; reshard adds shards (give more than %d)", o.shards, o.centroids, old.Shards, old.Shards)
	case o.shards > len(old.Centroids):
		return nil, fmt.Errorf("--shards %d: %s has only %d cells, and every shard needs one; retrain with more cells (--cells-per-shard)", o.shards, o.centroids, len(old.Centroids))
	}
	return old, nil
}

// readSample reads the sample that weighs the cells; it must have old's
// dimensions.
func (o *reshardOptions) readSample(old *centroids.File, stderr io.Writer) (kmeans.Matrix, string, error) {
	x, _, source, err := o.in.read(o.in.input, o.seed, o.in.sample, o.quiet, stderr)
	if err != nil {
		return kmeans.Matrix{}, "", err
	}
	if x.Dim != old.Dim {
		return kmeans.Matrix{}, "", fmt.Errorf("--input: %d dimensions, %s has %d", x.Dim, o.centroids, old.Dim)
	}
	return x, source, nil
}

// reshard moves old's cells onto --shards shards, saying which flags
// would help when no layout fits the window.
func (o *reshardOptions) reshard(x kmeans.Matrix, old *centroids.File) (*kmeans.Resharding, error) {
	r, err := kmeans.Reshard(x, old, kmeans.ReshardConfig{
		Shards: o.shards, Balance: o.balance, MaxMove: o.maxMove, MoveCost: o.moveCost, Seed: o.seed, Workers: o.threads,
	})
	if errors.Is(err, partition.ErrWindow) {
		return nil, fmt.Errorf("resharding %d cells onto %d shards (--balance %g): %w; a larger --max-move, a wider --balance or more cells would help", len(old.Centroids), o.shards, o.balance, err)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// reshardedFile is old with the new shards: the same centroids, r's
// shard of every cell, and the training record of the sample (points,
// sizes, source) that placed them.
func reshardedFile(old *centroids.File, shards int, r *kmeans.Resharding, points int, source string) *centroids.File {
	nf := *old
	nf.Shards, nf.ShardOf = shards, r.ShardOf
	tr := centroids.Training{}
	if old.Training != nil {
		tr = *old.Training
	}
	tr.Points, tr.Sizes, tr.Source = points, r.Sizes, source
	nf.Training = &tr
	return &nf
}

// evalBoth measures the old and the new layout on --queries.
func (o *reshardOptions) evalBoth(x kmeans.Matrix, old, nf *centroids.File, stderr io.Writer) (before, after *heldOut, err error) {
	t := trainOptions{in: o.in, queries: o.queries, threads: o.threads, quiet: o.quiet}
	if before, err = t.evalHeldOut(x, old, stderr); err != nil {
		return nil, nil, err
	}
	if after, err = t.evalHeldOut(x, nf, stderr); err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// write saves the new centroid file and, with --plot, the loads before
// and after.
func (o *reshardOptions) write(nf *centroids.File, r *kmeans.Resharding) error {
	if err := saveCentroids(o.out, nf); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if o.plot != "" {
		if err := writeReshardPlot(o.plot, r.OldLoads, r.Loads); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	return nil
}

// report prints what moved and the balance and neighbours it gave, and
// with --queries the recall before and after.
func (o *reshardOptions) report(stdout io.Writer, old *centroids.File, rows int, r *kmeans.Resharding, before, after *heldOut) {
	added := o.shards - old.Shards
	fmt.Fprintf(stdout, "old         %s: %d cells on %d shards\n", o.centroids, len(old.Centroids), old.Shards)
	fmt.Fprintf(stdout, "sample      %d rows\n", rows)
	fmt.Fprintf(stdout, "shards      %d -> %d\n", old.Shards, o.shards)
	fmt.Fprintf(stdout, "moved       %d rows (%.2f%%), %.3f x %d/%d = %.2f%% (the share of the added shards), %.3f x the least any layout in the window moves (%d rows)\n",
		r.Moved, 100*float64(r.Moved)/float64(rows), float64(r.Moved)/(float64(rows)*float64(added)/float64(o.shards)),
		added, o.shards, 100*float64(added)/float64(o.shards), float64(r.Moved)/float64(max(1, r.Least)), r.Least)
	fmt.Fprintf(stdout, "before      imbalance %.3f, per shard %s\n", kmeans.Imbalance(r.OldLoads), joinInts(r.OldLoads))
	printLoads(stdout, r.Loads, o.balance, "sample rows")
	fmt.Fprintf(stdout, "neighbours  %.1f%% of the sample's 10 nearest neighbours share the row's shard\n", 100*r.Internal)
	if before != nil {
		for i, p := range after.ev.Probes {
			fmt.Fprintf(stdout, "recall@%d    probes %d: %.4f (before %.4f)\n", after.ev.TopK, p, after.ev.Recall[i], before.ev.Recall[i])
		}
		fmt.Fprintf(stdout, "held-out    imbalance %.3f max/mean queries per shard (before %.3f)\n", kmeans.Imbalance(after.loads), kmeans.Imbalance(before.loads))
	}
}
