package main

import (
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/internal/pgdogproc"
	"github.com/vecshard/vecshard/internal/routefixture"
	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/vecdecode"
)

// configure makes the global plugin load path, as PgDog's load sequence.
func configure(t testing.TB, path string) {
	t.Helper()
	hostFini()
	if !hostConfigure("warn", false, path) {
		t.Fatalf("config(%s) returned false", path)
	}
	t.Cleanup(hostFini)
}

// cTree builds a PostgreSQL 18 tree in C memory from libpg_query's JSON.
func cTree(t testing.TB, js string) unsafe.Pointer {
	t.Helper()
	p, err := pgtree.NewArena(cAlloc).BuildJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func corpusTrees(t testing.TB) map[string]string {
	t.Helper()
	parses, err := corpus.ReadParses("../../pgtree/testdata/corpus18.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for name, p := range parses {
		if p.Kind == "JSON" {
			m[name] = p.Body
		}
	}
	return m
}

func TestVersions(t *testing.T) {
	if got := hostString(0); got != "0.4.0" {
		t.Errorf("api version %q", got)
	}
	if got := hostString(2); got != Version {
		t.Errorf("plugin version %q", got)
	}
	// The test binary is Go's, not rustc's: the plugin says how to fix it
	// and answers an empty string, which PgDog's check rejects.
	if got := hostString(1); got != "" {
		t.Errorf("rustc version %q from a Go test binary", got)
	}
}

func TestRustcFromComment(t *testing.T) {
	for _, tc := range []struct {
		data string
		want string
	}{
		{"rustc version 1.95.0 (59807616e 2026-04-14)\x00Linker: LLD 22.1.2\x00GCC: (Debian 12.2.0) 12.2.0\x00", "rustc 1.95.0 (59807616e 2026-04-14)"},
		{"GCC: (Debian 12.2.0) 12.2.0\x00rustc version 1.80.1 (3f5fd8dd4 2024-08-06)\x00", "rustc 1.80.1 (3f5fd8dd4 2024-08-06)"},
		{"GCC: (Debian 12.2.0) 12.2.0\x00", ""},
		{"rustc version \x00", ""},
		{"", ""},
	} {
		got, ok := rustcFromCommentData([]byte(tc.data))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%q: %q %v, want %q", tc.data, got, ok, tc.want)
		}
	}
	if v, how := hostRustcVersion("rustc 9.9.9"); v != "rustc 9.9.9" || how != envRustc {
		t.Errorf("override: %q %q", v, how)
	}
}

// TestCorpus routes the corpus through the vtable entry (C trees, C
// parameters) and compares with the text front end; the host's e2e test
// does the same from libpg_query's own trees.
func TestCorpus(t *testing.T) {
	snap := corpusSnapshot(t)
	n := 0
	for _, c := range treeCases(t) {
		hps := hostParams(c.Params)
		d := snap.Route(c.SQL, routerParams(c.Params), c.Shards)
		for _, wo := range []bool{false, true} {
			h := newHostCall(uint64(c.Shards), wo, cTree(t, c.js), hps)
			shard, rw := h.route()
			h.free()
			ws, wrw := global.encode(d, wo)
			if shard != ws || rw != wrw {
				t.Errorf("%s (write_override %v): vtable (%d, %d), text %+v\n  %s", c.Name, wo, shard, rw, d, c.SQL)
			}
			n++
		}
	}
	t.Logf("%d routes compared", n)
}

