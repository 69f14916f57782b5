package bench

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/internal/pgdogexec"
	"github.com/vecshard/vecshard/internal/pgservers"
	"github.com/vecshard/vecshard/internal/shardlab"
	"github.com/vecshard/vecshard/kmeans"
)

// BenchmarkShards runs on real servers; these variables size it.
const (
	envBenchShards  = "VECSHARD_BENCH_SHARDS"  // S (default 4)
	envBenchRows    = "VECSHARD_BENCH_ROWS"    // training rows loaded (default 60000)
	envBenchQueries = "VECSHARD_BENCH_QUERIES" // first test images used as queries (default 1000)
	envBenchCells   = "VECSHARD_BENCH_CELLS"   // train-centroids --cells-per-shard (default 16)
	envBenchBuild   = "VECSHARD_BENCH_BUILD"   // directory with libvecshard.so, pgdog-host, train-centroids, vecshard
)

// The statements: the canonical nearest-neighbour query (routed to one
// shard by the plugin, or run on the reference server) and the mergeable
// alias form (every shard's top 10 with its distance).
const (
	knnSQL   = `SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10`
	aliasSQL = `SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 10`
	topK     = 10
)

// Prepared statement names on every benchmark connection.
const (
	stmtKNN   = "vs_knn"
	stmtAlias = "vs_alias"
)

// shardPaths are the ways a query reaches the data: routed (the shard the
// plugin names), fanout (every shard, merged by distance in the client),
// reference (one server with every row), routed-probes2 (the alias form
// through the executor under a probes = 2 config: one shard, or every
// shard merged as PgDog merges when the two nearest centroids' shards
// differ).
var shardPaths = []string{"routed", "fanout", "reference", "routed-probes2"}

// BenchmarkShards measures nearest-neighbour queries on Fashion-MNIST
// sharded over S real PostgreSQL + pgvector servers (HNSW,
// vector_cosine_ops) by the real plugin, against fanning out to every
// shard and against one reference server with every row:
//
//	BenchmarkShards/S=4/path=routed/ef=40/conns=8
//
// path is one of shardPaths, ef the hnsw.ef_search of every connection,
// conns the number of client goroutines; each holds its own connection to
// each server it uses (fanout: one per shard, queried in parallel) and the
// b.N queries cycle through the query set. Reported: recall@10 against the
// exact cosine top 10 (computed over the whole query set once per path and
// ef, independent of b.N; a returned row as near as the exact 10th counts),
// shards/query, queries/s, and the client-side p50-ms and p99-ms latency.
//
// The cluster (pgservers, shardlab: S shards and the reference) is set up
// once per process and stopped by TestMain; the routing decisions of the
// routed paths come from pgdog-host serve with the real library, asked once
// per query before any timing. Without servers, Fashion-MNIST or the build
// it skips and says why.
func BenchmarkShards(b *testing.B) {
	e := shardsSetup(b)
	b.Run(fmt.Sprintf("S=%d", e.s), func(b *testing.B) {
		for _, path := range shardPaths {
			b.Run("path="+path, func(b *testing.B) {
				for _, ef := range []int{40, 100} {
					b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
						pools := e.newPools(b, ef)
						defer pools.close()
						q := e.quality(b, path, ef, pools)
						for _, conns := range []int{1, 8, 32} {
							b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
								e.timed(b, path, pools, conns)
								b.ReportMetric(q.recall, "recall@10")
								b.ReportMetric(q.shardsPerQuery, "shards/query")
							})
						}
					})
				}
			})
		}
	})
}

// shardsEnv is the process's cluster, set up on first use.
type shardsEnv struct {
	s       int
	srv     *pgservers.Servers
	lab     *shardlab.Lab
	work    string
	params  [][]byte      // each query's vector in pgvector's binary form
	exact   []int32       // exact top-10 train row indices (id-1), per query
	kth     []float64     // cosine distance of the exact 10th, per query
	trainN  kmeans.Matrix // rows normalised, for distances of returned ids
	queryN  kmeans.Matrix
	host    *pgdogexec.Host    // probes 1
	host2   *pgdogexec.Host    // probes 2
	routeTo []int              // the plugin's shard for knnSQL, per query
	probes2 *cachedRouter      // the probes 2 host's decisions for aliasSQL
	quals   map[string]quality // by "path/ef"
	build   string             // the build directory (libvecshard.so)

	// BenchmarkPgDog's text vectors, made on first use.
	textParams     [][]byte
	textParamsOnce sync.Once
}

