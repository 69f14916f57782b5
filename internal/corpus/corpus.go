// Package corpus is a routing corpus: statements with their bound
// parameters and the host's shard count, covering every row of
// docs/ROUTING.md's statement table and the value formats of FORMATS.md.
// The configuration the cases are written against is testdata/vecshard.toml
// (see its comments for the geometry); testdata/golden.txt records the
// decisions of the router under PgDog v0.1.54's merge rules (what the
// vtable library routes by; golden_test.go checks that without them only
// ALL answers differ), so that a second front end (or a restructuring) can
// be compared statement by statement.
//
// Name prefixes with a meaning for front ends: "hint/" cases depend on
// comment text (a front end without query text cannot see them),
// "syntax/" cases do not parse, "pg18/" cases use PostgreSQL 17/18 syntax
// that a PostgreSQL 16 grammar cannot parse. No other case has a comment.
//
// The package is plain Go (no cgo) and has no dependencies.
package corpus

import (
	"path/filepath"
	"runtime"
)

// Param is one bound parameter. Null: SQL NULL (Data ignored). Binary: binary format.
type Param struct {
	Data   []byte
	Binary bool
	Null   bool
}

// Case is one statement with its parameters.
type Case struct {
	Name   string // unique, stable, short: "select/order-cosine-param-bin"
	SQL    string
	Params []Param
	Shards int // the host's shard count for this call (4 for almost all; some 3 or 8 to test mismatches)
}

// Cases returns the corpus, in the same order every time. Every call
// returns fresh slices: callers may modify them.
func Cases() []Case {
	b := &builder{}
	b.search()
	b.shapes()
	b.vectorTables()
	b.ids()
	b.inserts()
	b.updates()
	b.queries()
	b.commands()
	b.utility()
	b.edges()
	b.hints()
	b.syntax()
	b.pg18()
	return b.cases
}

// ConfigDir is the absolute path of the package's testdata directory: it
// holds vecshard.toml and the centroid files it names.
func ConfigDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("corpus: runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "testdata")
}

// builder collects the cases.
type builder struct{ cases []Case }

// add adds a case for a host with 4 shards.
func (b *builder) add(name, sql string, params ...Param) {
	b.addN(name, 4, sql, params...)
}

// addN adds a case for a host with shards shards.
func (b *builder) addN(name string, shards int, sql string, params ...Param) {
	if params == nil {
		params = []Param{}
	}
	b.cases = append(b.cases, Case{Name: name, SQL: sql, Params: params, Shards: shards})
}

// vec adds name+"-text" and name+"-bin": sql with v as its only parameter,
// in pgvector's text and binary formats.
func (b *builder) vec(name, sql string, v ...float32) {
	b.add(name+"-text", sql, txt(vecText(v...)))
	b.add(name+"-bin", sql, vecBin(v...))
}