// TestRouteRules pins the Route mapping, NULL versus empty values and the
// fail-closed answers.
func TestRouteRules(t *testing.T) {
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	trees := corpusTrees(t)
	vec := func(v ...float32) []byte {
		b, _ := pgvector.NewVector(v).EncodeBinary(nil)
		return b
	}
	for _, tc := range []struct {
		name, tree string
		shards     uint64
		wo         bool
		params     []hostParam
		shard      int64
		rw         uint8
	}{
		{"shard read", "select/order-cosine-param-bin", 4, false, []hostParam{{data: vec(0, 1, 0), binary: true}}, 1, rwRead},
		{"shard, write_override", "select/order-cosine-param-bin", 4, true, []hostParam{{data: vec(0, 1, 0), binary: true}}, 1, rwWrite},
		{"id 42 -> 0", "id/eq-text", 4, false, []hostParam{{data: []byte("42")}}, 0, rwRead},
		{"NULL id: all", "id/eq-text", 4, false, []hostParam{{null: true}}, shardAll, rwRead},
		{"empty id text: blocked", "id/eq-text", 4, false, []hostParam{{data: []byte{}}}, shardBlocked, rwRead},
		{"empty vector text: blocked", "select/order-cosine-param-text", 4, false, []hostParam{{data: []byte{}}}, shardBlocked, rwRead},
		{"host shards differ: blocked", "id/eq-text", 3, false, []hostParam{{data: []byte("42")}}, shardBlocked, rwRead},
		{"unconfigured: unknown even with write_override", "unconfigured/select", 4, true, nil, shardUnknown, rwUnknown},
		{"no parameters bound yet: unknown", "id/eq-text", 4, false, nil, shardUnknown, rwUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, ok := trees[tc.tree]
			if !ok {
				t.Fatalf("no corpus tree %s", tc.tree)
			}
			h := newHostCall(tc.shards, tc.wo, cTree(t, js), tc.params)
			defer h.free()
			if s, rw := h.route(); s != tc.shard || rw != tc.rw {
				t.Errorf("(%d, %d), want (%d, %d)", s, rw, tc.shard, tc.rw)
			}
		})
	}
}

// TestNotPG18: a tree that is not PostgreSQL 18's makes the plugin answer
// unknown to everything from then on.
func TestNotPG18(t *testing.T) {
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	defer resetNotPG18()
	good := cTree(t, corpusTrees(t)["id/eq-int8"])
	ok := newHostCall(4, false, good, []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
	defer ok.free()
	if s, _ := ok.route(); s != 0 {
		t.Fatalf("shard %d before", s)
	}
	if !untilKernel(ok) {
		t.Fatal("the kernel does not take the id lookup")
	}
	// PostgreSQL 16 numbers RawStmt differently: a list whose element has
	// another tag.
	bad := cAlloc(64)
	elems := cAlloc(8)
	raw := cAlloc(24)
	*(*int32)(raw) = 121 // not T_RawStmt in PG18
	*(*uintptr)(elems) = uintptr(raw)
	*(*int32)(bad) = 1
	*(*int32)(unsafe.Add(bad, 4)) = 1
	*(*int32)(unsafe.Add(bad, 8)) = 1
	*(*uintptr)(unsafe.Add(bad, 16)) = uintptr(elems)
	h := newHostCall(4, false, bad, nil)
	defer h.free()
	if s, rw := h.route(); s != shardUnknown || rw != rwUnknown {
		t.Fatalf("(%d, %d) for a PG16-like tree", s, rw)
	}
	if s, rw := ok.route(); s != shardUnknown || rw != rwUnknown {
		t.Fatalf("(%d, %d) after a PG16-like tree: want unknown from then on", s, rw)
	}
	if s, rw, answered := ok.kernel(); answered {
		t.Fatalf("after a PG16-like tree the C kernel still answers (%d, %d)", s, rw)
	}
	// A reload does not wake the kernel up again.
	global.kernel.retire()
	if s, rw, answered := ok.kernel(); answered {
		t.Fatalf("after a PG16-like tree and a reload the C kernel answers (%d, %d)", s, rw)
	}
}

// resetNotPG18 undoes a PG16-like tree for the tests that follow (a
// plugin never does).
func resetNotPG18() {
	global.notPG18.Store(false)
	global.kernel.genMu.Lock()
	global.kernel.disabled = false
	global.kernel.genMu.Unlock()
	global.kernel.retire()
}

// TestPanicContained: a panic inside route (here: no RawParameters at all)
// is logged and answered with unknown; nothing reaches the host.
func TestPanicContained(t *testing.T) {
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	before := global.panics.Load()
	s, rw := vecshardRoute(4, 0, cTree(t, corpusTrees(t)["id/eq-text"]), nil)
	if s != shardUnknown || rw != rwUnknown || global.panics.Load() != before+1 {
		t.Fatalf("(%d, %d), panics %d -> %d", s, rw, before, global.panics.Load())
	}
}

// benchSetup configures the routing benchmark's fixture (1536 dimensions,
// 64 cosine centroids, 4 shards) and returns its calls.
func benchSetup(b testing.TB) (fx *routefixture.Fixture, calls map[string]*hostCall) {
	b.Helper()
	fx, err := routefixture.Write(b.(interface{ TempDir() string }).TempDir(), -1)
	if err != nil {
		b.Fatal(err)
	}
	configure(b, fx.Config)
	data, err := os.ReadFile("testdata/bench18.json")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	search, user, account := cTree(b, lines[0]), cTree(b, lines[1]), cTree(b, lines[2])
	calls = map[string]*hostCall{
		"vector-binary-1536-k64": newHostCall(routefixture.Shards, false, search, []hostParam{{data: fx.QueryBin, binary: true}}),
		"id-bigint-binary":       newHostCall(routefixture.Shards, false, user, []hostParam{{data: fx.IDBin, binary: true}}),
		"id-uuid-text":           newHostCall(routefixture.Shards, false, account, []hostParam{{data: fx.UUIDText}}),
	}
	return fx, calls
}

// TestRouteAllocs: the cached path through the vtable allocates nothing.
func TestRouteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; make test runs this without -race")
	}
	_, calls := benchSetup(t)
	for name, h := range calls {
		h.route() // first sight: the plan is analysed and cached
		if n := testing.AllocsPerRun(200, func() { h.route() }); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
		if s, _ := h.route(); s < 0 {
			t.Errorf("%s: shard %d", name, s)
		}
	}
}

