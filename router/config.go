package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/vecdecode"
)

// DefaultPlanCacheSize is the number of analysed statements a Snapshot keeps
// when the configuration does not set plan_cache_size.
const DefaultPlanCacheSize = 10000

// DefaultPlanCacheBytes bounds the memory of the plan cache: the sum of the
// lengths of the cached query texts. A statement longer than
// 1/64 of it (the size of one cache shard) is analysed every time.
const DefaultPlanCacheBytes = 64 << 20

// KeyKind says what places a table's rows.
type KeyKind uint8

// The key kinds of ROUTING.md.
const (
	// KeyVector places a row on the shard of the centroid most similar to
	// its vector column.
	KeyVector KeyKind = iota + 1
	// KeyID places a row on jump(hash(id), shards).
	KeyID
)

// String returns the config spelling: "vector" or "id".
func (k KeyKind) String() string {
	switch k {
	case KeyVector:
		return "vector"
	case KeyID:
		return "id"
	}
	return "unknown"
}

// Table is one [[tables]] entry of the configuration, validated, with its
// centroids loaded. It is read-only once part of a Snapshot.
type Table struct {
	Name   string // as configured: "items" or "public.items"
	Schema string // "" when Name is unqualified: it then matches any schema
	Rel    string // the table name without schema

	Key KeyKind

	VectorColumn   string         // vector tables; may also be set on id tables
	VectorType     vecdecode.Type // the column's type: how literals and parameters are read
	CentroidsPath  string         // absolute path of the centroid file
	Metric         centroids.Metric
	Probes         int  // centroids searched per ORDER BY query, 1..K
	AllowKeyUpdate bool // UPDATE ... SET vector_column is allowed (the row keeps its shard)

	// CrossShard says what a ranking of this table that needs more than one
	// shard is answered when the pooler cannot merge its ORDER BY (vector
	// tables; see RankingPolicy).
	CrossShard RankingPolicy

	IDColumn string // id tables; optional for vector tables
	IDType   idkey.Type

	// Set is the loaded centroid set of a vector table, nil for id tables.
	// Centroid c is on shard Set.ShardFor(c, n) under a pooler of n
	// shards: c % n for a bare file (PgDog's format, any n unless the
	// configuration sets shards), else the file's shard_of (n must then
	// equal Set.Shards()).
	Set *centroids.Set
}

// KeyColumn is the column whose value places a row.
func (t *Table) KeyColumn() string {
	if t.Key == KeyVector {
		return t.VectorColumn
	}
	return t.IDColumn
}

// Snapshot is one loaded configuration: the tables with their centroid sets
// and the plan cache that belongs to them. A Snapshot never changes after
// Load (the cache aside, which only memoises); replace it as a whole with
// Router.Swap.
type Snapshot struct {
	path   string
	shards int // 0: not configured
	tables []*Table
	cache  *planCache   // SQL text -> plan
	trees  *planCache   // flat parse trees (RouteTree) -> plan
	text   TextFrontEnd // nil: SQL text is not analysed
	host   *Host        // the pooler's merge rules; nil: not known (rankings needing every shard go to ALL)
	pool   sync.Pool    // *scratch
}

// Option adjusts a snapshot as Load builds it.
type Option func(*Snapshot)

// WithText makes the snapshot route SQL text (Route, Explain) through fe.
func WithText(fe TextFrontEnd) Option { return func(s *Snapshot) { s.text = fe } }

// Path is the configuration file the snapshot was loaded from.
func (s *Snapshot) Path() string { return s.path }

// Shards is the configured shard count, 0 when the file does not set one.
func (s *Snapshot) Shards() int { return s.shards }

// Tables lists the configured tables in file order. The caller must not
// modify them.
func (s *Snapshot) Tables() []*Table { return s.tables }

// Table returns the configured table that a reference schema.rel (schema
// may be empty) names, or nil. An unqualified configured name matches any
// schema; a qualified one matches its schema and unqualified references
// (PostgreSQL's default search_path resolves those to it).
func (s *Snapshot) Table(schema, rel string) *Table {
	for _, t := range s.tables {
		if t.Rel == rel && (t.Schema == "" || schema == "" || t.Schema == schema) {
			return t
		}
	}
	return nil
}

