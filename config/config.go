// Package config reads vecshard's TOML configuration (docs/ROUTING.md,
// "Configuration"): the shard count, the plan cache bounds and the sharded
// tables, each with its key and, for a vector table, its centroid file
// loaded and checked against the table and the other tables. Load is all
// or nothing: any problem is an *Error naming the file, the line when it
// is known, the table and the field, and saying what to write instead.
//
// The package knows the file, not the routing: package router builds its
// snapshot from a Config.
package config

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/vecdecode"
)

// DefaultPlanCacheSize is the number of analysed statements the router
// keeps when the configuration does not set plan_cache_size.
const DefaultPlanCacheSize = 10000

// DefaultPlanCacheBytes bounds the memory of the plan cache when the
// configuration does not set plan_cache_bytes: the sum of the lengths of
// the cached query texts, in bytes. A statement longer than 1/64 of it
// (the size of one cache shard) is analysed every time.
const DefaultPlanCacheBytes = 64 << 20

// Config is one loaded configuration file. It is read-only once loaded.
type Config struct {
	Path   string // the TOML file, as given to Load
	Shards int    // the configured shard count; 0 when the file sets none

	PlanCacheSize  int // analysed statements kept (DefaultPlanCacheSize unless set)
	PlanCacheBytes int // bytes of query text kept (DefaultPlanCacheBytes unless set)

	Tables []*Table // in file order; at least one
}

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
// centroids loaded. It is read-only once loaded.
type Table struct {
	Name   string // as configured: "items" or "public.items"
	Schema string // "" when Name is unqualified: it then matches any schema
	Rel    string // the table name without schema

	Key KeyKind

	VectorColumn   string         // vector tables; may also be set on id tables
	VectorType     vecdecode.Type // the column's type: how literals and parameters are read
	CentroidsPath  string         // the centroid file, resolved against the configuration's directory
	Metric         centroids.Metric
	Probes         int  // centroids searched per ORDER BY query, 1..K
	AllowKeyUpdate bool // UPDATE ... SET vector_column is allowed (the row keeps its shard)

	// CrossShard says how a ranking of this vector table that needs more
	// than one shard is answered when the pooler cannot merge its ORDER BY
	// (cross_shard_ranking; RankMergeable when not set).
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

// Load reads the configuration at path and every centroid file it names
// (relative paths are relative to the configuration file) and checks them
// against each other. Any problem is an *Error; nothing is partially
// loaded.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Parse(path, data)
}

// Files lists the configuration file at path and the centroid files it
// names, resolved as Load resolves them, without repeats: the files a
// configuration depends on, for a watcher that reloads it. Only the TOML
// needs to decode, not to validate, so that a configuration that does not
// load still names the files whose change may fix it; an unreadable file
// yields just path (fixing it is the change to wait for).
func Files(path string) []string {
	files := []string{path}
	// Only the centroid paths: a mistake elsewhere must not hide them.
	var c struct {
		Tables []struct {
			Centroids string `toml:"centroids"`
		} `toml:"tables"`
	}
	if _, err := toml.DecodeFile(path, &c); err != nil {
		return files
	}
	for _, t := range c.Tables {
		if t.Centroids == "" {
			continue
		}
		if f := resolve(filepath.Dir(path), t.Centroids); !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	return files
}

// resolve makes a path the configuration names absolute: relative to the
// configuration's directory dir.
func resolve(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
