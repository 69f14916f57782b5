package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vecshard/vecshard/internal/pgdogproc"
	"github.com/vecshard/vecshard/internal/shardlab"
)

// builtinSQL is the statement PgDog's own vector sharding routes to one
// shard: L2 order on the vector column (its <=> goes to every shard).
const builtinSQL = `SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 10`

// lookupSQL is the one-row id lookup of the per-statement cost: users is
// empty on every shard, so it returns no row; both configurations send it
// to one shard (the plugin's Direct answer, or PgDog's own bigint hash).
const lookupSQL = `SELECT id FROM users WHERE id = $1`

// pgdogPaths are the PgDog configurations BenchmarkPgDog measures:
//
//	routed           vecshard as plugin; aliasSQL (binary vector) to the plugin's shard
//	fanout           no plugin, items declared as a vector key without centroids;
//	                 aliasSQL to every shard, merged by PgDog by distance
//	builtin          no plugin, PgDog's own vector sharding (train-centroids
//	                 --pgdog-out, centroid_probes = 1); builtinSQL, text vector
//	reference        no plugin, PgDog in front of the reference server alone
//	lookup-plugin    vecshard as plugin; lookupSQL (binary int8), conns=1 only
//	lookup-noplugin  no plugin, users declared bigint; lookupSQL, conns=1 only
var pgdogPaths = []string{"routed", "fanout", "builtin", "reference", "lookup-plugin", "lookup-noplugin"}

// BenchmarkPgDog runs the queries of BenchmarkShards through a real PgDog
// binary (env PGDOG; skipped without it) on the same cluster and data:
//
//	BenchmarkPgDog/S=4/path=routed/conns=8
//
// Every conns clients hold one connection to PgDog each (statements are
// unnamed: Parse, Bind, Execute per query; results in text) and the b.N
// queries cycle through the query set; hnsw.ef_search is the servers'
// default (40). Reported like BenchmarkShards: recall@10 against the exact
// cosine top 10 (one untimed pass over the query set per path), queries/s,
// p50-ms and p99-ms, and rows/query (the rows PgDog returned: 10 when it
// merged and limited a fan-out, 40 when it concatenated); builtin also reports agree, the fraction of queries
// PgDog's L2 routing sent to the shard vecshard's cosine routing names
// (seen from the shard that holds the ids PgDog returned). The lookup paths
// report ns/op at one connection: their difference is the plugin's cost
// per statement inside PgDog.
func BenchmarkPgDog(b *testing.B) {
	bin := os.Getenv(pgdogproc.EnvBin)
	if bin == "" {
		b.Skipf("set %s=/path/to/pgdog (a PgDog v0.1.54 binary) to benchmark through PgDog", pgdogproc.EnvBin)
	}
	e := shardsSetup(b)
	b.Run(fmt.Sprintf("S=%d", e.s), func(b *testing.B) {
		for _, path := range pgdogPaths {
			b.Run("path="+path, func(b *testing.B) {
				p := e.startPgDog(b, bin, path)
				defer p.Stop()
				conns := []int{1, 8, 32}
				var q pgdogQuality
				if path == "lookup-plugin" || path == "lookup-noplugin" {
					conns = []int{1}
				} else {
					q = e.pgdogQuality(b, path, p.Pool)
				}
				for _, n := range conns {
					b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
						e.pgdogTimed(b, path, p.Pool, n)
						if q.recall >= 0 && path != "lookup-plugin" && path != "lookup-noplugin" {
							b.ReportMetric(q.recall, "recall@10")
							b.ReportMetric(q.rows, "rows/query")
						}
						if path == "builtin" {
							b.ReportMetric(q.agree, "agree")
						}
					})
				}
			})
		}
	})
}

var pgdogVersion = regexp.MustCompile(`(?m)^.*PgDog v[0-9][^\n]*$`)

// startPgDog starts PgDog configured for path.
func (e *shardsEnv) startPgDog(b *testing.B, bin, path string) *pgdogproc.Proc {
	b.Helper()
	c := pgdogproc.Config{General: "default_pool_size = 40\n", Shards: e.srv.DSNs[:e.s]}
	items := pgdogproc.Table{Name: "items", Column: "embedding", DataType: "vector"}
	users := pgdogproc.Table{Name: "users", Column: "id", DataType: "bigint"}
	switch path {
	case "routed", "lookup-plugin":
		c.Plugin = e.lab.Config
		c.Tables = []pgdogproc.Table{items, users}
	case "fanout", "lookup-noplugin":
		c.Tables = []pgdogproc.Table{items, users}
	case "builtin":
		items.CentroidsPath, items.CentroidProbes = e.lab.PgDogCentroids, 1
		c.Tables = []pgdogproc.Table{items, users}
	case "reference":
		c.Shards = e.srv.DSNs[e.s : e.s+1]
	}
	dir, err := os.MkdirTemp(e.work, "pgdog-"+path+"-")
	if err != nil {
		b.Fatal(err)
	}
	p, err := pgdogproc.Start(pgdogproc.Options{Bin: bin, Dir: dir, Config: c, LibDir: e.build})
	if err != nil {
		b.Fatal(err)
	}
	log := p.Log.String()
	if v := pgdogVersion.FindString(log); v != "" && !pgdogState.versionShown {
		pgdogState.versionShown = true
		fmt.Fprintf(os.Stderr, "# BenchmarkPgDog: %s\n", v)
	}
	if c.Plugin != "" && !regexpLoaded.MatchString(log) {
		p.Stop()
		b.Fatalf("PgDog did not load the plugin:\n%s", log)
	}
	return p
}