// BenchmarkVtableRoute measures route through PGDOG_PLUGIN_VTABLE (a cgo
// call into C, which calls the Go export, as PgDog's call does from a
// worker thread) on the routing benchmark's statements. baseline/ runs, in
// the same benchmark, what a vector route cannot avoid: decoding the
// binary vector and the nearest-centroid search (the ratio target is
// vector-binary-1536-k64 <= 1.1 x baseline/decode+nearest). abi-floor is a
// route on an unconfigured table: the ABI crossing, the tree read and a
// cached plan that decides nothing.
func BenchmarkVtableRoute(b *testing.B) {
	fx, calls := benchSetup(b)
	for _, name := range []string{"id-bigint-binary", "id-uuid-text", "vector-binary-1536-k64"} {
		h := calls[name]
		h.route()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.route()
			}
		})
	}
	// The same calls without the ABI crossing: what the route itself costs.
	for _, name := range []string{"id-bigint-binary", "vector-binary-1536-k64"} {
		h := calls[name]
		b.Run("no-abi/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.routeGo()
			}
		})
	}
	b.Run("baseline/decode+nearest-1536-k64", func(b *testing.B) {
		call, err := fx.Baseline()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
	})
	js := `{"version":180006,"stmts":[{"stmt":{"SelectStmt":{"targetList":[{"ResTarget":{"val":{"ColumnRef":{"fields":[{"A_Star":{}}]}}}}],"fromClause":[{"RangeVar":{"relname":"elsewhere","inh":true,"relpersistence":"p"}}],"whereClause":{"A_Expr":{"kind":"AEXPR_OP","name":[{"String":{"sval":"="}}],"lexpr":{"ColumnRef":{"fields":[{"String":{"sval":"id"}}]}},"rexpr":{"ParamRef":{"number":1}}}},"limitOption":"LIMIT_OPTION_DEFAULT","op":"SETOP_NONE"}}}]}`
	id := make([]byte, 8)
	binary.BigEndian.PutUint64(id, math.MaxInt32)
	floor := newHostCall(routefixture.Shards, false, cTree(b, js), []hostParam{{data: id, binary: true}})
	b.Run("abi-floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			floor.route()
		}
	})
}

