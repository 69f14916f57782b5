// Package pgdogexec runs SQL statements on real shards where PgDog v0.1.54
// would run them, with the answers of the real vecshard library. It is a
// test instrument, not a product: no pooling, no protocol server, one
// statement at a time.
//
// Each statement is routed by the real library loaded in the PgDog-like
// host (`pgdog-host serve`, which calls it with PostgreSQL 18 parse trees
// and the parameters exactly as the client sends them, and follows PgDog's
// rules on when it calls a plugin at all). The answer is then applied as
// PgDog applies it; each rule below names the PgDog file it restates (paths
// in PgDog's repository: R/ = pgdog/src/frontend/router/parser, C/ =
// pgdog/src/backend/pool/connection). docs/PGDOG.md has the same facts in
// prose; a new PgDog version is one review of this file and merge.go.
//
//   - Direct(n): the statement runs on shard n.
//   - Blocked: the client gets SQLSTATE 42601, `query is blocked by plugin
//     "vecshard"`, the SQL as detail (R/query/plugins.rs, frontend client).
//   - All: every shard; the results are merged (merge.go), except that a
//     statement on tables PgDog's own [[sharded_tables]] does not name is
//     "omnisharded" and returns the first shard's rows and row count only
//     (R/query/select.rs, C/multi_shard/mod.rs).
//   - Unknown: PgDog's own rules. For tables neither vecshard nor PgDog
//     shards (omnisharded) a read runs on one shard and a write on every
//     shard, reporting the first; PgDog's own key sharding is not emulated
//     (an error says so).
//   - No call (Parse or Describe without Bind, SET, BEGIN, ...): PgDog routes
//     it itself; not emulated (ErrNotRouted).
package pgdogexec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotRouted is returned for requests PgDog routes without the plugin.
var ErrNotRouted = errors.New("pgdogexec: PgDog does not call the plugin for this request")

// ErrNotEmulated is returned where PgDog's behaviour is not reproduced here.
var ErrNotEmulated = errors.New("pgdogexec: not emulated")

// ErrPgDogPanics is returned where PgDog v0.1.54 panics and drops the
// client's connection.
var ErrPgDogPanics = errors.New("pgdogexec: PgDog v0.1.54 panics here and drops the client's connection")

// Cluster is the shards behind one emulated PgDog database.
type Cluster struct {
	Shards []*pgxpool.Pool
	Router Router
	// Declared holds the tables named in PgDog's [[sharded_tables]].
	Declared map[string]bool

	stmts sync.Map // SQL -> *stmt
}

// Request is one client request.
type Request struct {
	SQL           string
	Params        [][]byte // nil element: NULL
	Formats       []int16  // Bind's parameter format codes
	ResultFormats []int16  // Bind's result format codes
	Simple        bool     // simple-protocol Query (no parameters)
}

// Result is what the client receives.
type Result struct {
	Decision Decision
	Ran      []int // the shards the statement ran on
	Fields   []pgconn.FieldDescription
	Rows     [][][]byte
	Tag      pgconn.CommandTag
}

// Exec routes r through the plugin and runs it where PgDog would.
func (c *Cluster) Exec(ctx context.Context, r Request) (*Result, error) {
	st, err := c.stmt(r.SQL)
	if err != nil {
		return nil, err
	}
	d, err := c.Router.Route(len(c.Shards), Call{SQL: r.SQL, Params: r.Params, Formats: r.Formats, Write: st.write, Simple: r.Simple})
	if err != nil {
		return nil, err
	}
	res := &Result{Decision: d}
	switch d.Kind {
	case NoCall:
		return res, fmt.Errorf("%w (%s)", ErrNotRouted, d.Note)
	case ParseError:
		return res, &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: d.Note}
	case Blocked:
		// What the client sees (PGDOG.md section 2).
		return res, &pgconn.PgError{Severity: "ERROR", Code: "42601",
			Message: `query is blocked by plugin "vecshard"`, Detail: r.SQL}
	case Shard:
		if d.Shard >= len(c.Shards) {
			return res, fmt.Errorf("pgdogexec: plugin answered shard %d of %d", d.Shard, len(c.Shards))
		}
		res.Ran = []int{d.Shard}
		one, err := c.run(ctx, d.Shard, r)
		if err != nil {
			return res, err
		}
		res.Fields, res.Rows, res.Tag = one.FieldDescriptions, one.Rows, one.CommandTag
		return res, nil
	case Unknown:
		if c.declared(st) {
			return res, fmt.Errorf("%w: PgDog's own sharding of %v", ErrNotEmulated, st.tables)
		}
		if !st.write {
			res.Ran = []int{0}
			one, err := c.run(ctx, 0, r)
			if err != nil {
				return res, err
			}
			res.Fields, res.Rows, res.Tag = one.FieldDescriptions, one.Rows, one.CommandTag
			return res, nil
		}
	}
	// All, or an omnisharded write.
	results, err := c.runAll(ctx, r)
	res.Ran = make([]int, len(c.Shards))
	for i := range res.Ran {
		res.Ran[i] = i
	}
	if err != nil {
		return res, err
	}
	if d.Kind == Unknown || !c.declared(st) {
		// Omnisharded: the first shard's rows and count (C/multi_shard/mod.rs).
		res.Fields, res.Rows, res.Tag = results[0].FieldDescriptions, results[0].Rows, results[0].CommandTag
		return res, nil
	}
	return res, merge(st, r, results, res)
}

func (c *Cluster) stmt(sql string) (*stmt, error) {
	if v, ok := c.stmts.Load(sql); ok {
		return v.(*stmt), nil
	}
	st, err := parseStmt(sql)
	if err != nil {
		return nil, err
	}
	c.stmts.Store(sql, st)
	return st, nil
}

// declared reports whether PgDog knows one of the statement's tables.
func (c *Cluster) declared(st *stmt) bool {
	for _, t := range st.tables {
		if c.Declared[t] {
			return true
		}
	}
	return false
}

func (c *Cluster) run(ctx context.Context, shard int, r Request) (*pgconn.Result, error) {
	return Run(ctx, c.Shards[shard], r)
}

// Run sends r to one server as the client sent it (the same protocol,
// parameter bytes and format codes) and returns its last result.
func Run(ctx context.Context, p *pgxpool.Pool, r Request) (*pgconn.Result, error) {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	if r.Simple {
		rs, err := pc.Exec(ctx, r.SQL).ReadAll()
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			return &pgconn.Result{}, nil
		}
		return rs[len(rs)-1], nil
	}
	res := pc.ExecParams(ctx, r.SQL, r.Params, nil, r.Formats, r.ResultFormats).Read()
	return res, res.Err
}

func (c *Cluster) runAll(ctx context.Context, r Request) ([]*pgconn.Result, error) {
	out := make([]*pgconn.Result, len(c.Shards))
	errs := make([]error, len(c.Shards))
	var wg sync.WaitGroup
	for i := range c.Shards {
		wg.Go(func() { out[i], errs[i] = c.run(ctx, i, r) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