// quality is what one pass over the query set found.
type quality struct {
	recall, shardsPerQuery float64
}

// efPools are pools to every server whose connections have hnsw.ef_search
// set and both statements prepared.
type efPools struct {
	shards []*pgxpool.Pool
	ref    *pgxpool.Pool
}

var shardsState struct {
	once sync.Once
	env  *shardsEnv
	skip string
	err  error
}

// TestMain stops the servers BenchmarkShards started.
func TestMain(m *testing.M) {
	code := m.Run()
	if e := shardsState.env; e != nil {
		e.close()
	}
	os.Exit(code)
}

func (e *shardsEnv) close() {
	for _, h := range []*pgdogexec.Host{e.host, e.host2} {
		if h != nil {
			h.Close()
		}
	}
	if e.lab != nil {
		e.lab.Close()
	}
	if e.srv != nil {
		e.srv.Stop()
	}
	if e.work != "" {
		os.RemoveAll(e.work)
	}
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// shardsSetup returns the process's cluster, setting it up on the first
// call; it skips b when the machine cannot run it.
func shardsSetup(b *testing.B) *shardsEnv {
	b.Helper()
	shardsState.once.Do(func() {
		e := &shardsEnv{quals: map[string]quality{}}
		shardsState.skip, shardsState.err = e.setup()
		if shardsState.skip == "" && shardsState.err == nil {
			shardsState.env = e
		} else {
			e.close()
		}
	})
	if shardsState.skip != "" {
		b.Skip(shardsState.skip)
	}
	if shardsState.err != nil {
		b.Fatal(shardsState.err)
	}
	return shardsState.env
}

// setup starts S+1 servers, loads them with shardlab, computes the exact
// answers and asks the plugin where each query goes. It returns a skip
// reason or an error.
func (e *shardsEnv) setup() (string, error) {
	t0 := time.Now()
	var err error
	if e.s, err = envInt(envBenchShards, 4); err != nil {
		return "", err
	}
	rows, err := envInt(envBenchRows, 60000)
	if err != nil {
		return "", err
	}
	nq, err := envInt(envBenchQueries, 1000)
	if err != nil {
		return "", err
	}
	cells, err := envInt(envBenchCells, 16)
	if err != nil {
		return "", err
	}
	build := os.Getenv(envBenchBuild)
	if build == "" {
		build = os.Getenv("VECSHARD_E2E_BUILD")
	}
	if build == "" {
		build = "../build" // go test runs in bench/
	}
	if build, err = filepath.Abs(build); err != nil {
		return "", err
	}
	e.build = build
	for _, f := range []string{"libvecshard.so", "pgdog-host", "train-centroids", "vecshard"} {
		if _, err := os.Stat(filepath.Join(build, f)); err != nil {
			return fmt.Sprintf("%v: build it with `make build hosts` or set %s", err, envBenchBuild), nil
		}
	}
	for _, f := range []string{shardlab.TrainFile, shardlab.TestFile} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Sprintf("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err), nil
		}
	}
	var timings []string
	phase := func(name string, t time.Time) {
		timings = append(timings, fmt.Sprintf("%s %v", name, time.Since(t).Round(time.Millisecond)))
	}

	t := time.Now()
	e.srv, err = pgservers.Start(e.s + 1)
	var skip *pgservers.SkipError
	if errors.As(err, &skip) {
		return skip.Reason, nil
	}
	if err != nil {
		return "", err
	}
	phase("servers", t)
	if e.work, err = os.MkdirTemp("", "vecshard-bench-shards-"); err != nil {
		return "", err
	}
	ctx := context.Background()
	e.lab, err = shardlab.Setup(ctx, shardlab.Options{
		Shards: e.s, CellsPerShard: cells, Rows: rows, Queries: nq, Probes: 1,
		Build: build, Work: e.work, ShardDSNs: e.srv.DSNs[:e.s], RefDSN: e.srv.DSNs[e.s],
	})
	if err != nil {
		return "", err
	}
	for _, p := range e.lab.Timings {
		timings = append(timings, fmt.Sprintf("%s %v", p.Phase, p.Took.Round(time.Millisecond)))
	}

	t = time.Now()
	e.exact = kmeans.ExactTopK(e.lab.Train, e.lab.Queries, topK, centroids.Cosine, runtime.GOMAXPROCS(0))
	e.trainN, e.queryN = kmeans.Normalized(e.lab.Train), kmeans.Normalized(e.lab.Queries)
	e.kth = make([]float64, e.lab.Queries.Rows)
	for qi := range e.kth {
		e.kth[qi] = e.dist(qi, int64(e.exact[qi*topK+topK-1])+1)
	}
	phase("exact top-10", t)

	t = time.Now()
	e.params = make([][]byte, e.lab.Queries.Rows)
	for qi := range e.params {
		e.params[qi] = vectorBinary(shardlab.Row(e.lab.Queries, qi))
	}
	if err := e.route(build); err != nil {
		return "", err
	}
	phase("routing decisions", t)
	fmt.Fprintf(os.Stderr, "# BenchmarkShards setup: S=%d rows=%d queries=%d cells-per-shard=%d: %s; total %v\n",
		e.s, e.lab.Train.Rows, e.lab.Queries.Rows, cells, strings.Join(timings, ", "), time.Since(t0).Round(time.Millisecond))
	return "", nil
}

