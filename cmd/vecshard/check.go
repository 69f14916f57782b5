package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/router"
)

// checkOptions are the flags of vecshard check.
type checkOptions struct {
	configFlags
	pgdog string // PgDog's pgdog.toml, checked beside the plugin's configuration
}

func newCheckCmd() *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check --config FILE [--shards N] [--pgdog pgdog.toml]",
		Short: "Validate a configuration and its centroid files as the plugin loads them",
		Long: `check loads the plugin's configuration and every centroid file it names
exactly as the plugin does at startup, prints what it found (tables, key
columns, dimensions, centroids and training points per shard) and every
problem, and warns about settings that load but defeat routing. The exit
status is 0 only when the plugin would route with this configuration; with
--shards, the pooler's shard count must also match the configuration and
every centroid file.

With --pgdog, check also reads PgDog's pgdog.toml and reports each setting
that makes PgDog answer wrongly or refuse with the plugin loaded (errors:
exit status 1), or that makes PgDog's own rules disagree with vecshard's
when it skips the plugin (warnings), and prints what PgDog would do with
each table then. --config defaults to the config of pgdog.toml's
[[plugins]] vecshard entry; relative paths in pgdog.toml are read from the
current directory, as PgDog reads them from its working directory.`,
		Example: `  vecshard check --config /etc/pgdog/vecshard.toml --shards 4
  cd /etc/pgdog && vecshard check --pgdog pgdog.toml`,
		Args: cli.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c, c.OutOrStdout())
		},
	}
	o.register(c.Flags(), "the pooler's shard count `N` to check against (default: the configuration's shards)")
	c.Flags().StringVar(&o.pgdog, "pgdog", "", "PgDog's `pgdog.toml`, to check beside the plugin's configuration")
	return c
}

func (o *checkOptions) run(c *cobra.Command, stdout io.Writer) error {
	var pg *pgdogFile
	if o.pgdog != "" {
		var err error
		if pg, err = loadPgDog(o.pgdog); err != nil {
			return err
		}
		if o.config == "" {
			i := pg.vecshardPlugin()
			if i < 0 || pg.Plugins[i].Config == "" {
				return cli.Usagef("--config is required: %s has no [[plugins]] vecshard entry with a config", o.pgdog)
			}
			// Set marks the flag given, as load requires.
			if err := c.Flags().Set("config", pg.Plugins[i].Config); err != nil {
				return err
			}
		}
	}
	snap, err := o.checkConfig(c, stdout)
	if pg == nil || snap == nil {
		return err
	}
	errs, warns := checkPgDog(stdout, pg, snap, o.config)
	switch {
	case errs > 0:
		fmt.Fprintf(stdout, "%d error(s), %d warning(s) in %s: fix the errors before PgDog serves vecshard's tables\n", errs, warns, o.pgdog)
		return &cli.ProblemError{Err: fmt.Errorf("%d error(s) in %s", errs, o.pgdog)}
	case warns > 0:
		fmt.Fprintf(stdout, "OK: PgDog would route vecshard's tables through the plugin with %s (%d warning(s))\n", o.pgdog, warns)
	default:
		fmt.Fprintf(stdout, "OK: PgDog would route vecshard's tables through the plugin with %s\n", o.pgdog)
	}
	return err
}

// checkConfig checks the plugin's configuration. It returns the loaded
// snapshot (nil when it cannot be loaded) and a *cli.ProblemError when the
// plugin would not route with it.
func (o *checkOptions) checkConfig(c *cobra.Command, stdout io.Writer) (*router.Snapshot, error) {
	snap, err := o.load(c)
	if ue := (*cli.UsageError)(nil); errors.As(err, &ue) {
		return nil, err
	}
	if err != nil {
		fmt.Fprintf(stdout, "%s: cannot be loaded; the plugin would answer NO_DECISION to every statement\n", o.config)
		fmt.Fprintf(stdout, "problem: %v\n", err)
		return nil, &cli.ProblemError{Err: err}
	}
	printConfigShards(stdout, snap)
	// The shard count the pooler is known to have, if any: bare centroid
	// files map centroid c to shard c % hostShards and can only be shown
	// per shard with it.
	hostShards := o.shards
	if hostShards == 0 {
		hostShards = snap.Shards()
	}
	var bareProblems []string
	for _, t := range snap.Tables() {
		bareProblems = append(bareProblems, printTable(stdout, t, hostShards)...)
	}
	candidates := candidateShards(snap, o.shards)
	r := router.New(snap)
	problems := bareProblems
	for i, n := range candidates {
		ps := routeProblems(r, snap, n)
		if len(ps) == 0 && len(bareProblems) == 0 {
			if o.shards > 0 {
				fmt.Fprintf(stdout, "OK: the plugin would route with this configuration on %d shards\n", n)
			} else {
				fmt.Fprintf(stdout, "OK: the plugin would route with this configuration (on %d shards)\n", n)
			}
			return snap, nil
		}
		if i == 0 {
			problems = append(problems, ps...)
		}
	}
	if len(candidates) == 0 && len(bareProblems) == 0 {
		fmt.Fprint(stdout, "OK: the plugin would route with this configuration (on any number of shards)")
		if hostShards == 0 && hasBare(snap) {
			fmt.Fprint(stdout, "; give --shards to check that every shard owns a centroid of the bare centroid files")
		}
		fmt.Fprintln(stdout)
		return snap, nil
	}
	if o.shards == 0 && len(candidates) > 1 {
		problems = append(problems, fmt.Sprintf("the centroid files are for different shard counts %v: no pooler can route every table", candidates))
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "problem: %s\n", strings.TrimPrefix(p, "vecshard: "))
	}
	fmt.Fprintf(stdout, "%d problem(s): fix them before the plugin routes with this configuration\n", len(problems))
	return snap, &cli.ProblemError{Err: fmt.Errorf("%d problem(s)", len(problems))}
}

