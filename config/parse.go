package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/vecdecode"
)

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

// Parse is Load of a configuration already read: data is the text of the
// file at path (centroid paths are resolved against path's directory).
// The steps run in file order and the first problem found is the one
// reported, so a file with several mistakes shows them one at a time.
func Parse(path string, data []byte) (*Config, error) {
	fc, md, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	p := &parser{path: path, dir: filepath.Dir(path), seen: map[string]bool{}}
	c, err := p.settings(fc, md)
	if err != nil {
		return nil, err
	}
	for i := range fc.Tables {
		t, err := p.table(c, i, &fc.Tables[i])
		if err != nil {
			return nil, err
		}
		c.Tables = append(c.Tables, t)
	}
	return c, nil
}

// decode reads the TOML into its shape: a syntax error or an unknown key
// is reported located, with what to write instead.
func decode(path string, data []byte) (*fileConfig, toml.MetaData, error) {
	var fc fileConfig
	md, err := toml.Decode(string(data), &fc)
	if err != nil {
		return nil, md, syntaxError(path, data, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, md, unknownKeyError(path, data, und)
	}
	return &fc, md, nil
}

// parser carries what the steps of one Parse share.
type parser struct {
	path string          // the configuration file
	dir  string          // its directory: centroid paths are relative to it
	seen map[string]bool // the tables so far, as schema.rel or rel
}

// bad is a problem with field of table ("" for the top level).
func (p *parser) bad(table, field string, format string, args ...any) error {
	return &Error{File: p.path, Table: table, Field: field, Err: fmt.Errorf(format, args...)}
}

// reword is bad with cause rewritten as the message: the user reads the
// message, errors.Is and errors.As reach the cause.
func (p *parser) reword(table, field string, cause error, format string, args ...any) error {
	return &Error{File: p.path, Table: table, Field: field, Err: &reworded{msg: fmt.Sprintf(format, args...), err: cause}}
}

// settings checks the top-level keys and fills in the defaults of those
// not set.
func (p *parser) settings(fc *fileConfig, md toml.MetaData) (*Config, error) {
	if md.IsDefined("shards") && fc.Shards < 1 {
		return nil, p.bad("", "shards", "must be at least 1, not %d", fc.Shards)
	}
	c := &Config{Path: p.path, Shards: fc.Shards, PlanCacheSize: DefaultPlanCacheSize, PlanCacheBytes: DefaultPlanCacheBytes}
	if md.IsDefined("plan_cache_size") {
		if fc.PlanCacheSize < 0 {
			return nil, p.bad("", "plan_cache_size", "must not be negative, not %d", fc.PlanCacheSize)
		}
		c.PlanCacheSize = fc.PlanCacheSize
	}
	if md.IsDefined("plan_cache_bytes") {
		if fc.PlanCacheMem < 0 {
			return nil, p.bad("", "plan_cache_bytes", "must not be negative, not %d", fc.PlanCacheMem)
		}
		c.PlanCacheBytes = fc.PlanCacheMem
	}
	if len(fc.Tables) == 0 {
		return nil, p.bad("", "tables", "no [[tables]] configured")
	}
	return c, nil
}

// table checks the i-th [[tables]] entry against itself and against the
// tables before it (c.Tables) and loads its centroids.
func (p *parser) table(c *Config, i int, tc *tableConfig) (*Table, error) {
	label := tc.Name // how errors name the table
	if label == "" {
		label = fmt.Sprintf("#%d", i+1)
	}
	t, err := p.name(c, label, tc.Name)
	if err != nil {
		return nil, err
	}
	t.AllowKeyUpdate, t.VectorColumn, t.IDColumn = tc.AllowKeyUpdate, tc.VectorColumn, tc.IDColumn
	if err := p.key(t, label, tc); err != nil {
		return nil, err
	}
	if t.Key == KeyID {
		return t, p.idOnly(label, tc)
	}
	return t, p.vector(c, t, label, tc)
}

// name splits the table's name and checks that no earlier table names
// the same table, or may (an unqualified name matches every schema).
func (p *parser) name(c *Config, label, name string) (*Table, error) {
	if name == "" {
		return nil, p.bad(label, "name", "missing")
	}
	schema, rel, err := splitName(name)
	if err != nil {
		return nil, p.bad(label, "name", "%w", err)
	}
	full := rel
	if schema != "" {
		full = schema + "." + rel
	}
	if p.seen[full] {
		return nil, p.bad(label, "name", "table configured twice")
	}
	p.seen[full] = true
	for _, o := range c.Tables {
		if o.Rel == rel && (o.Schema == "" || schema == "") {
			return nil, p.bad(label, "name", "overlaps table %q: an unqualified name matches every schema", o.Name)
		}
	}
	return &Table{Name: name, Schema: schema, Rel: rel}, nil
}

// key reads the key kind and the settings whose meaning depends on it:
// the id column and type, the cross-shard ranking policy, key updates.
func (p *parser) key(t *Table, label string, tc *tableConfig) error {
	switch tc.Key {
	case "vector":
		t.Key = KeyVector
	case "id":
		t.Key = KeyID
	case "":
		return p.bad(label, "key", `missing: set key = "vector" or key = "id"`)
	default:
		return p.bad(label, "key", `%q is not "vector" or "id"`, tc.Key)
	}
	// The id column, when given, must come with its type.
	if t.Key == KeyID {
		if tc.IDColumn == "" {
			return p.bad(label, "id_column", `missing: key = "id" needs id_column`)
		}
		if tc.IDType == "" {
			return p.bad(label, "id_type", `missing: key = "id" needs id_type (bigint, uuid or text)`)
		}
	}
	if tc.IDType != "" {
		it, err := idkey.ParseType(tc.IDType)
		if err != nil {
			return p.reword(label, "id_type", err, "%q is not bigint, uuid or text", tc.IDType)
		}
		t.IDType = it
	}
	if tc.CrossShard != "" {
		if t.Key != KeyVector {
			return p.bad(label, "cross_shard_ranking", `only vector tables are ranked by distance; this table has key = "id"`)
		}
		pol, err := ParseRankingPolicy(tc.CrossShard)
		if err != nil {
			return p.bad(label, "cross_shard_ranking", "%w", err)
		}
		t.CrossShard = pol
	}
	if tc.AllowKeyUpdate && t.Key != KeyVector {
		return p.bad(label, "allow_key_update", `only vector tables can allow key updates: an id row would have to move`)
	}
	return nil
}

// idOnly checks that an id table sets none of the vector tables' keys,
// vector_type aside (a valid one is allowed: the column may exist).
func (p *parser) idOnly(label string, tc *tableConfig) error {
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
		return p.bad(label, field, `only vector tables use centroids, metric, probes and dim; this table has key = "id"`)
	}
	if tc.VectorType != "" {
		if _, err := parseVectorType(tc.VectorType); err != nil {
			return p.bad(label, "vector_type", "%w", err)
		}
	}
	return nil
}

