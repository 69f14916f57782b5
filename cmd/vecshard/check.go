package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/router"
)

const checkHelp = `
Usage: vecshard check --config FILE [--shards N]

Loads the plugin's configuration and every centroid file it names exactly as
the plugin does at startup, prints what it found (tables, key columns,
dimensions, centroids per shard, training statistics) and every problem.
The exit status is 0 only when the plugin would route with this
configuration; with --shards, the pooler's shard count must also match the
configuration and every centroid file.

Example:
  vecshard check --config /etc/pgdog/vecshard.toml --shards 4
`

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", checkHelp, stderr)
	config := fs.String("config", "", "the plugin's TOML configuration `FILE`")
	shards := fs.Int("shards", 0, "the pooler's shard count `N` to check against (optional)")
	if stop, status := parseFlags(fs, args, stdout); stop {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vecshard check: unexpected argument %q (see --help)\n", fs.Arg(0))
		return exitUsage
	}
	if !requireFlags(fs, stderr, "config") {
		return exitUsage
	}
	if *shards < 0 {
		fmt.Fprintf(stderr, "vecshard check: --shards must be at least 1, not %d\n", *shards)
		return exitUsage
	}

	snap, err := router.Load(*config)
	if err != nil {
		fmt.Fprintf(stdout, "%s: cannot be loaded; the plugin would answer NO_DECISION to every statement\n", *config)
		fmt.Fprintf(stdout, "problem: %v\n", err)
		return exitProblem
	}
	fmt.Fprintf(stdout, "config %s\n", snap.Path())
	if n := snap.Shards(); n != 0 {
		fmt.Fprintf(stdout, "shards: %d\n", n)
	} else {
		fmt.Fprintln(stdout, "shards: not set (the pooler's count is used; vector tables need it to equal their centroid files')")
	}
	for _, t := range snap.Tables() {
		printTable(stdout, t)
	}

	// Which shard counts could the pooler have? The one given, else the
	// configured one, else each vector table's centroid count. The rules
	// that compare them are the router's: ask it about one statement per
	// table rather than comparing counts here.
	var candidates []int
	switch {
	case *shards > 0:
		candidates = []int{*shards}
	case snap.Shards() > 0:
		candidates = []int{snap.Shards()}
	default:
		for _, t := range snap.Tables() {
			if t.Set != nil && indexOfInt(candidates, t.Set.Shards()) < 0 {
				candidates = append(candidates, t.Set.Shards())
			}
		}
	}
	r := router.New(snap)
	var problems []string
	for i, n := range candidates {
		var ps []string
		for _, t := range snap.Tables() {
			d := r.Route("SELECT 1 FROM "+qualifiedName(t), nil, n)
			if d.Kind == router.Error && indexOf(ps, d.Message) < 0 {
				ps = append(ps, d.Message)
			}
		}
		if len(ps) == 0 {
			if *shards > 0 {
				fmt.Fprintf(stdout, "OK: the plugin would route with this configuration on %d shards\n", n)
			} else {
				fmt.Fprintf(stdout, "OK: the plugin would route with this configuration (on %d shards)\n", n)
			}
			return exitOK
		}
		if i == 0 {
			problems = ps
		}
	}
	if len(candidates) == 0 {
		fmt.Fprintln(stdout, "OK: the plugin would route with this configuration (on any number of shards)")
		return exitOK
	}
	if *shards == 0 && len(candidates) > 1 {
		problems = append(problems, fmt.Sprintf("the centroid files are for different shard counts %v: no pooler can route every table", candidates))
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	fmt.Fprintf(stdout, "%d problem(s): the plugin would refuse statements on the tables above\n", len(problems))
	return exitProblem
}

func indexOfInt(list []int, v int) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

func printTable(w io.Writer, t *router.Table) {
	fmt.Fprintf(w, "table %s: key %s, column %s", t.Name, t.Key, t.KeyColumn())
	if t.Key == router.KeyID {
		fmt.Fprintf(w, " (%s), shard = jump(key, shards)\n", t.IDType)
		return
	}
	fmt.Fprintf(w, " (%s), metric %s, probes %d", t.VectorType, t.Metric, t.Probes)
	if t.IDColumn != "" {
		fmt.Fprintf(w, ", id column %s", t.IDColumn)
	}
	if t.AllowKeyUpdate {
		fmt.Fprint(w, ", key updates allowed")
	}
	fmt.Fprintln(w)
	set := t.Set
	fmt.Fprintf(w, "  centroids %s: k = %d, dim = %d, shards = %d\n", t.CentroidsPath, set.K(), set.Dim(), set.Shards())
	per := make([]int, set.Shards())
	for c := 0; c < set.K(); c++ {
		if s := set.ShardOf(c); s >= 0 && s < len(per) {
			per[s]++
		}
	}
	var b strings.Builder
	for s, n := range per {
		if s > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: %d", s, n)
	}
	fmt.Fprintf(w, "  centroids per shard: %s\n", b.String())
	// Training statistics are not part of the routing state; read them from
	// the file the router loaded.
	f, err := centroids.Load(t.CentroidsPath)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  training: unreadable: %v\n", err)
	case f.Training == nil:
		fmt.Fprintln(w, "  training: not recorded (bare centroid array)")
	default:
		tr := f.Training
		fmt.Fprintf(w, "  training: %d points, %d iterations, seed %d, objective %g", tr.Points, tr.Iterations, tr.Seed, tr.Objective)
		if tr.Source != "" {
			fmt.Fprintf(w, ", source %q", tr.Source)
		}
		if tr.Created != "" {
			fmt.Fprintf(w, ", created %s", tr.Created)
		}
		fmt.Fprintln(w)
		if len(tr.Sizes) > 0 {
			fmt.Fprintf(w, "  training cluster sizes: %v\n", tr.Sizes)
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