// route starts the two hosts (probes 1 and 2) and asks the probes 1 host
// where each query of knnSQL goes and the probes 2 one about aliasSQL.
func (e *shardsEnv) route(build string) error {
	host := func(config string) (*pgdogexec.Host, error) {
		return pgdogexec.StartHost(filepath.Join(build, "pgdog-host"), filepath.Join(build, "libvecshard.so"),
			config, io.Discard)
	}
	var err error
	if e.host, err = host(e.lab.Config); err != nil {
		return err
	}
	config2 := filepath.Join(e.work, "vecshard-probes2.toml")
	if err := shardlab.WriteConfig(config2, e.s, filepath.Base(e.lab.Centroids), 2); err != nil {
		return err
	}
	if e.host2, err = host(config2); err != nil {
		return err
	}
	e.routeTo = make([]int, len(e.params))
	e.probes2 = &cachedRouter{decisions: map[string]pgdogexec.Decision{}, host: e.host2}
	for qi, p := range e.params {
		call := pgdogexec.Call{SQL: knnSQL, Params: [][]byte{p}, Formats: []int16{1}}
		d, err := e.host.Route(e.s, call)
		if err != nil {
			return err
		}
		if d.Kind != pgdogexec.Shard {
			return fmt.Errorf("query %d: the plugin answered %v for %s at probes 1, want one shard", qi, d, knnSQL)
		}
		e.routeTo[qi] = d.Shard
		call.SQL = aliasSQL
		if d, err = e.host2.Route(e.s, call); err != nil {
			return err
		}
		e.probes2.decisions[string(p)] = d
	}
	return nil
}

// cachedRouter answers the executor's route calls with the decisions the
// real plugin gave before timing (keyed by the vector parameter); others
// go to the host.
type cachedRouter struct {
	decisions map[string]pgdogexec.Decision
	host      *pgdogexec.Host
}

// Route implements pgdogexec.Router.
func (r *cachedRouter) Route(shards int, c pgdogexec.Call) (pgdogexec.Decision, error) {
	if len(c.Params) == 1 && c.SQL == aliasSQL {
		if d, ok := r.decisions[string(c.Params[0])]; ok {
			return d, nil
		}
	}
	return r.host.Route(shards, c)
}

// vectorBinary is pgvector's binary form of v, as pgvector-go sends it.
func vectorBinary(v []float32) []byte {
	b, _ := pgvector.NewVector(v).EncodeBinary(nil) // never fails for a Vector
	return b
}

// dist is the cosine distance of query qi to the row with this id.
func (e *shardsEnv) dist(qi int, id int64) float64 {
	if id < 1 || int(id) > e.trainN.Rows {
		return math.Inf(1)
	}
	var s float64
	for j, x := range e.queryN.Row(qi) {
		s += float64(x) * float64(e.trainN.Data[int(id-1)*e.trainN.Dim+j])
	}
	return 1 - s
}