var regexpLoaded = regexp.MustCompile(`loaded "vecshard" plugin`)

var pgdogState struct {
	versionShown bool
	idShard      map[int64]int // the shard holding each id, for agree
}

type pgdogQuality struct {
	recall, agree, rows float64
}

// pgdogQuery runs query qi (or, for the lookup paths, the id lookup i) by
// path on c and returns the ids.
func (e *shardsEnv) pgdogQuery(ctx context.Context, path string, c *pgconn.PgConn, i int) ([]int64, error) {
	var res *pgconn.ResultReader
	switch path {
	case "routed", "fanout", "reference":
		res = c.ExecParams(ctx, aliasSQL, [][]byte{e.params[i%len(e.params)]}, nil, binaryResults, nil)
	case "builtin":
		res = c.ExecParams(ctx, builtinSQL, [][]byte{e.textParams[i%len(e.params)]}, nil, nil, nil)
	case "lookup-plugin", "lookup-noplugin":
		id := binary.BigEndian.AppendUint64(nil, uint64(1+i%1000))
		res = c.ExecParams(ctx, lookupSQL, [][]byte{id}, nil, binaryResults, nil)
	default:
		return nil, fmt.Errorf("unknown path %q", path)
	}
	r := res.Read()
	if r.Err != nil {
		return nil, r.Err
	}
	ids := make([]int64, len(r.Rows))
	for j, row := range r.Rows {
		id, err := strconv.ParseInt(string(row[0]), 10, 64)
		if err != nil {
			return nil, err
		}
		ids[j] = id
	}
	return ids, nil
}

// idShards maps every id to the shard that holds it (once per process).
func (e *shardsEnv) idShards(b *testing.B) map[int64]int {
	if pgdogState.idShard != nil {
		return pgdogState.idShard
	}
	m := make(map[int64]int, e.lab.Train.Rows)
	for s, p := range e.lab.Shards {
		rows, err := p.Query(context.Background(), "SELECT id FROM items")
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				b.Fatal(err)
			}
			m[id] = s
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
	pgdogState.idShard = m
	return m
}

// pgdogQuality runs every query once by path through PgDog (8 clients,
// untimed) and returns recall@10 and, for builtin, how often PgDog chose
// vecshard's shard.
func (e *shardsEnv) pgdogQuality(b *testing.B, path string, pool *pgxpool.Pool) pgdogQuality {
	if path == "builtin" {
		e.textParamsOnce.Do(func() {
			e.textParams = make([][]byte, len(e.params))
			for qi := range e.textParams {
				e.textParams[qi] = []byte(shardlab.VectorText(shardlab.Row(e.lab.Queries, qi)))
			}
		})
	}
	var where map[int64]int
	if path == "builtin" {
		where = e.idShards(b)
	}
	conns, release := pgdogConns(b, pool, 8)
	defer release()
	nq := len(e.params)
	var next, hits, agree, rows atomic.Int64
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for ci, c := range conns {
		wg.Go(func() {
			for qi := int(next.Add(1) - 1); qi < nq; qi = int(next.Add(1) - 1) {
				ids, err := e.pgdogQuery(context.Background(), path, c, qi)
				if err != nil {
					errs[ci] = fmt.Errorf("query %d: %w", qi, err)
					return
				}
				hits.Add(int64(e.hits(qi, ids)))
				rows.Add(int64(len(ids)))
				if where != nil && len(ids) > 0 && where[ids[0]] == e.routeTo[qi] {
					agree.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return pgdogQuality{recall: float64(hits.Load()) / float64(nq*topK), agree: float64(agree.Load()) / float64(nq),
		rows: float64(rows.Load()) / float64(nq)}
}

// pgdogConns acquires n connections to PgDog.
func pgdogConns(b *testing.B, pool *pgxpool.Pool, n int) ([]*pgconn.PgConn, func()) {
	var held []*pgxpool.Conn
	release := func() {
		for _, c := range held {
			c.Release()
		}
	}
	out := make([]*pgconn.PgConn, n)
	for i := range out {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			release()
			b.Fatal(err)
		}
		held = append(held, c)
		out[i] = c.Conn().PgConn()
	}
	return out, release
}

// pgdogTimed runs b.N statements by path from conns clients and reports
// queries/s, p50-ms and p99-ms.
func (e *shardsEnv) pgdogTimed(b *testing.B, path string, pool *pgxpool.Pool, conns int) {
	clients, release := pgdogConns(b, pool, conns)
	defer release()
	runTimed(b, conns, func(ctx context.Context, ci, i int) error {
		_, err := e.pgdogQuery(ctx, path, clients[ci], i)
		return err
	})
}