// fileConfig is the TOML shape.
type fileConfig struct {
	Shards        int           `toml:"shards"`
	PlanCacheSize int           `toml:"plan_cache_size"`
	PlanCacheMem  int           `toml:"plan_cache_bytes"`
	Tables        []tableConfig `toml:"tables"`
}

type tableConfig struct {
	Name           string `toml:"name"`
	Key            string `toml:"key"`
	VectorColumn   string `toml:"vector_column"`
	VectorType     string `toml:"vector_type"`
	Centroids      string `toml:"centroids"`
	Metric         string `toml:"metric"`
	Probes         *int   `toml:"probes"`
	Dim            int    `toml:"dim"`
	IDColumn       string `toml:"id_column"`
	IDType         string `toml:"id_type"`
	AllowKeyUpdate bool   `toml:"allow_key_update"`
	CrossShard     string `toml:"cross_shard_ranking"`
}

// ConfigError is a problem with the configuration file, located as
// precisely as the problem allows.
type ConfigError struct {
	File  string // the TOML file
	Line  int    // 1-based line of the problem, 0 when not known
	Col   int    // 1-based column (bytes) when Line is a syntax error's, else 0
	Table string // the [[tables]] name, "" for file-level problems
	Field string // the TOML key, "" when the problem is not one field's
	Err   error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ", column %d", e.Col)
		}
	}
	if e.Table != "" {
		fmt.Fprintf(&b, ": table %q", e.Table)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Load reads the plugin's TOML configuration at path and every centroid file
// it names (relative paths are relative to the configuration file), checks
// them against each other and returns the immutable snapshot. Any problem is
// an error naming the file, the table and the field; nothing is partially
// loaded.
func Load(path string, opts ...Option) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Err: err}
	}
	s, err := parseConfig(path, data)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

