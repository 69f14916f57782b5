package main

// vecshard check --pgdog: PgDog's own configuration read beside vecshard's.
// The rules restate PgDog v0.1.54's behaviour (docs/PGDOG.md says where in
// PgDog's sources each comes from); the structs read only the fields the
// rules need, since PgDog has many more.

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/router"
)

// pgdogFile is the part of a pgdog.toml the check reads.
type pgdogFile struct {
	General       *pgdogGeneral       `toml:"general"`
	Plugins       []pgdogPlugin       `toml:"plugins"`
	Databases     []pgdogDatabase     `toml:"databases"`
	ShardedTables []pgdogShardedTable `toml:"sharded_tables"`
	Omnisharded   []pgdogOmnisharded  `toml:"omnisharded_tables"`

	path string
	data []byte
}

type pgdogGeneral struct {
	DryRun             bool   `toml:"dry_run"`
	CrossShardDisabled bool   `toml:"cross_shard_disabled"`
	QueryParser        string `toml:"query_parser"`
}

type pgdogPlugin struct {
	Name   string `toml:"name"`
	Config string `toml:"config"`
}

type pgdogDatabase struct {
	Name  string `toml:"name"`
	Shard int    `toml:"shard"`
}

type pgdogShardedTable struct {
	Database       string      `toml:"database"`
	Name           string      `toml:"name"`
	Schema         string      `toml:"schema"`
	Column         string      `toml:"column"`
	DataType       string      `toml:"data_type"`
	Centroids      [][]float64 `toml:"centroids"`
	CentroidsPath  string      `toml:"centroids_path"`
	CentroidProbes int         `toml:"centroid_probes"`
	Hasher         string      `toml:"hasher"`
}

type pgdogOmnisharded struct {
	Database string   `toml:"database"`
	Tables   []string `toml:"tables"`
}

// dataType is the entry's data_type with PgDog's default.
func (e *pgdogShardedTable) dataType() string {
	if e.DataType == "" {
		return "bigint"
	}
	return e.DataType
}

// hasher is the entry's hasher with PgDog's default.
func (e *pgdogShardedTable) hasher() string {
	if e.Hasher == "" {
		return "postgres"
	}
	return e.Hasher
}