// vector checks a vector table's column and type and loads its centroid
// set: the file, its metric and dimensions, its shard count against the
// configuration and the earlier tables, and the probes it allows.
func (p *parser) vector(c *Config, t *Table, label string, tc *tableConfig) error {
	if tc.VectorColumn == "" {
		return p.bad(label, "vector_column", `missing: key = "vector" needs vector_column`)
	}
	if tc.Centroids == "" {
		return p.bad(label, "centroids", `missing: key = "vector" needs a centroids file`)
	}
	vt, err := parseVectorType(tc.VectorType)
	if err != nil {
		return p.bad(label, "vector_type", "%w", err)
	}
	t.VectorType = vt
	t.CentroidsPath = resolve(p.dir, tc.Centroids)
	f, err := p.centroidFile(t, label, tc)
	if err != nil {
		return err
	}
	if err := p.shardCount(c, label, t.CentroidsPath, f.Shards); err != nil {
		return err
	}
	set, err := centroids.New(f)
	if err != nil {
		return p.bad(label, "centroids", "%w", err)
	}
	t.Set = set
	t.Probes = 1
	if tc.Probes != nil {
		t.Probes = *tc.Probes
	}
	if t.Probes < 1 || t.Probes > set.K() {
		return p.bad(label, "probes", "%d is out of range 1..%d (the centroid file has %d centroids)", t.Probes, set.K(), set.K())
	}
	return nil
}

// centroidFile loads t's centroid file and settles its metric (the one
// the file states, else cosine; metric may repeat the stated one or set
// it) and dimensions (dim, when set, must be the file's).
func (p *parser) centroidFile(t *Table, label string, tc *tableConfig) (*centroids.File, error) {
	cpath := t.CentroidsPath
	f, err := centroids.Load(cpath)
	if err != nil {
		return nil, p.bad(label, "centroids", "%w", err)
	}
	fileMetric, stated := statedMetric(cpath)
	metric := f.Metric
	if !stated {
		metric = centroids.Cosine
	}
	if tc.Metric != "" {
		m, err := centroids.ParseMetric(tc.Metric)
		if err != nil {
			return nil, p.reword(label, "metric", err, "%q is not cosine, l2 or inner_product", tc.Metric)
		}
		if stated && fileMetric != tc.Metric {
			return nil, p.bad(label, "metric", "%q, but the centroid file %s was trained for %q", tc.Metric, cpath, fileMetric)
		}
		metric = m
	}
	f.Metric = metric
	t.Metric = metric
	if tc.Dim != 0 && tc.Dim != f.Dim {
		return nil, p.bad(label, "dim", "%d, but the centroid file %s has %d dimensions", tc.Dim, cpath, f.Dim)
	}
	return f, nil
}

// shardCount checks the shard count a centroid file at cpath is for
// (fileShards; 0 for a bare file) against the configuration's and the
// earlier tables' files.
func (p *parser) shardCount(c *Config, label, cpath string, fileShards int) error {
	// A bare file (PgDog's format) fixes no shard count: centroid i goes
	// to shard i % (the host's count), as in PgDog's built-in vector
	// sharding, so any k fits any pooler.
	if fileShards == 0 {
		return nil
	}
	if c.Shards != 0 && fileShards != c.Shards {
		return p.bad(label, "centroids", "the centroid file %s is for %d shards, the configuration says shards = %d", cpath, fileShards, c.Shards)
	}
	// Without a configured count the files must agree: one pooler has one
	// shard count, so a disagreeing table could never be routed.
	for _, o := range c.Tables {
		if o.Set != nil && !o.Set.Bare() && o.Set.Shards() != fileShards {
			return p.bad(label, "centroids", "the centroid file %s is for %d shards, but %s (table %q) is for %d", cpath, fileShards, o.CentroidsPath, o.Name, o.Set.Shards())
		}
	}
	return nil
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
