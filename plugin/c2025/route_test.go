package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/plugin/internal/pluginstate"
)

// The ABI's enum values (ABI.md section 1), spelled out here because tests
// cannot use cgo.
const (
	forward    = 1
	abiError   = 3
	noDecision = 5
	read       = 1
	write      = 2
	allShards  = -2
)

// withPlugin runs the plugin's init against testdata/vecshard.toml for the
// duration of the test, as pgdog_init would.
func withPlugin(t testing.TB) {
	t.Helper()
	cfg, err := filepath.Abs(filepath.Join("testdata", "vecshard.toml"))
	if err != nil {
		t.Fatal(err)
	}
	withPluginConfig(t, cfg)
}

// withAnyShards loads testdata's tables without a fixed shard count and
// with PgDog's bare centroid array (centroid i on shard i % n): the config
// fits whatever shard count the host reports, so fuzzed counts route for
// real instead of stopping at the shard-count check.
func withAnyShards(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join("testdata", "vecshard.toml"))
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.Replace(conf, []byte("shards = 4\n"), nil, 1)
	bare := "[[1,0,0],[0,1,0],[0,0,1],[-0.57735026,-0.57735026,-0.57735026]]\n"
	if err := os.WriteFile(filepath.Join(dir, "centroids.json"), []byte(bare), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vecshard.toml"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	withPluginConfig(t, filepath.Join(dir, "vecshard.toml"))
}

func withPluginConfig(t testing.TB, cfg string) {
	t.Helper()
	t.Setenv(pluginstate.EnvConfig, cfg)
	t.Setenv(pluginstate.EnvLog, "error")
	global.init()
	t.Cleanup(global.fini)
	if global.Router() == nil {
		t.Fatal("testdata/vecshard.toml did not load")
	}
}

// TestRoute drives pgdog_route_query through the C ABI in-process: every
// kind of answer, both parameter formats, NULL, and what fini leaves.
func TestRoute(t *testing.T) {
	withPlugin(t)
	search := "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5"
	for _, tc := range []struct {
		name     string
		query    string
		params   []hostParam
		shards   int
		decision int
		shard    int
		affinity int
		code     string
	}{
		{"vector text", search, []hostParam{{data: []byte("[0.1,0.1,3]")}}, 4, forward, 2, read, ""},
		{"vector binary", search, []hostParam{{data: vecbin.Vector(0.1, 2, 0.1), binary: true}}, 4, forward, 1, read, ""},
		{"insert", "INSERT INTO items (id, embedding) VALUES ($1, $2)",
			[]hostParam{{data: []byte("1")}, {data: vecbin.Vector(-1, -1, -1), binary: true}}, 4, forward, 3, write, ""},
		{"bigint golden 42", "SELECT * FROM users WHERE id = $1", []hostParam{{data: []byte("42")}}, 4, forward, 0, read, ""},
		{"bigint golden -1 binary", "DELETE FROM users WHERE id = $1",
			[]hostParam{{data: binary.BigEndian.AppendUint64(nil, math.MaxUint64), binary: true}}, 4, forward, 2, write, ""},
		{"NULL key", "SELECT * FROM users WHERE id = $1", []hostParam{{}}, 4, forward, allShards, read, ""},
		{"no key", "DELETE FROM items", nil, 4, forward, allShards, write, ""},
		{"wrong dimension", search, []hostParam{{data: []byte("[1,2]")}}, 4, abiError, 0, 0, "22000"},
		{"shard count mismatch", search, []hostParam{{data: []byte("[1,0,0]")}}, 8, abiError, 0, 0, ""},
		{"not ours", "SELECT * FROM other", nil, 4, noDecision, 0, 0, ""},
		{"not SQL", "this is not SQL", nil, 4, noDecision, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callRoute(tc.query, tc.params, tc.shards)
			checkInvariants(t, r, tc.shards)
			if r.decision != tc.decision {
				t.Fatalf("decision %d, want %d (%+v)", r.decision, tc.decision, r)
			}
			switch tc.decision {
			case forward:
				if r.shard != tc.shard || r.affinity != tc.affinity {
					t.Errorf("shard %d affinity %d, want %d %d", r.shard, r.affinity, tc.shard, tc.affinity)
				}
			case abiError:
				if tc.code != "" && r.code != tc.code {
					t.Errorf("code %s, want %s (%s)", r.code, tc.code, r.msg)
				}
			}
		})
	}
	if n := panics.Load(); n != 0 {
		t.Fatalf("%d panics were stopped at the ABI boundary", n)
	}
	global.fini()
	if r := callRoute(search, []hostParam{{data: []byte("[1,0,0]")}}, 4); r.decision != noDecision {
		t.Fatalf("after fini: decision %d, want NO_DECISION", r.decision)
	}
}