// printConfigShards prints the configured shard count, and warns when there
// is none: a mismatched pooler then shows only as refused statements.
func printConfigShards(w io.Writer, snap *router.Snapshot) {
	fmt.Fprintf(w, "config %s\n", snap.Path())
	if n := snap.Shards(); n != 0 {
		fmt.Fprintf(w, "shards: %d\n", n)
		return
	}
	fmt.Fprintln(w, "shards: not set (the pooler's count is used; vector tables need it to equal their centroid files')")
	fmt.Fprintln(w, "warning: without shards in the configuration, a pooler with another shard count than the centroid files is found only when statements are refused; set shards = N")
}

// candidateShards are the shard counts the pooler could have: the one
// given (shards), else the configured one, else each vector table's
// centroid count (none when every table is bare or keyed by id).
func candidateShards(snap *router.Snapshot, shards int) []int {
	switch {
	case shards > 0:
		return []int{shards}
	case snap.Shards() > 0:
		return []int{snap.Shards()}
	}
	var candidates []int
	for _, t := range snap.Tables() {
		if t.Set != nil && !t.Set.Bare() && indexOfInt(candidates, t.Set.Shards()) < 0 {
			candidates = append(candidates, t.Set.Shards())
		}
	}
	return candidates
}

// routeProblems are the distinct errors the router gives for one statement
// per table on n shards. The rules that compare shard counts are the
// router's: asking it rather than comparing counts here keeps check from
// disagreeing with the plugin.
func routeProblems(r *router.Router, snap *router.Snapshot, n int) []string {
	var ps []string
	for _, t := range snap.Tables() {
		d := r.Route("SELECT 1 FROM "+qualifiedName(t), nil, n)
		if d.Kind == router.Error && indexOf(ps, d.Message) < 0 {
			ps = append(ps, d.Message)
		}
	}
	return ps
}

// hasBare reports whether a vector table's centroid file is a bare array.
func hasBare(snap *router.Snapshot) bool {
	for _, t := range snap.Tables() {
		if t.Set != nil && t.Set.Bare() {
			return true
		}
	}
	return false
}

func indexOfInt(list []int, v int) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