// hits counts the returned ids among the exact top 10 of query qi; an id
// outside it counts when it is as near as the exact 10th (ties).
func (e *shardsEnv) hits(qi int, ids []int64) int {
	exact := e.exact[qi*topK : (qi+1)*topK]
	n := 0
	for i, id := range ids {
		if i == topK || slices.Index(ids[:i], id) >= 0 {
			continue
		}
		if slices.Index(exact, int32(id-1)) >= 0 || e.dist(qi, id) <= e.kth[qi]+1e-6 {
			n++
		}
	}
	return n
}

// newPools returns new pools for ef (their connections are closed when
// the path and ef are done, so that S x 32 idle backends per ef do not
// pile up on the servers).
func (e *shardsEnv) newPools(b *testing.B, ef int) *efPools {
	p := &efPools{}
	defer func() {
		if b.Failed() {
			p.close()
		}
	}()
	for i, dsn := range e.srv.DSNs[:e.s+1] {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = 40
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if _, err := c.Exec(ctx, fmt.Sprintf("SET hnsw.ef_search = %d", ef)); err != nil {
				return err
			}
			for name, sql := range map[string]string{stmtKNN: knnSQL, stmtAlias: aliasSQL} {
				if _, err := c.PgConn().Prepare(ctx, name, sql, nil); err != nil {
					return err
				}
			}
			return nil
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if i < e.s {
			p.shards = append(p.shards, pool)
		} else {
			p.ref = pool
		}
	}
	return p
}

func (p *efPools) close() {
	for _, s := range p.shards {
		s.Close()
	}
	if p.ref != nil {
		p.ref.Close()
	}
}

// client is one client goroutine's connections: one per shard and one to
// the reference server, and for routed-probes2 the executor.
type client struct {
	shards []*pgconn.PgConn
	ref    *pgconn.PgConn
	exec   *pgdogexec.Cluster
	rows   []idDist // scratch for fanout
}

type idDist struct {
	id   int64
	dist float64
}

// acquire takes the connections path needs for n clients; release gives
// them back.
func (e *shardsEnv) acquire(b *testing.B, path string, p *efPools, n int) ([]*client, func()) {
	ctx := context.Background()
	var held []*pgxpool.Conn
	take := func(pool *pgxpool.Pool) *pgconn.PgConn {
		c, err := pool.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		held = append(held, c)
		return c.Conn().PgConn()
	}
	release := func() {
		for _, c := range held {
			c.Release()
		}
	}
	clients := make([]*client, n)
	for i := range clients {
		c := &client{}
		switch path {
		case "routed", "fanout":
			for _, s := range p.shards {
				c.shards = append(c.shards, take(s))
			}
		case "reference":
			c.ref = take(p.ref)
		case "routed-probes2":
			// The executor takes a pooled connection per statement.
			c.exec = &pgdogexec.Cluster{Shards: p.shards, Router: e.probes2, Declared: map[string]bool{"items": true}}
		}
		clients[i] = c
	}
	return clients, release
}

