package shards

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vecshard/vecshard/internal/pgdogexec"
	"github.com/vecshard/vecshard/internal/pgdogproc"
	"github.com/vecshard/vecshard/internal/shardlab"
)

// EnvPgDog names a PgDog binary; with it the suite also runs through it.
const EnvPgDog = pgdogproc.EnvBin

// pgdog is a running PgDog in front of the lab's shards, with vecshard as
// its plugin.
type pgdog struct {
	*pgdogproc.Proc
	pool *pgxpool.Pool
	log  *pgdogproc.Log
	toml string // its pgdog.toml
}

// pgdogConfig is the configuration the README recommends, for the lab's
// servers: one [[databases]] entry per shard, vecshard the only plugin,
// every vecshard table in [[sharded_tables]] (declared false leaves them
// out, to reproduce PgDog's omnisharded reads).
func pgdogConfig(pluginConfig string, declared bool) pgdogproc.Config {
	c := pgdogproc.Config{Plugin: pluginConfig, Shards: env.lab.Opt.ShardDSNs}
	if declared {
		c.Tables = []pgdogproc.Table{
			{Name: "items", Column: "embedding", DataType: "vector"},
			{Name: "users", Column: "id", DataType: "bigint"},
		}
	}
	return c
}

// startPgDog writes pgdog.toml and users.toml and starts PgDog on a free
// loopback port; it skips without EnvPgDog.
func startPgDog(t *testing.T, pluginConfig string, declared bool) *pgdog {
	t.Helper()
	need(t)
	bin := os.Getenv(EnvPgDog)
	if bin == "" {
		t.Skipf("set %s=/path/to/pgdog to run the real-shard suite through a PgDog binary", EnvPgDog)
	}
	// The library from the build directory, and no GLIBC_TUNABLES: the
	// README says none is needed.
	proc, err := pgdogproc.Start(pgdogproc.Options{
		Bin: bin, Dir: t.TempDir(), Config: pgdogConfig(pluginConfig, declared),
		LibDir: env.build, Env: []string{"VECSHARD_RELOAD_INTERVAL=100ms"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &pgdog{Proc: proc, pool: proc.Pool, log: proc.Log, toml: proc.Toml}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("PgDog's log:\n%s", p.log.String())
		}
	})
	return p
}

// exec runs a request through PgDog exactly as the executor runs it.
func (p *pgdog) exec(r pgdogexec.Request) (*pgconn.Result, error) {
	return pgdogexec.Run(bg, p.pool, r)
}

// TestPgDogLoads: PgDog loads the library without GLIBC_TUNABLES, its
// version checks pass, vecshard logs its configuration, and vecshard check
// --pgdog accepts the same pgdog.toml.
func TestPgDogLoads(t *testing.T) {
	p := startPgDog(t, env.lab.Config, true)
	log := p.log.String()
	for _, want := range []string{`loaded "vecshard" plugin`, "vecshard: config loaded"} {
		if !strings.Contains(log, want) {
			t.Errorf("PgDog's log lacks %q:\n%s", want, log)
		}
	}
	if out, err := runCmd("vecshard", "check", "--config", env.lab.Config, "--pgdog", p.toml); err != nil {
		t.Errorf("vecshard check --pgdog on the suite's pgdog.toml: %v\n%s", err, out)
	}
}

// TestPgDogAgrees runs every ranking shape, lookups, counts and refused
// statements through PgDog and through the executor (the real library in
// the PgDog-like host, PgDog's rules as docs/PGDOG.md states them); the
// two must give the same rows, row counts and errors. A difference is a
// fact about PgDog that the executor, the host or the docs must learn.
func TestPgDogAgrees(t *testing.T) {
	lab := need(t)
	for _, probes := range []int{1, 2} {
		config := probesConfig(t, probes)
		p := startPgDog(t, config, true)
		c, _ := cluster(t, config, "items", "users")
		var reqs []pgdogexec.Request
		for qi := 0; qi < 12; qi++ {
			q := shardlab.Row(lab.Queries, 300+qi)
			vec, f := vecParam(q, qi%2 == 1)
			for _, sh := range shapes {
				if sh.queries != 0 && qi >= sh.queries {
					continue
				}
				reqs = append(reqs, req(sh.sql, vec, f))
				if sh.rewrite != "" {
					reqs = append(reqs, req(sh.rewrite, vec, f))
				}
			}
			reqs = append(reqs, req("SELECT id FROM items WHERE embedding = $1", vec, f))
		}
		reqs = append(reqs,
			pgdogexec.Request{SQL: "SELECT count(*) FROM items", Simple: true},
			pgdogexec.Request{SQL: "SELECT id FROM items ORDER BY embedding <=> '" + shardlab.VectorText(shardlab.Row(lab.Queries, 5)) + "' LIMIT 10", Simple: true},
			req("SELECT id FROM items WHERE id = $1", []byte("17"), int16(0)),
			req("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10", []byte("[1,2,3]"), int16(0)),
		)
		for _, r := range reqs {
			want, werr := c.Exec(bg, r)
			got, gerr := p.exec(r)
			if msg := compare(want, werr, got, gerr); msg != "" {
				t.Errorf("probes=%d %s (formats %v): %s", probes, r.SQL, r.Formats, msg)
			}
		}
	}
}