// loadPgDog reads a pgdog.toml. Unknown fields are ignored: PgDog has many
// the check does not need.
func loadPgDog(path string) (*pgdogFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--pgdog: %w", err)
	}
	f := &pgdogFile{path: path, data: data}
	if _, err := toml.Decode(string(data), f); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, cli.Wrapf(err, "%s:%d: %s (PgDog would not start with this file)", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// vecshardPlugin returns the index of the first [[plugins]] entry that
// loads libvecshard.so, or -1. A bare name is dlopened as lib<name>.so, a
// name with an extension as a path.
func (f *pgdogFile) vecshardPlugin() int {
	for i, p := range f.Plugins {
		if isVecshard(p.Name) {
			return i
		}
	}
	return -1
}

func isVecshard(name string) bool {
	return name == "vecshard" || filepath.Base(name) == "libvecshard.so"
}

// shardCounts returns each database's shard count in order of first
// appearance, as PgDog counts them: the highest shard number plus one.
func (f *pgdogFile) shardCounts() (names []string, counts map[string]int, gaps map[string]int) {
	counts, gaps = map[string]int{}, map[string]int{}
	seen := map[string]map[int]bool{}
	for _, d := range f.Databases {
		if _, ok := counts[d.Name]; !ok {
			names = append(names, d.Name)
			seen[d.Name] = map[int]bool{}
		}
		counts[d.Name] = max(counts[d.Name], d.Shard+1)
		seen[d.Name][d.Shard] = true
	}
	for _, n := range names {
		gaps[n] = -1
		for s := 0; s < counts[n]; s++ {
			if !seen[n][s] {
				gaps[n] = s
				break
			}
		}
	}
	return names, counts, gaps
}

// line returns the line of the n-th [[header]] (n from 0), or of key under
// [header] when key is not "": 0 when not found.
func (f *pgdogFile) line(header string, n int, key string) int {
	section, count := "", -1
	for i, l := range strings.Split(string(f.data), "\n") {
		l = strings.TrimSpace(strings.SplitN(l, "#", 2)[0])
		if strings.HasPrefix(l, "[") {
			section = strings.TrimSpace(strings.Trim(l, "[] "))
			if section == header && strings.HasPrefix(l, "[[") {
				count++
				if count == n && key == "" {
					return i + 1
				}
			}
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if ok && section == header && (count == n || n < 0) && strings.TrimSpace(name) == key {
			return i + 1
		}
	}
	return 0
}

// where is "file:line" or "file".
func (f *pgdogFile) where(line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", f.path, line)
	}
	return f.path
}

// finding is one problem with PgDog's configuration: what, where, its
// consequence and its fix, in one message.
type finding struct {
	err bool // an error: the cluster answers wrongly or refuses with the plugin loaded, or the plugin is not in effect
	msg string
}

// pgdogCheck collects the findings of one pgdog.toml against one vecshard
// configuration.
type pgdogCheck struct {
	f        *pgdogFile
	snap     *router.Snapshot
	findings []finding
}

func (c *pgdogCheck) errorf(line int, format string, args ...any) {
	c.findings = append(c.findings, finding{true, c.f.where(line) + ": " + fmt.Sprintf(format, args...)})
}

func (c *pgdogCheck) warnf(line int, format string, args ...any) {
	c.findings = append(c.findings, finding{false, c.f.where(line) + ": " + fmt.Sprintf(format, args...)})
}

// checkPgDog prints what PgDog's configuration means for vecshard and every
// finding; it returns the number of errors and warnings.
func checkPgDog(w io.Writer, f *pgdogFile, snap *router.Snapshot, configPath string) (errs, warns int) {
	c := &pgdogCheck{f: f, snap: snap}
	fmt.Fprintf(w, "pgdog %s\n", f.path)
	c.general()
	c.plugins(w, configPath)
	for _, db := range c.databases(w) {
		for _, t := range snap.Tables() {
			c.table(w, db, t)
		}
	}
	for _, fd := range c.findings {
		if fd.err {
			errs++
			fmt.Fprintf(w, "error: %s\n", fd.msg)
		} else {
			warns++
			fmt.Fprintf(w, "warning: %s\n", fd.msg)
		}
	}
	return errs, warns
}

// general checks [general]: settings that send every statement to shard 0,
// refuse vecshard's ALL, or keep PgDog from parsing (and so from asking the
// plugin).
func (c *pgdogCheck) general() {
	g := c.f.General
	if g == nil {
		c.warnf(0, "no [general] section: PgDog then takes dry_run and cross_shard_disabled from PGDOG_DRY_RUN and PGDOG_CROSS_SHARD_DISABLED in its environment, which this check cannot see; add a [general] section (with it, both default to false)")
		return
	}
	if g.DryRun {
		c.errorf(c.f.line("general", -1, "dry_run"), "dry_run = true: PgDog asks the plugin, then sends every statement to shard 0 (it only records the routes): rows land on shard 0 and reads see shard 0 only; remove dry_run")
	}
	if g.CrossShardDisabled {
		c.warnf(c.f.line("general", -1, "cross_shard_disabled"), "cross_shard_disabled = true: PgDog refuses every statement vecshard sends to ALL shards (SQLSTATE 58000, \"cross-shard queries are disabled\"): counts, searches without LIMIT, updates without a key; remove it unless that is what you want")
	}
	switch g.QueryParser {
	case "", "auto", "on":
	default:
		c.errorf(c.f.line("general", -1, "query_parser"), "query_parser = %q: PgDog calls the plugin only for statements it parses, so vecshard routes nothing (or only some statements); remove query_parser (the default, auto, parses every statement of a sharded database)", g.QueryParser)
	}
}

// plugins checks that vecshard is loaded, first, and with the configuration
// the check reads.
func (c *pgdogCheck) plugins(w io.Writer, configPath string) {
	i := c.f.vecshardPlugin()
	if i < 0 {
		c.errorf(0, "no [[plugins]] entry loads vecshard: PgDog routes every table by its own rules; add [[plugins]] name = \"vecshard\" and config = the plugin's configuration")
		return
	}
	p := c.f.Plugins[i]
	line := c.f.line("plugins", i, "")
	fmt.Fprintf(w, "  plugin %s: [[plugins]] entry %d of %d, config %s\n", p.Name, i+1, len(c.f.Plugins), orNone(p.Config))
	if i > 0 {
		c.errorf(line, "vecshard is [[plugins]] entry %d, after %s: PgDog drops an entry whose library fails to load and then pairs the later entries with the wrong libraries and configs, so vecshard would be skipped or loaded with another plugin's config; make vecshard the first entry", i+1, quoteNames(c.f.Plugins[:i]))
	}
	if others := len(c.f.Plugins) - 1; others > 0 {
		c.warnf(line, "%d other plugin(s) besides vecshard: PgDog asks its plugins in hash-map order, which changes from one start to the next, and the first answer other than unknown wins; one that answers for vecshard's tables can override vecshard; remove them or make sure they answer unknown for vecshard's tables", others)
	}
	switch {
	case p.Config == "":
		c.warnf(line, "[[plugins]] vecshard has no config: the plugin then reads VECSHARD_CONFIG from PgDog's environment and is skipped without it; set config = the plugin's configuration")
	case configPath != "" && !sameFile(p.Config, configPath):
		c.warnf(line, "[[plugins]] vecshard has config = %q but this check read %s: check the file PgDog passes (relative paths are PgDog's working directory's)", p.Config, configPath)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func quoteNames(ps []pgdogPlugin) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%q", p.Name)
	}
	return strings.Join(names, ", ")
}

// sameFile reports whether two paths name one file (or are equal when
// either cannot be read).
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}