func parseConfig(path string, data []byte) (*Snapshot, error) {
	var fc fileConfig
	md, err := toml.Decode(string(data), &fc)
	if err != nil {
		return nil, syntaxError(path, data, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, unknownKeyError(path, data, und)
	}
	bad := func(table, field string, format string, args ...any) error {
		return &ConfigError{File: path, Table: table, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if md.IsDefined("shards") && fc.Shards < 1 {
		return nil, bad("", "shards", "must be at least 1, not %d", fc.Shards)
	}
	cacheSize := DefaultPlanCacheSize
	if md.IsDefined("plan_cache_size") {
		if fc.PlanCacheSize < 0 {
			return nil, bad("", "plan_cache_size", "must not be negative, not %d", fc.PlanCacheSize)
		}
		cacheSize = fc.PlanCacheSize
	}
	cacheBytes := DefaultPlanCacheBytes
	if md.IsDefined("plan_cache_bytes") {
		if fc.PlanCacheMem < 0 {
			return nil, bad("", "plan_cache_bytes", "must not be negative, not %d", fc.PlanCacheMem)
		}
		cacheBytes = fc.PlanCacheMem
	}
	if len(fc.Tables) == 0 {
		return nil, bad("", "tables", "no [[tables]] configured")
	}
	dir := filepath.Dir(path)
	s := &Snapshot{path: path, shards: fc.Shards}
	seen := map[string]bool{}
	for i, tc := range fc.Tables {
		name := tc.Name
		label := name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		if name == "" {
			return nil, bad(label, "name", "missing")
		}
		schema, rel, err := splitName(name)
		if err != nil {
			return nil, bad(label, "name", "%w", err)
		}
		full := rel
		if schema != "" {
			full = schema + "." + rel
		}
		if seen[full] {
			return nil, bad(label, "name", "table configured twice")
		}
		seen[full] = true
		for _, o := range s.tables {
			if o.Rel == rel && (o.Schema == "" || schema == "") {
				return nil, bad(label, "name", "overlaps table %q: an unqualified name matches every schema", o.Name)
			}
		}
		t := &Table{Name: name, Schema: schema, Rel: rel, AllowKeyUpdate: tc.AllowKeyUpdate,
			VectorColumn: tc.VectorColumn, IDColumn: tc.IDColumn}
		switch tc.Key {
		case "vector":
			t.Key = KeyVector
		case "id":
			t.Key = KeyID
		case "":
			return nil, bad(label, "key", `missing: set key = "vector" or key = "id"`)
		default:
			return nil, bad(label, "key", `%q is not "vector" or "id"`, tc.Key)
		}
		// The id column, when given, must come with its type.
		if t.Key == KeyID {
			if tc.IDColumn == "" {
				return nil, bad(label, "id_column", `missing: key = "id" needs id_column`)
			}
			if tc.IDType == "" {
				return nil, bad(label, "id_type", `missing: key = "id" needs id_type (bigint, uuid or text)`)
			}
		}
		if tc.IDType != "" {
			it, err := idkey.ParseType(tc.IDType)
			if err != nil {
				return nil, bad(label, "id_type", "%q is not bigint, uuid or text", tc.IDType)
			}
			t.IDType = it
		}
		if tc.CrossShard != "" {
			if t.Key != KeyVector {
				return nil, bad(label, "cross_shard_ranking", `only vector tables are ranked by distance; this table has key = "id"`)
			}
			pol, err := ParseRankingPolicy(tc.CrossShard)
			if err != nil {
				return nil, bad(label, "cross_shard_ranking", "%w", err)
			}
			t.CrossShard = pol
		}
		if tc.AllowKeyUpdate && t.Key != KeyVector {
			return nil, bad(label, "allow_key_update", `only vector tables can allow key updates: an id row would have to move`)
		}
		if t.Key == KeyID {
			if tc.Centroids != "" || tc.Metric != "" || tc.Probes != nil || tc.Dim != 0 {
				field := "centroids"
				switch {
				case tc.Metric != "":
					field = "metric"
				case tc.Probes != nil:
					field = "probes"
				case tc.Dim != 0:
					field = "dim"
				}
				if tc.Centroids != "" {
					field = "centroids"
				}
				return nil, bad(label, field, `only vector tables use centroids, metric, probes and dim; this table has key = "id"`)
			}
			if tc.VectorType != "" {
				if _, err := parseVectorType(tc.VectorType); err != nil {
					return nil, bad(label, "vector_type", "%w", err)
				}
			}
			s.tables = append(s.tables, t)
			continue
		}
		if tc.VectorColumn == "" {
			return nil, bad(label, "vector_column", `missing: key = "vector" needs vector_column`)
		}
		if tc.Centroids == "" {
			return nil, bad(label, "centroids", `missing: key = "vector" needs a centroids file`)
		}
		vt, err := parseVectorType(tc.VectorType)
		if err != nil {
			return nil, bad(label, "vector_type", "%w", err)
		}
		t.VectorType = vt
		cpath := tc.Centroids
		if !filepath.IsAbs(cpath) {
			cpath = filepath.Join(dir, cpath)
		}
		t.CentroidsPath = cpath
		f, err := centroids.Load(cpath)
		if err != nil {
			return nil, bad(label, "centroids", "%w", err)
		}
		fileMetric, stated := statedMetric(cpath)
		metric := f.Metric
		if !stated {
			metric = centroids.Cosine
		}
		if tc.Metric != "" {
			m, err := centroids.ParseMetric(tc.Metric)
			if err != nil {
				return nil, bad(label, "metric", "%q is not cosine, l2 or inner_product", tc.Metric)
			}
			if stated && fileMetric != tc.Metric {
				return nil, bad(label, "metric", "%q, but the centroid file %s was trained for %q", tc.Metric, cpath, fileMetric)
			}
			metric = m
		}
		f.Metric = metric
		t.Metric = metric
		if tc.Dim != 0 && tc.Dim != f.Dim {
			return nil, bad(label, "dim", "%d, but the centroid file %s has %d dimensions", tc.Dim, cpath, f.Dim)
		}
		// A bare file (PgDog's format) fixes no shard count: centroid i
		// goes to shard i % (the host's count), as in PgDog's built-in
		// vector sharding, so any k fits any pooler.
		if fileShards := f.Shards; fileShards != 0 {
			if fc.Shards != 0 && fileShards != fc.Shards {
				return nil, bad(label, "centroids", "the centroid file %s is for %d shards, the configuration says shards = %d", cpath, fileShards, fc.Shards)
			}
			// Without a configured count the files must agree: one pooler
			// has one shard count, so a disagreeing table could never be
			// routed.
			for _, o := range s.tables {
				if o.Set != nil && !o.Set.Bare() && o.Set.Shards() != fileShards {
					return nil, bad(label, "centroids", "the centroid file %s is for %d shards, but %s (table %q) is for %d", cpath, fileShards, o.CentroidsPath, o.Name, o.Set.Shards())
				}
			}
		}
		set, err := centroids.New(f)
		if err != nil {
			return nil, bad(label, "centroids", "%w", err)
		}
		t.Set = set
		t.Probes = 1
		if tc.Probes != nil {
			t.Probes = *tc.Probes
		}
		if t.Probes < 1 || t.Probes > set.K() {
			return nil, bad(label, "probes", "%d is out of range 1..%d (the centroid file has %d centroids)", t.Probes, set.K(), set.K())
		}
		s.tables = append(s.tables, t)
	}
	s.cache = newPlanCache(cacheSize, cacheBytes)
	s.trees = newPlanCache(cacheSize, cacheBytes)
	s.pool.New = newScratch
	return s, nil
}

// tableOfUndecoded finds the name of the n-th [[tables]] entry for an
// undecoded key such as tables.foo; BurntSushi/toml does not report array
// indices, so the name is recovered by decoding the names alone.
func tableOfUndecoded(data []byte, key toml.Key) string {
	var names struct {
		Tables []map[string]any `toml:"tables"`
	}
	if _, err := toml.Decode(string(data), &names); err != nil {
		return ""
	}
	field := key[len(key)-1]
	for _, t := range names.Tables {
		if _, ok := t[field]; ok {
			if n, ok := t["name"].(string); ok {
				return n
			}
		}
	}
	return ""
}

// statedMetric reports the metric a vecshard-centroids/1 file states; the
// bare-array form states none.
func statedMetric(path string) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var head struct {
		Metric *string `json:"metric"`
	}
	if json.Unmarshal(data, &head) != nil || head.Metric == nil {
		return "", false
	}
	return *head.Metric, true
}

func parseVectorType(s string) (vecdecode.Type, error) {
	switch s {
	case "", "vector":
		return vecdecode.Vector, nil
	case "halfvec":
		return vecdecode.Halfvec, nil
	case "sparsevec":
		return vecdecode.Sparsevec, nil
	}
	return 0, fmt.Errorf("%q is not vector, halfvec or sparsevec", s)
}

// splitName splits a configured table name into schema and relation. Names
// are compared as PostgreSQL stores them: write them in lower case unless
// the table was created with a quoted identifier; double quotes are allowed
// and removed ("My Table"."Items").
func splitName(name string) (schema, rel string, err error) {
	parts, err := splitIdent(name)
	if err != nil {
		return "", "", err
	}
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("%q: want table or schema.table", name)
}

func splitIdent(s string) ([]string, error) {
	var parts []string
	for {
		var part string
		if strings.HasPrefix(s, `"`) {
			end := 1
			var b strings.Builder
			for {
				i := strings.IndexByte(s[end:], '"')
				if i < 0 {
					return nil, errors.New("unterminated quoted identifier")
				}
				b.WriteString(s[end : end+i])
				end += i + 1
				if strings.HasPrefix(s[end:], `"`) {
					b.WriteByte('"')
					end++
					continue
				}
				break
			}
			part, s = b.String(), s[end:]
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			part, s = s[:i], s[i:]
			if strings.ContainsAny(part, " \t\"") {
				return nil, fmt.Errorf("%q: quote identifiers that contain spaces or quotes", part)
			}
		}
		if part == "" {
			return nil, errors.New("empty identifier")
		}
		parts = append(parts, part)
		if s == "" {
			return parts, nil
		}
		if s[0] != '.' {
			return nil, errors.New("junk after quoted identifier")
		}
		s = s[1:]
	}
}

// syntaxError locates a TOML error. BurntSushi/toml reports the line
// after the lexer has moved past a newline (an unclosed [[tables]
// header is reported on the next line), so the line and column are
// recomputed from the error's byte offset, which points at the character
// that was not expected.
func syntaxError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &ConfigError{File: path, Err: err}
	}
	line, col := pe.Position.Line, pe.Position.Col
	if st := pe.Position.Start; st >= 0 && st <= len(data) {
		line = 1 + strings.Count(string(data[:st]), "\n")
		col = st - strings.LastIndexByte(string(data[:st]), '\n')
	}
	msg := strings.ReplaceAll(pe.Message, `'\n'`, "the end of the line")
	text := ""
	if lines := strings.Split(string(data), "\n"); line >= 1 && line <= len(lines) {
		text = strings.TrimSpace(lines[line-1])
	}
	if text != "" {
		msg = fmt.Sprintf("%s (the line reads %q", msg, text)
		if strings.HasPrefix(text, "[[") && !strings.Contains(text, "]]") {
			msg += `; a table array header is written [[tables]]`
		} else if strings.HasPrefix(text, "[") && !strings.Contains(text, "]") {
			msg += `; a table header is written [name]`
		}
		msg += ")"
	}
	return &ConfigError{File: path, Line: line, Col: col, Err: &syntaxErr{msg: "TOML syntax: " + msg, err: err}}
}