// printTable describes one table and returns the problems it finds that the
// router cannot (a bare centroid file leaving a shard without centroids).
func printTable(w io.Writer, t *router.Table, hostShards int) (problems []string) {
	fmt.Fprintf(w, "table %s: key %s, column %s", t.Name, t.Key, t.KeyColumn())
	if t.Key == router.KeyID {
		fmt.Fprintf(w, " (%s), shard = jump(key, shards)\n", t.IDType)
		return nil
	}
	fmt.Fprintf(w, " (%s), metric %s, probes %d", t.VectorType, t.Metric, t.Probes)
	if t.IDColumn != "" {
		fmt.Fprintf(w, ", id column %s", t.IDColumn)
	}
	if t.AllowKeyUpdate {
		fmt.Fprint(w, ", key updates allowed")
	}
	fmt.Fprintln(w)
	per, problems := printCentroids(w, t, hostShards)
	if per != nil {
		printCentroidsPerShard(w, t, per)
	}
	printTraining(w, t, hostShards)
	for _, warn := range tableWarnings(t, hostShards) {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	return problems
}

// printCentroids describes the centroid file of vector table t and counts
// its centroids per shard (nil when a bare file's shard count is unknown).
// A bare file with fewer centroids than hostShards is a problem.
func printCentroids(w io.Writer, t *router.Table, hostShards int) (per []int, problems []string) {
	set := t.Set
	switch {
	case !set.Bare():
		fmt.Fprintf(w, "  centroids %s: k = %d, dim = %d, shards = %d\n", t.CentroidsPath, set.K(), set.Dim(), set.Shards())
		per = make([]int, set.Shards())
		for c := 0; c < set.K(); c++ {
			if s := set.ShardOf(c); s >= 0 && s < len(per) {
				per[s]++
			}
		}
	case hostShards > 0:
		fmt.Fprintf(w, "  centroids %s: k = %d, dim = %d, bare array: centroid i is shard i %% %d\n", t.CentroidsPath, set.K(), set.Dim(), hostShards)
		per = make([]int, hostShards)
		for c := 0; c < set.K(); c++ {
			if s := set.ShardFor(c, hostShards); s >= 0 {
				per[s]++
			}
		}
		if set.K() < hostShards {
			problems = append(problems, fmt.Sprintf("table %s: the bare centroid file %s has %d centroids for %d shards: shards %d..%d would never receive a row", t.Name, t.CentroidsPath, set.K(), hostShards, set.K(), hostShards-1))
		}
	default:
		fmt.Fprintf(w, "  centroids %s: k = %d, dim = %d, bare array: centroid i is shard i %% shards; --shards is needed to check it\n", t.CentroidsPath, set.K(), set.Dim())
	}
	return per, problems
}

// printCentroidsPerShard prints per, the centroids of table t per shard,
// and warns when no shard owns t.Probes of them.
func printCentroidsPerShard(w io.Writer, t *router.Table, per []int) {
	var b strings.Builder
	for s, n := range per {
		if s > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: %d", s, n)
	}
	fmt.Fprintf(w, "  centroids per shard: %s\n", b.String())
	most := 0
	for _, n := range per {
		most = max(most, n)
	}
	// A search routes to one shard only when its top probes centroids
	// are all on it: with fewer centroids than that on every shard, no
	// query vector can route.
	if t.Probes >= 2 && most < t.Probes {
		fmt.Fprintf(w, "  warning: table %s has probes = %d but no shard owns more than %d centroid(s): the top %d centroids of every query vector are on several shards, so every similarity search (ORDER BY distance ... LIMIT) needs several shards (ALL; through libvecshard.so, the nearest centroid's shard when PgDog cannot merge its ORDER BY); set probes = 1 for %s, or train centroids with several per shard (k a multiple of the shard count, at least %d x shards)\n",
			t.Name, t.Probes, most, t.Probes, t.Name, t.Probes)
	}
}

// printTraining prints the training statistics of table t's centroid
// file. They are not part of the routing state, so they are read from the
// file the router loaded.
func printTraining(w io.Writer, t *router.Table, hostShards int) {
	f, err := centroids.Load(t.CentroidsPath)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  training: unreadable: %v\n", err)
	case f.Training == nil:
		fmt.Fprintln(w, "  training: not recorded (bare centroid array)")
	default:
		tr := f.Training
		fmt.Fprintf(w, "  training: %d points, %d iterations, seed %d, objective %.6g", tr.Points, tr.Iterations, tr.Seed, tr.Objective)
		if tr.Source != "" {
			fmt.Fprintf(w, ", source %q", tr.Source)
		}
		if tr.Created != "" {
			fmt.Fprintf(w, ", created %s", tr.Created)
		}
		fmt.Fprintln(w)
		if len(tr.Sizes) > 0 {
			fmt.Fprintf(w, "  training cluster sizes: %v\n", tr.Sizes)
			printTrainingPerShard(w, t, tr.Sizes, hostShards)
		}
	}
}

// quoteIdent quotes a PostgreSQL identifier as stored (no case folding).
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// qualifiedName is the table as SQL that names exactly the configured table.
func qualifiedName(t *router.Table) string {
	if t.Schema != "" {
		return quoteIdent(t.Schema) + "." + quoteIdent(t.Rel)
	}
	return quoteIdent(t.Rel)
}

// printTrainingPerShard prints how the training points spread over the
// shards (training.sizes counts them per centroid), which is the best
// forecast of how the table's rows will.
func printTrainingPerShard(w io.Writer, t *router.Table, sizes []int, hostShards int) {
	set := t.Set
	n := set.Shards()
	if set.Bare() {
		n = hostShards
	}
	if len(sizes) != set.K() || n < 1 {
		return
	}
	per := make([]int, n)
	total := 0
	for c, sz := range sizes {
		if s := set.ShardFor(c, n); s >= 0 && s < n {
			per[s] += sz
			total += sz
		}
	}
	if total == 0 {
		return
	}
	var b strings.Builder
	most := 0
	for s, p := range per {
		if s > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: %d (%.1f%%)", s, p, 100*float64(p)/float64(total))
		most = max(most, p)
	}
	fmt.Fprintf(w, "  training points per shard: %s; imbalance %.2f (max/mean)\n", b.String(), float64(most)*float64(n)/float64(total))
}

// tableWarnings are settings that load but defeat routing, with how to
// fix each.
func tableWarnings(t *router.Table, hostShards int) []string {
	var ws []string
	if t.Key != router.KeyVector {
		return nil
	}
	if t.IDColumn == "" {
		ws = append(ws, fmt.Sprintf("table %s has no id_column: lookups by id (WHERE id = ...) cannot be routed and go to ALL shards; set id_column if the table has an id", t.Name))
	}
	if hostShards > 1 && t.Probes > 1 && t.Probes >= hostShards {
		ws = append(ws, fmt.Sprintf("table %s has probes = %d, at least the %d shards: a search routes to one shard only when its top %d centroids are all on it, so most go to ALL; set probes below the shard count (1 sends every search to one shard)", t.Name, t.Probes, hostShards, t.Probes))
	}
	return ws
}