// compare reports how PgDog's answer differs from the executor's.
func compare(want *pgdogexec.Result, werr error, got *pgconn.Result, gerr error) string {
	if errors.Is(werr, pgdogexec.ErrPgDogPanics) {
		if gerr == nil {
			return "the executor expects PgDog to drop the connection; it answered"
		}
		return ""
	}
	var wpe, gpe *pgconn.PgError
	wok, gok := errors.As(werr, &wpe), errors.As(gerr, &gpe)
	if wok || gok {
		if wpe == nil || gpe == nil || wpe.Code != gpe.Code || wpe.Message != gpe.Message || wpe.Detail != gpe.Detail {
			return fmt.Sprintf("errors differ: executor %v (%v), PgDog %v; details %q and %q", werr, want.Decision, gerr, detail(wpe), detail(gpe))
		}
		return ""
	}
	if werr != nil || gerr != nil {
		return fmt.Sprintf("executor %v, PgDog %v", werr, gerr)
	}
	if !slices.EqualFunc(want.Rows, got.Rows, func(a, b [][]byte) bool { return slices.EqualFunc(a, b, slices.Equal) }) {
		return fmt.Sprintf("rows differ on %v: executor %d rows %s, PgDog %d rows %s", want.Decision,
			len(want.Rows), firstCol(want.Rows), len(got.Rows), firstCol(got.Rows))
	}
	return ""
}

func detail(e *pgconn.PgError) string {
	if e == nil {
		return "(none)"
	}
	return e.Detail
}

