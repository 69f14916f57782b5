// Package shards runs the operator's workflow (internal/shardlab) on real
// servers and every statement through the real plugin library, applied
// where PgDog would apply it (internal/pgdogexec). Servers come from
// scripts/pg-shards.sh (root, Debian's archive) or VECSHARD_PG_DSNS; the
// library, the PgDog-like host and the commands from VECSHARD_E2E_BUILD
// (make e2e sets it). Without either the tests skip and say why.
package shards

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vecshard/vecshard/internal/pgdogexec"
	"github.com/vecshard/vecshard/internal/pgdogproc"
	"github.com/vecshard/vecshard/internal/pgservers"
	"github.com/vecshard/vecshard/internal/shardlab"
)

// The cluster under test: S shards, one spare server that becomes shard S
// when the reshard test grows the cluster, and the reference server.
const S = 4

var env struct {
	skip  string
	lab   *shardlab.Lab
	build string
	spare string // DSN of the spare server
}

func TestMain(m *testing.M) {
	code := func() int {
		stop, err := setup()
		if stop != nil {
			defer stop()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e/shards:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func setup() (func(), error) {
	env.build = os.Getenv("VECSHARD_E2E_BUILD")
	if env.build == "" {
		env.skip = "VECSHARD_E2E_BUILD is not set: run `make e2e` (it builds the library, the hosts and the commands)"
		return nil, nil
	}
	for _, f := range []string{"libvecshard.so", "pgdog-host", "train-centroids", "vecshard"} {
		if _, err := os.Stat(filepath.Join(env.build, f)); err != nil {
			env.skip = fmt.Sprintf("%s: %v (the Rust host needs rustc; run `make e2e`)", f, err)
			return nil, nil
		}
	}
	srv, err := pgservers.Start(S + 2)
	var skip *pgservers.SkipError
	if errors.As(err, &skip) {
		env.skip = skip.Reason
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "vecshard-shards-")
	if err != nil {
		srv.Stop()
		return nil, err
	}
	stop := func() { srv.Stop(); os.RemoveAll(work) }
	rows, _ := strconv.Atoi(os.Getenv("VECSHARD_SHARDS_ROWS"))
	if rows == 0 {
		rows = 20000
	}
	ctx := context.Background()
	env.spare = srv.DSNs[S]
	env.lab, err = shardlab.Setup(ctx, shardlab.Options{
		Shards: S, CellsPerShard: 16, Rows: rows, Queries: 200, Probes: 1,
		Build: env.build, Work: work, ShardDSNs: srv.DSNs[:S], RefDSN: srv.DSNs[S+1],
	})
	if err != nil {
		return stop, err
	}
	for _, t := range env.lab.Timings {
		fmt.Fprintf(os.Stderr, "e2e/shards: %s: %v\n", t.Phase, t.Took.Round(time.Millisecond))
	}
	return func() { env.lab.Close(); stop() }, nil
}

func need(t *testing.T) *shardlab.Lab {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	return env.lab
}

// cluster returns an executor over the lab's shards with the plugin loaded
// on config; declared lists PgDog's [[sharded_tables]].
func cluster(t *testing.T, config string, declared ...string) (*pgdogexec.Cluster, *pgdogproc.Log) {
	t.Helper()
	lab := need(t)
	log := &pgdogproc.Log{}
	h, err := pgdogexec.StartHost(filepath.Join(env.build, "pgdog-host"),
		filepath.Join(env.build, "libvecshard.so"), config, log, "VECSHARD_RELOAD_INTERVAL=100ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	c := &pgdogexec.Cluster{Shards: lab.Shards, Router: h, Declared: map[string]bool{}}
	for _, d := range declared {
		c.Declared[d] = true
	}
	return c, log
}

// runCmd runs one of the built commands.
func runCmd(name string, args ...string) ([]byte, error) {
	return exec.Command(filepath.Join(env.build, name), args...).CombinedOutput()
}