// pgdogDB is one multi-shard database of pgdog.toml.
type pgdogDB struct {
	name   string
	shards int
}

// databases prints every database's shard count and returns the sharded
// ones, which the plugin routes for.
func (c *pgdogCheck) databases(w io.Writer) []pgdogDB {
	names, counts, gaps := c.f.shardCounts()
	if len(names) == 0 {
		c.errorf(0, "no [[databases]]: PgDog has no shards to route to; add one [[databases]] entry per shard (shard = 0, 1, ...)")
		return nil
	}
	r := router.New(c.snap)
	var dbs []pgdogDB
	for _, name := range names {
		n := counts[name]
		line := c.f.line("databases", c.firstDatabase(name), "")
		fmt.Fprintf(w, "  database %s: %d shard(s)\n", name, n)
		if g := gaps[name]; g >= 0 {
			c.errorf(line, "database %q has no [[databases]] entry for shard %d: PgDog counts %d shards and fails every statement sent to shard %d, including vecshard's ALL; add the missing shard", name, g, n, g)
		}
		if n == 1 {
			c.warnf(line, "database %q has one shard: PgDog does not ask the plugin there (primary-only or replica-only) or sends its answer to shard 0, so vecshard's tables are not sharded through it", name)
			continue
		}
		dbs = append(dbs, pgdogDB{name, n})
		// The router's own rule compares the counts: ask it about one
		// statement per table, as vecshard check does without --pgdog.
		var seen []string
		for _, t := range c.snap.Tables() {
			d := r.Route("SELECT 1 FROM "+qualifiedName(t), nil, n)
			if d.Kind == router.Error && indexOf(seen, d.Message) < 0 {
				seen = append(seen, d.Message)
				c.errorf(line, "database %q has %d shards, and vecshard refuses every statement on its tables there: %s", name, n, strings.TrimPrefix(d.Message, "vecshard: "))
			}
		}
	}
	if len(dbs) == 0 {
		c.errorf(0, "no database has more than one shard: nothing is sharded; give the vecshard database one [[databases]] entry per shard")
	}
	return dbs
}