// BenchmarkVtableVectorRatio times the binary 1536-d vector route through
// PGDOG_PLUGIN_VTABLE and what it cannot avoid (decode + nearest, the
// baseline) call by call, alternating, so that both see the same machine:
// on a shared machine two benchmarks run one after the other differ by
// more than the 10% the target allows. ratio is route time over baseline
// time; the route's time includes this benchmark's cgo call into the
// vtable, which PgDog, calling from its own threads, does not make.
func BenchmarkVtableVectorRatio(b *testing.B) {
	fx, calls := benchSetup(b)
	h := calls["vector-binary-1536-k64"]
	// The baseline searches the route's own centroids (one copy in the
	// caches, as in a route loop).
	t := global.Router().Snapshot().Table("", "items")
	if t == nil || t.Set == nil {
		b.Fatal("no items table")
	}
	buf := make([]float32, 0, vecdecode.MaxDim)
	base := func() error {
		v, err := vecdecode.VectorBinary(buf[:0], fx.QueryBin)
		if err != nil {
			return err
		}
		t.Set.Nearest(v)
		return nil
	}
	h.route()
	var route, baseline time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		h.route()
		t1 := time.Now()
		if err := base(); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(t1)
		route += t1.Sub(t0)
	}
	b.ReportMetric(float64(route.Nanoseconds())/float64(b.N), "ns/route")
	b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "ns/baseline")
	b.ReportMetric(float64(route)/float64(baseline), "ratio")
}

// TestConfigTwice: a second config call replaces the first.
func TestConfigTwice(t *testing.T) {
	config := filepath.Join(corpus.ConfigDir(), "vecshard.toml")
	configure(t, config)
	if !hostConfigure("info", true, config) {
		t.Fatal("second config returned false")
	}
	h := newHostCall(4, false, cTree(t, corpusTrees(t)["id/eq-text"]), []hostParam{{data: []byte("42")}})
	defer h.free()
	if s, rw := h.route(); s != 0 || rw != rwRead {
		t.Fatalf("(%d, %d) after a second config", s, rw)
	}
}

// TestRankingPolicy: the library hands PgDog's merge rules to the router.
// A ranking whose top probes centroids disagree goes to the nearest
// centroid's shard with a warning in the log (at most warnBurst a window,
// naming the rewrite PgDog merges); a farthest-first ranking is blocked; the
// alias form PgDog merges goes to ALL.
func TestRankingPolicy(t *testing.T) {
	snap := corpusSnapshot(t)
	var log pgdogproc.Log // safe for the handler's concurrent writes
	global.SetLogger(slog.New(slog.NewTextHandler(&log, nil)))
	for _, l := range []*rateLimit{&global.warn, &global.advice} {
		l.window.Store(0) // a new window: earlier tests' refusals do not count
		l.n.Store(0)
	}
	trees := corpusTrees(t)
	cases := map[string]corpus.Case{}
	for _, c := range corpus.Cases() {
		cases[c.Name] = c
	}
	for _, tc := range []struct {
		name  string
		want  string // SHARD, ALL, ERROR
		warn  bool
		block bool
	}{
		{"halfvec/order-probes-span-halfbin", "SHARD", true, false},
		{"halfvec/order-probes-span-text", "SHARD", true, false},
		{"select/order-desc-bin", "ERROR", false, true},
		{"select/no-limit-text", "ERROR", false, true},
		{"shape/desc-alias-bin", "ALL", false, false},
	} {
		c := cases[tc.name]
		d := snap.Route(c.SQL, routerParams(c.Params), c.Shards)
		if d.Kind.String() != tc.want || (d.Warning != "") != tc.warn {
			t.Fatalf("%s: router %+v, want %s (warning %v)", tc.name, d, tc.want, tc.warn)
		}
		h := newHostCall(uint64(c.Shards), false, cTree(t, trees[tc.name]), hostParams(c.Params))
		ws, wrw := global.encode(d, false)
		for range 2 * warnBurst {
			if s, rw := h.route(); s != ws || rw != wrw {
				t.Errorf("%s: vtable (%d, %d), want (%d, %d)", tc.name, s, rw, ws, wrw)
			}
		}
		h.free()
	}
	out := log.String()
	if n := strings.Count(out, "statement answered on one shard"); n < 1 || n > warnBurst {
		t.Errorf("%d warnings logged, want 1..%d:\n%s", n, warnBurst, out)
	}
	if !strings.Contains(out, "AS distance FROM docs ... ORDER BY distance LIMIT 5") {
		t.Errorf("the warning names no rewrite:\n%s", out)
	}
	if !strings.Contains(out, "statement blocked") || !strings.Contains(out, "ORDER BY distance DESC LIMIT 5") {
		t.Errorf("the refusal names no rewrite:\n%s", out)
	}
}