// query runs query qi by path on c's connections and returns the ids the
// client gets and how many shards served it.
func (e *shardsEnv) query(ctx context.Context, path string, c *client, qi int) ([]int64, int, error) {
	param := [][]byte{e.params[qi]}
	switch path {
	case "routed":
		ids, err := knn(ctx, c.shards[e.routeTo[qi]], param)
		return ids, 1, err
	case "reference":
		ids, err := knn(ctx, c.ref, param)
		return ids, 1, err
	case "fanout":
		parts := make([][]idDist, len(c.shards))
		errs := make([]error, len(c.shards))
		var wg sync.WaitGroup
		for s, conn := range c.shards {
			wg.Go(func() { parts[s], errs[s] = alias(ctx, conn, param) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, len(c.shards), err
		}
		rows := c.rows[:0]
		for _, p := range parts {
			rows = append(rows, p...)
		}
		slices.SortStableFunc(rows, func(a, b idDist) int { return cmp.Compare(a.dist, b.dist) })
		c.rows = rows
		ids := make([]int64, 0, topK)
		for _, r := range rows[:min(topK, len(rows))] {
			ids = append(ids, r.id)
		}
		return ids, len(c.shards), nil
	case "routed-probes2":
		res, err := c.exec.Exec(ctx, pgdogexec.Request{SQL: aliasSQL, Params: param, Formats: []int16{1}})
		if err != nil {
			return nil, 0, err
		}
		ids := make([]int64, len(res.Rows))
		for i, r := range res.Rows {
			if ids[i], err = strconv.ParseInt(string(r[0]), 10, 64); err != nil {
				return nil, 0, err
			}
		}
		return ids, len(res.Ran), nil
	}
	return nil, 0, fmt.Errorf("unknown path %q", path)
}

var binaryResults = []int16{1}

// knn runs the prepared knnSQL; the ids come back in binary.
func knn(ctx context.Context, c *pgconn.PgConn, param [][]byte) ([]int64, error) {
	return prepared(ctx, c, stmtKNN, param, func(r [][]byte) int64 {
		return int64(binary.BigEndian.Uint64(r[0]))
	})
}

// alias runs the prepared aliasSQL: ids and distances in binary.
func alias(ctx context.Context, c *pgconn.PgConn, param [][]byte) ([]idDist, error) {
	return prepared(ctx, c, stmtAlias, param, func(r [][]byte) idDist {
		return idDist{int64(binary.BigEndian.Uint64(r[0])), math.Float64frombits(binary.BigEndian.Uint64(r[1]))}
	})
}

// prepared runs the prepared statement stmt with param (binary in and
// out) and reads each row with row.
func prepared[T any](ctx context.Context, c *pgconn.PgConn, stmt string, param [][]byte, row func([][]byte) T) ([]T, error) {
	res := c.ExecPrepared(ctx, stmt, param, binaryResults, binaryResults).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	out := make([]T, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = row(r)
	}
	return out, nil
}

// quality runs every query once by path at ef (8 clients, untimed) and
// returns recall@10 and shards per query; cached per path and ef.
func (e *shardsEnv) quality(b *testing.B, path string, ef int, p *efPools) quality {
	key := fmt.Sprintf("%s/%d", path, ef)
	if q, ok := e.quals[key]; ok {
		return q
	}
	clients, release := e.acquire(b, path, p, 8)
	defer release()
	nq := len(e.params)
	var next atomic.Int64
	var hits, shards atomic.Int64
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for ci, c := range clients {
		wg.Go(func() {
			for qi := int(next.Add(1) - 1); qi < nq; qi = int(next.Add(1) - 1) {
				ids, n, err := e.query(context.Background(), path, c, qi)
				if err != nil {
					errs[ci] = fmt.Errorf("query %d: %w", qi, err)
					return
				}
				hits.Add(int64(e.hits(qi, ids)))
				shards.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("%s ef=%d: %v", path, ef, err)
	}
	q := quality{
		recall:         float64(hits.Load()) / float64(nq*topK),
		shardsPerQuery: float64(shards.Load()) / float64(nq),
	}
	e.quals[key] = q
	return q
}

// timed runs b.N queries by path from conns clients, cycling through the
// query set, and reports queries/s, p50-ms and p99-ms.
func (e *shardsEnv) timed(b *testing.B, path string, p *efPools, conns int) {
	clients, release := e.acquire(b, path, p, conns)
	defer release()
	nq := len(e.params)
	runTimed(b, conns, func(ctx context.Context, ci, i int) error {
		_, _, err := e.query(ctx, path, clients[ci], i%nq)
		return err
	})
}

// runTimed runs b.N calls of one(ctx, client, i) from conns clients, each
// taking the next i, and reports queries/s, p50-ms and p99-ms (latency per
// call, measured in the client).
func runTimed(b *testing.B, conns int, one func(ctx context.Context, client, i int) error) {
	lat := make([][]time.Duration, conns)
	errs := make([]error, conns)
	var next atomic.Int64
	ctx := context.Background()
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for ci := range conns {
		lat[ci] = make([]time.Duration, 0, b.N/conns+1)
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				t := time.Now()
				if err := one(ctx, ci, i); err != nil {
					errs[ci] = err
					return
				}
				lat[ci] = append(lat[ci], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "queries/s")
	b.ReportMetric(percentile(all, 0.50).Seconds()*1e3, "p50-ms")
	b.ReportMetric(percentile(all, 0.99).Seconds()*1e3, "p99-ms")
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