func (c *pgdogCheck) firstDatabase(name string) int {
	for i, d := range c.f.Databases {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// entryFor returns the index of the named [[sharded_tables]] entry of db
// for t, or -1. PgDog matches the entry's name against the table's name as
// the query writes it, and its schema only when the query names one.
func (c *pgdogCheck) entryFor(db string, t *router.Table) int {
	for i, e := range c.f.ShardedTables {
		if e.Database == db && e.Name == t.Rel {
			return i
		}
	}
	return -1
}

// table checks one vecshard table against database db and prints what
// PgDog does with it when it skips the plugin.
func (c *pgdogCheck) table(w io.Writer, db pgdogDB, t *router.Table) {
	for i, o := range c.f.Omnisharded {
		if o.Database == db.name && indexOf(o.Tables, t.Rel) >= 0 {
			c.errorf(c.f.line("omnisharded_tables", i, ""), "table %s is in [[omnisharded_tables]] of %q: PgDog then answers vecshard's ALL reads from one shard and copies every INSERT to all shards if it skips the plugin; remove it from omnisharded_tables", t.Rel, db.name)
		}
	}
	i := c.entryFor(db.name, t)
	if i < 0 {
		c.errorf(0, "table %s of vecshard has no [[sharded_tables]] entry with database = %q and name = %q: PgDog treats it as omnisharded and answers every statement vecshard sends to ALL from the first shard only (SELECT count(*) counts one shard); add the entry (see docs/PGDOG.md)", t.Name, db.name, t.Rel)
		fmt.Fprintf(w, "  table %s: no [[sharded_tables]] entry in %s\n", t.Name, db.name)
		fmt.Fprintf(w, "    if PgDog skips the plugin: omnisharded: reads from one shard, every INSERT copied to all shards\n")
		return
	}
	e := &c.f.ShardedTables[i]
	line := c.f.line("sharded_tables", i, "")
	fmt.Fprintf(w, "  table %s: [[sharded_tables]] %s: column %s, %s", t.Name, c.f.where(line), e.Column, e.dataType())
	if e.Schema != "" {
		c.warnf(line, "the [[sharded_tables]] entry of %s sets schema = %q: PgDog matches it only when a query names that schema, and a query that writes plain %s gets the omnisharded treatment (vecshard's ALL reads answered from one shard); remove schema unless every query qualifies the table", t.Rel, e.Schema, t.Rel)
	}
	if t.Key == router.KeyVector {
		c.vectorTable(w, db, t, e, line)
	} else {
		c.idTable(w, db, t, e, line)
	}
}

// vectorTable checks PgDog's built-in vector sharding for a vector table:
// it must place every row where vecshard does when it skips the plugin.
func (c *pgdogCheck) vectorTable(w io.Writer, db pgdogDB, t *router.Table, e *pgdogShardedTable, line int) {
	if e.Column != t.VectorColumn || e.dataType() != "vector" {
		fmt.Fprintln(w)
		c.warnf(line, "table %s: vecshard places rows by %s but PgDog's entry names column %s (%s): if PgDog skips the plugin it places rows by that column, on other shards than vecshard's; set column = %q, data_type = \"vector\" and centroids_path to train-centroids --pgdog-out's file", t.Name, t.VectorColumn, e.Column, e.dataType(), t.VectorColumn)
		fmt.Fprintf(w, "    if PgDog skips the plugin: %s\n", skipByKey(e, t.KeyColumn(), db.shards))
		return
	}
	cents, path, ok := c.pgdogCentroids(t, e, line)
	if !ok {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "    if PgDog skips the plugin: no centroids: every INSERT copied to all shards, searches not placed")
		return
	}
	probes := e.CentroidProbes
	if probes < 1 {
		probes = int(math.Ceil(math.Sqrt(float64(len(cents.Centroids)))))
	}
	fmt.Fprintf(w, ", centroids %s (k = %d), probes %d\n", path, len(cents.Centroids), probes)
	// PgDog routes by its own keys before it calls the plugin
	// (R/query/mod.rs), so its centroids cost every statement, not only
	// the ones it routes when it skips the plugin.
	c.warnf(line, "table %s: centroids_path: PgDog places the vector itself before it calls the plugin, so a vector parameter in binary format (pgx, asyncpg) or of another dimension fails in PgDog and drops the client's connection; leave centroids_path out unless every client sends vectors as text (docs/PGDOG.md)", t.Name)
	if probes != 1 {
		how := "centroid_probes = " + fmt.Sprint(e.CentroidProbes)
		if e.CentroidProbes < 1 {
			how = fmt.Sprintf("no centroid_probes (PgDog's default is ceil(sqrt(k)) = %d)", probes)
		}
		c.errorf(line, "table %s: %s: if PgDog skips the plugin it writes each INSERT to the shards of the %d nearest centroids, so rows are duplicated; set centroid_probes = 1", t.Name, how, probes)
	}
	agree := c.sameCentroids(db, t, e, cents, line)
	if agree && t.Metric != centroids.L2 && !sameLengths(cents.Centroids) {
		agree = false
		c.errorf(line, "table %s: the centroids in %s have different lengths: PgDog's sharding is L2, which picks another nearest centroid than vecshard's %s for some vectors, so if PgDog skips the plugin those rows land on other shards; train with train-centroids (unit-length centroids for cosine) and write --pgdog-out", t.Name, path, t.Metric)
	}
	fmt.Fprint(w, "    if PgDog skips the plugin: ")
	if agree && probes == 1 {
		fmt.Fprintf(w, "INSERT and WHERE %s = ... go to vecshard's shard (PgDog's L2 picks the same centroid); ORDER BY %s <-> q goes to one shard; other searches (<=>, <#>) to all shards unsorted; an INSERT without %s to all shards\n", t.VectorColumn, t.VectorColumn, t.VectorColumn)
	} else {
		fmt.Fprintf(w, "rows placed by PgDog's own centroids, not where vecshard puts them\n")
	}
}

// pgdogCentroids returns the centroids PgDog loads for e: centroids_path
// (read from PgDog's working directory) over inline centroids.
func (c *pgdogCheck) pgdogCentroids(t *router.Table, e *pgdogShardedTable, line int) (*centroids.File, string, bool) {
	if e.CentroidsPath != "" {
		data, err := os.ReadFile(e.CentroidsPath)
		if err != nil && len(e.Centroids) == 0 {
			c.errorf(line, "table %s: centroids_path %q cannot be read (%v): PgDog only logs `centroids at path \"%s\" not found` and runs without centroids, so if it skips the plugin every INSERT goes to all shards; point centroids_path at train-centroids --pgdog-out's file (relative paths are PgDog's working directory's)", t.Name, e.CentroidsPath, errors.Unwrap(err), e.CentroidsPath)
			return nil, "", false
		}
		if err == nil {
			f, err := centroids.Parse(e.CentroidsPath, data)
			if err != nil {
				c.errorf(line, "table %s: centroids_path: %v: PgDog does not start with a centroid file it cannot parse; write it with train-centroids --pgdog-out", t.Name, err)
				return nil, "", false
			}
			return f, e.CentroidsPath, true
		}
	}
	if len(e.Centroids) == 0 {
		// The recommended entry: PgDog never decodes the vector.
		return nil, "", false
	}
	f := &centroids.File{Metric: t.Metric, Dim: len(e.Centroids[0])}
	for _, row := range e.Centroids {
		r := make([]float32, len(row))
		for j, v := range row {
			r[j] = float32(v)
		}
		f.Centroids = append(f.Centroids, r)
	}
	return f, "(inline)", true
}

// sameCentroids reports whether PgDog's centroids are vecshard's, centroid
// for centroid and shard for shard: PgDog puts centroid i on shard
// i % shards.
func (c *pgdogCheck) sameCentroids(db pgdogDB, t *router.Table, e *pgdogShardedTable, p *centroids.File, line int) bool {
	v, err := centroids.Load(t.CentroidsPath)
	if err != nil {
		return false // vecshard check already reports it
	}
	if len(p.Centroids) != len(v.Centroids) || p.Dim != v.Dim {
		c.errorf(line, "table %s: PgDog's centroids are %d of dimension %d, vecshard's (%s) %d of dimension %d: if PgDog skips the plugin it places rows on other shards (and a vector of vecshard's dimension makes PgDog panic if the dimensions differ); write both files in one train-centroids run (--out and --pgdog-out)", t.Name, len(p.Centroids), p.Dim, t.CentroidsPath, len(v.Centroids), v.Dim)
		return false
	}
	for i := range p.Centroids {
		if !nearlyEqual(p.Centroids[i], v.Centroids[i]) {
			c.errorf(line, "table %s: centroid %d of PgDog's file differs from centroid %d of vecshard's %s: if PgDog skips the plugin it places rows on other shards; write both files in one train-centroids run (--out and --pgdog-out)", t.Name, i, i, t.CentroidsPath)
			return false
		}
		if s := vecshardShard(v, i, db.shards); s != i%db.shards {
			c.errorf(line, "table %s: vecshard puts centroid %d on shard %d, PgDog on shard %d (centroid i on shard i %% %d): if PgDog skips the plugin it places rows on other shards; write both files in one train-centroids run (--out and --pgdog-out, which orders the cells for PgDog)", t.Name, i, s, i%db.shards, db.shards)
			return false
		}
	}
	return true
}

// vecshardShard is the shard vecshard puts centroid c of f on, with n
// shards in the pooler.
func vecshardShard(f *centroids.File, c, n int) int {
	switch {
	case f.Shards == 0:
		return c % n
	case f.ShardOf == nil:
		return c % f.Shards
	}
	return f.ShardOf[c]
}

// nearlyEqual compares two centroids to float32 rounding of their norm.
func nearlyEqual(a, b []float32) bool {
	var d, n float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d += x * x
		n += float64(a[i]) * float64(a[i])
	}
	return d <= 1e-10*max(n, 1e-30)
}