// TestRouteRetainsNothing: the host reuses its buffers after the call (here
// callRoute overwrites them with 'X' and frees them), so a plan cached under
// the host's bytes instead of a copy would answer for a query that is all
// 'X's. It must not.
func TestRouteRetainsNothing(t *testing.T) {
	withPlugin(t)
	query := "SELECT * FROM users WHERE id = 42"
	for range 3 {
		if r := callRoute(query, nil, 4); r.decision != forward || r.shard != 0 {
			t.Fatalf("%q: %+v", query, r)
		}
		xs := strings.Repeat("X", len(query))
		if r := callRoute(xs, nil, 4); r.decision != noDecision {
			t.Fatalf("%q answered %+v: the plan cache kept host memory", xs, r)
		}
	}
}

// TestNoConfigRoute: with no config every statement is NO_DECISION.
func TestNoConfigRoute(t *testing.T) {
	t.Setenv(pluginstate.EnvConfig, filepath.Join(t.TempDir(), "missing.toml"))
	t.Setenv(pluginstate.EnvLog, "error")
	global.init()
	defer global.fini()
	if r := callRoute("SELECT * FROM users WHERE id = 42", nil, 4); r.decision != noDecision {
		t.Fatalf("decision %d, want NO_DECISION", r.decision)
	}
}

// checkInvariants holds an answer to what any host may rely on.
func checkInvariants(t testing.TB, r routeResult, shards int) {
	t.Helper()
	switch r.decision {
	case forward:
		if r.numOrderBy != 0 || !r.orderByNil {
			t.Fatalf("FORWARD with an ORDER BY list: %+v", r)
		}
		if r.affinity != read && r.affinity != write {
			t.Fatalf("FORWARD without READ or WRITE: %+v", r)
		}
		if r.shard != allShards && (r.shard < 0 || r.shard >= shards) {
			t.Fatalf("FORWARD to shard %d of %d", r.shard, shards)
		}
	case abiError:
		if r.nilErrorStrings || r.severity != "ERROR" || len(r.code) != 5 || r.msg == "" {
			t.Fatalf("malformed ERROR: %+v", r)
		}
	case noDecision:
	default:
		t.Fatalf("decision %d is not FORWARD, ERROR or NO_DECISION", r.decision)
	}
}

// FuzzRoute throws arbitrary statements and parameters through the C ABI:
// no panic may reach the boundary, every answer is well formed, and the same
// input gets the same answer twice (the second time from the plan cache).
func FuzzRoute(f *testing.F) {
	f.Add("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", []byte("[1,0,0]"), false, 4)
	f.Add("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", vecbin.Vector(0, 0, 1), true, 4)
	f.Add("INSERT INTO items (id, embedding) VALUES (1, $1)", []byte("[0,1,0]"), false, 4)
	f.Add("SELECT * FROM users WHERE id = $1", binary.BigEndian.AppendUint32(nil, 1), true, 4)
	f.Add("SELECT * FROM users WHERE id IN ($1, 2)", []byte("-1"), false, 4)
	f.Add("/* pgdog_shard: 3 */ SELECT * FROM items", []byte(nil), false, 4)
	f.Add("COPY items FROM STDIN", []byte(nil), false, 4)
	f.Add("UPDATE items SET embedding = $1", []byte("[1,2"), false, 2)
	f.Add("SELECT * FROM users WHERE id = $1", []byte("{1,2}"), false, 0)
	f.Add("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", []byte("[0,0,1]"), false, 7)
	withAnyShards(f)
	f.Fuzz(func(t *testing.T, query string, param []byte, bin bool, shards int) {
		shards = shards % 65
		var params []hostParam
		if param != nil {
			params = []hostParam{{data: param, binary: bin}}
		}
		before := panics.Load()
		r := callRoute(query, params, shards)
		if n := panics.Load() - before; n != 0 {
			t.Fatalf("a panic reached the ABI boundary for %q", query)
		}
		if r.decision != noDecision || shards > 0 {
			checkInvariants(t, r, max(shards, 1))
		}
		if again := callRoute(query, params, shards); again != r {
			t.Fatalf("same input, different answers:\n%+v\n%+v", r, again)
		}
	})
}

// TestRouteAllocs pins the hot path's promise through the C ABI: once a
// statement's plan is cached, a route call allocates nothing on the Go heap,
// whether it has no parameters, a few (on the stack) or a vector.
func TestRouteAllocs(t *testing.T) {
	withPlugin(t)
	for _, tc := range []struct {
		name   string
		query  string
		params []hostParam
	}{
		{"no-params", "SELECT * FROM users WHERE id = 42", nil},
		{"id-text", "SELECT * FROM users WHERE id = $1", []hostParam{{data: []byte("42")}}},
		{"vector-binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", []hostParam{{data: vecbin.Vector(1, 0, 0), binary: true}}},
		{"insert-two", "INSERT INTO items (id, embedding) VALUES ($1, $2)", []hostParam{{data: []byte("7")}, {data: []byte("[0,1,0]")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostCall(tc.query, tc.params, 4)
			defer h.free()
			if r := h.route(); r.decision != forward {
				t.Fatalf("decision %d, want FORWARD (%+v)", r.decision, r)
			}
			if n := testing.AllocsPerRun(200, h.call); n != 0 {
				t.Errorf("%v allocations per route call, want 0", n)
			}
		})
	}
}