// syntaxErr is a TOML syntax error reworded; it unwraps to the parser's
// toml.ParseError.
type syntaxErr struct {
	msg string
	err error
}

func (e *syntaxErr) Error() string { return e.msg }
func (e *syntaxErr) Unwrap() error { return e.err }

// The keys the configuration knows, for "did you mean".
var (
	topKeys   = []string{"shards", "plan_cache_size", "plan_cache_bytes", "tables"}
	tableKeys = []string{"name", "key", "vector_column", "vector_type", "centroids", "metric", "probes", "dim", "id_column", "id_type", "allow_key_update", "cross_shard_ranking"}
)

// unknownKeyError names the first unknown key with its line, its table
// and the known key it is most likely a misspelling of.
func unknownKeyError(path string, data []byte, und []toml.Key) error {
	k := und[0]
	ce := &ConfigError{File: path, Field: k.String(), Line: keyLine(data, k)}
	known := topKeys
	if len(k) >= 2 && k[0] == "tables" {
		ce.Field = k[len(k)-1]
		ce.Table = tableOfUndecoded(data, k)
		known = tableKeys
	}
	where := "at the top level"
	if len(k) >= 2 && k[0] == "tables" {
		where = "in [[tables]]"
	}
	msg := "unknown key"
	if s := closest(ce.Field, known); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += fmt.Sprintf(" (the keys %s are %s)", where, strings.Join(known, ", "))
	}
	if len(und) > 1 {
		others := make([]string, 0, len(und)-1)
		for _, o := range und[1:] {
			if !strings.HasPrefix(o.String(), k.String()+".") {
				others = append(others, o.String())
			}
		}
		if len(others) > 0 {
			msg += " (also unknown: " + strings.Join(others, ", ") + ")"
		}
	}
	ce.Err = errors.New(msg)
	return ce
}

// keyLine finds the line of key in a TOML text: an assignment of its last
// part under the header of the rest, or the header itself. 0: not found.
func keyLine(data []byte, key toml.Key) int {
	section := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	cur := ""
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			h := strings.TrimSpace(strings.Trim(strings.SplitN(l, "#", 2)[0], " []"))
			if len(key) == 1 && h == last {
				return i + 1
			}
			cur = h
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if ok && cur == section && strings.Trim(strings.TrimSpace(name), `"'`) == last {
			return i + 1
		}
	}
	return 0
}

// closest returns the candidate nearest to s in edit distance, when it is
// near enough to be a misspelling (at most a third of its length, and at
// most 3 edits), else the one candidate s is a prefix of (at least 5
// bytes: a shortened key such as cross_shard), else "".
func closest(s string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && d <= max(1, len(c)/3) {
			best, bestD = c, d
		}
	}
	if best != "" || len(s) < 5 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, s) {
			if best != "" {
				return "" // several: no suggestion
			}
			best = c
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b in bytes (keys
// are ASCII); 20 lines do not earn a dependency.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