// sameLengths reports whether every centroid has the same length: then the
// L2-nearest centroid is also the cosine- and inner-product-nearest one
// (|q-c|^2 = |q|^2 + |c|^2 - 2 q.c).
func sameLengths(cs [][]float32) bool {
	lo, hi := math.Inf(1), 0.0
	for _, c := range cs {
		var n float64
		for _, x := range c {
			n += float64(x) * float64(x)
		}
		lo, hi = min(lo, math.Sqrt(n)), max(hi, math.Sqrt(n))
	}
	return hi <= lo*(1+1e-4)
}

// idTable checks an id table's entry; PgDog's hash is not vecshard's jump
// hash, so no entry makes PgDog place ids where vecshard does.
func (c *pgdogCheck) idTable(w io.Writer, db pgdogDB, t *router.Table, e *pgdogShardedTable, line int) {
	fmt.Fprintf(w, ", hasher %s\n", e.hasher())
	want := pgdogType(t.IDType)
	if e.Column != t.IDColumn || e.dataType() != want {
		c.warnf(line, "table %s: vecshard places rows by %s (%s) but PgDog's entry names column %s (%s): if PgDog skips the plugin it copies INSERTs without that column to all shards; set column = %q and data_type = %q", t.Name, t.IDColumn, t.IDType, e.Column, e.dataType(), t.IDColumn, want)
	}
	fmt.Fprintf(w, "    if PgDog skips the plugin: %s\n", skipByKey(e, t.IDColumn, db.shards))
}

// skipByKey says what PgDog does with a table when it routes it by its own
// [[sharded_tables]] entry e; key is vecshard's key column.
func skipByKey(e *pgdogShardedTable, key string, shards int) string {
	if e.dataType() == "vector" {
		return fmt.Sprintf("rows placed by PgDog's centroids on %s; an INSERT without %s to all shards", e.Column, e.Column)
	}
	s := fmt.Sprintf("INSERT and WHERE %s = ... go to PgDog's %s hash shard, not vecshard's jump hash shard (they agree for about 1 id in %d): new rows land where vecshard does not look, lookups miss existing rows", e.Column, e.hasher(), shards)
	if e.Column != key {
		s += fmt.Sprintf("; an INSERT without %s goes to all shards", e.Column)
	}
	return s
}

// pgdogType is PgDog's data_type for a vecshard id type.
func pgdogType(t idkey.Type) string {
	if t == idkey.Text {
		return "varchar"
	}
	return t.String()
}
