package router

import (
	"sync"

	"github.com/vecshard/vecshard/config"
)

// The key kinds (config.KeyKind), named here for the routing rules that
// test them and for the users of Snapshot.Tables.
const (
	KeyVector = config.KeyVector
	KeyID     = config.KeyID
)

// Table is a configured table as the router reads it (config.Table). It
// is read-only once part of a Snapshot.
type Table = config.Table

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

// Load reads the plugin's TOML configuration at path and every centroid file
// it names (relative paths are relative to the configuration file), checks
// them against each other and returns the immutable snapshot. Any problem is
// a *config.Error naming the file, the table and the field; nothing is
// partially loaded.
func Load(path string, opts ...Option) (*Snapshot, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	s := newSnapshot(c)
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// newSnapshot builds the snapshot of a loaded configuration, with empty
// plan caches of its size.
func newSnapshot(c *config.Config) *Snapshot {
	s := &Snapshot{
		path:   c.Path,
		shards: c.Shards,
		tables: c.Tables,
		cache:  newPlanCache(c.PlanCacheSize, c.PlanCacheBytes),
		trees:  newPlanCache(c.PlanCacheSize, c.PlanCacheBytes),
	}
	s.pool.New = newScratch
	return s
}