func firstCol(rows [][][]byte) string {
	var s []string
	for i, r := range rows {
		if i == 12 {
			s = append(s, "...")
			break
		}
		s = append(s, string(r[0]))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestPgDogUndeclared reproduces the omnisharded read through PgDog: a
// vecshard table missing from [[sharded_tables]] counts one shard.
func TestPgDogUndeclared(t *testing.T) {
	lab := need(t)
	per := counts(t, lab.Shards)
	for _, declared := range []bool{false, true} {
		p := startPgDog(t, lab.Config, declared)
		var n int64
		if err := p.pool.QueryRow(bg, "SELECT count(*) FROM items").Scan(&n); err != nil {
			t.Fatal(err)
		}
		want := per[0]
		if declared {
			want = sum(per)
		}
		if n != want {
			t.Errorf("declared %v: count(*) through PgDog = %d, want %d (per shard %v)", declared, n, want, per)
		}
	}
}

// TestPgDogSessions: transactions and pipelines through PgDog route every
// statement, and a SIGHUP storm and a configuration reload under load
// leave routing intact.
func TestPgDogSessions(t *testing.T) {
	lab := need(t)
	live := filepath.Join(filepath.Dir(lab.Config), "vecshard-pgdog-live.toml")
	if err := shardlab.WriteConfig(live, S, filepath.Base(lab.Centroids), 1); err != nil {
		t.Fatal(err)
	}
	p := startPgDog(t, live, true)
	lookup := func(row int) error {
		var id int64
		err := p.pool.QueryRow(bg, "SELECT id FROM items WHERE embedding = $1", shardlab.VectorText(shardlab.Row(lab.Train, row))).Scan(&id)
		if err == nil && id != int64(row+1) {
			err = fmt.Errorf("found id %d", id)
		}
		return err
	}
	t.Run("transaction", func(t *testing.T) {
		tx, err := p.pool.Begin(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(bg)
		var id int64
		if err := tx.QueryRow(bg, "SELECT id FROM items WHERE embedding = $1", shardlab.VectorText(shardlab.Row(lab.Train, 3))).Scan(&id); err != nil || id != 4 {
			t.Fatalf("in a transaction: %d %v", id, err)
		}
		if err := tx.Commit(bg); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("pipeline", func(t *testing.T) {
		c, err := p.pool.Acquire(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		batch := &pgconn.Batch{}
		for row := 10; row < 16; row++ {
			batch.ExecParams("SELECT id FROM items WHERE embedding = $1", [][]byte{[]byte(shardlab.VectorText(shardlab.Row(lab.Train, row)))}, nil, nil, nil)
		}
		rs, err := c.Conn().PgConn().ExecBatch(bg, batch).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if len(r.Rows) != 1 || string(r.Rows[0][0]) != fmt.Sprint(11+i) {
				t.Errorf("pipeline statement %d: %q", i, r.Rows)
			}
		}
	})
	// load runs lookups from 4 clients while during() runs; it returns how
	// many ran, how many failed and the first failure.
	load := func(during func()) (n, fails int64, first error) {
		stop := make(chan struct{})
		var count, failed atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				for i := w; ; i += 4 {
					select {
					case <-stop:
						return
					default:
					}
					if err := lookup(i % lab.Train.Rows); err != nil {
						failed.Add(1)
						mu.Lock()
						if first == nil {
							first = err
						}
						mu.Unlock()
					}
					count.Add(1)
				}
			})
		}
		during()
		close(stop)
		wg.Wait()
		return count.Load(), failed.Load(), first
	}
	t.Run("reload under load", func(t *testing.T) {
		n, fails, first := load(func() {
			for i := 0; i < 12; i++ {
				// The same routing in a new file: the plugin reloads it.
				shardlab.WriteConfig(live, S, filepath.Base(lab.Centroids), 1)
				time.Sleep(250 * time.Millisecond)
			}
		})
		if fails > 0 {
			t.Errorf("%d of %d lookups failed while the plugin reloaded its configuration 12 times; first: %v", fails, n, first)
		}
		if !strings.Contains(p.log.String(), "vecshard: config reloaded") {
			t.Errorf("the plugin logged no reload in PgDog's log")
		}
		t.Logf("%d lookups, %d failed, during 12 reloads of vecshard.toml", n, fails)
	})
	t.Run("sighup storm", func(t *testing.T) {
		// SIGHUP makes PgDog reload its own configuration and rebuild its
		// pools: lookups meanwhile may fail with "connection pool ... is
		// down" (58000), PgDog's doing. What must hold: PgDog survives
		// signals arriving on threads that run vecshard's Go code, and
		// routes right afterwards.
		n, fails, first := load(func() {
			end := time.Now().Add(3 * time.Second)
			for time.Now().Before(end) {
				p.Cmd.Process.Signal(syscall.SIGHUP)
				time.Sleep(5 * time.Millisecond)
			}
		})
		t.Logf("%d lookups during 3 s of SIGHUP every 5 ms, %d refused by PgDog while it reloaded (first: %v)", n, fails, first)
		if p.Exited() {
			t.Fatalf("PgDog exited: %v", p.Cmd.ProcessState)
		}
		deadline := time.Now().Add(10 * time.Second)
		for row := 0; row < 50; row++ {
			err := lookup(row)
			for err != nil && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				err = lookup(row)
			}
			if err != nil {
				t.Fatalf("after the storm, lookup of row %d: %v", row+1, err)
			}
		}
	})
}

// TestPgDogInsert: INSERTs through PgDog, text and binary parameters,
// simple and extended protocol, each land on exactly one shard, the nearest
// centroid's; the reference gets the same rows (TestReshard compares).
func TestPgDogInsert(t *testing.T) {
	lab := need(t)
	p := startPgDog(t, lab.Config, true)
	const base = 2_000_000
	for i := 0; i < 24; i++ {
		v := shardlab.Row(lab.Queries, 150+i)
		id := int64(base + 1 + i)
		var err error
		switch i % 3 {
		case 0: // extended, text
			_, err = p.exec(req("INSERT INTO items (id, embedding) VALUES ($1, $2)", []byte(fmt.Sprint(id)), int16(0), []byte(shardlab.VectorText(v)), int16(0)))
		case 1: // extended, binary
			idb, f1 := int8Param(id, true)
			vb, f2 := vecParam(v, true)
			_, err = p.exec(req("INSERT INTO items (id, embedding) VALUES ($1, $2)", idb, f1, vb, f2))
		case 2: // simple protocol, literals
			_, err = p.exec(pgdogexec.Request{SQL: fmt.Sprintf("INSERT INTO items (id, embedding) VALUES (%d, '%s')", id, shardlab.VectorText(v)), Simple: true})
		}
		if err != nil {
			t.Fatalf("insert %d through PgDog: %v", id, err)
		}
		if _, err := lab.Ref.Exec(bg, "INSERT INTO items (id, embedding) VALUES ($1, $2)", id, shardlab.VectorText(v)); err != nil {
			t.Fatal(err)
		}
		_, want := lab.Set.Nearest(v)
		var on []int
		for s, pool := range lab.Shards {
			var n int
			if err := pool.QueryRow(bg, "SELECT count(*) FROM items WHERE id = $1", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			for ; n > 0; n-- {
				on = append(on, s)
			}
		}
		if len(on) != 1 || on[0] != want {
			t.Errorf("row %d inserted through PgDog is on shards %v, want [%d]", id, on, want)
		}
	}
}
