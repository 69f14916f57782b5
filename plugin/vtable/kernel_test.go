package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/plugin/internal/pluginstate"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

// TestKernelArithmetic: the C kernel's jump(fmix64(v), n) is idkey's,
// bit for bit, at the edges and at random.
func TestKernelArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := []int64{0, 1, -1, 2, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32, 1234567890123}
	for range 20000 {
		vs = append(vs, int64(r.Uint64()))
	}
	ns := []uint64{1, 2, 3, 4, 5, 7, 8, 16, 17, 64, 65, 1000, 1 << 16, math.MaxInt32}
	for i, v := range vs {
		for _, n := range append(ns, 1+r.Uint64N(math.MaxInt32)) {
			if i > 100 && n > 65 && n != math.MaxInt32 && r.IntN(8) != 0 {
				continue
			}
			want := int64(idkey.Shard(idkey.BigintKey(v), int(n)))
			if got := kernelShard(v, n); got != want {
				t.Fatalf("v=%d n=%d: kernel %d, idkey %d", v, n, got, want)
			}
		}
	}
}

// FuzzKernelArithmetic holds the C kernel's arithmetic to idkey's.
func FuzzKernelArithmetic(f *testing.F) {
	f.Add(int64(0), uint32(1))
	f.Add(int64(math.MinInt64), uint32(math.MaxInt32))
	f.Add(int64(1234567890123), uint32(4))
	f.Fuzz(func(t *testing.T, v int64, n uint32) {
		n = max(1, n&math.MaxInt32)
		if got, want := kernelShard(v, uint64(n)), int64(idkey.Shard(idkey.BigintKey(v), int(n))); got != want {
			t.Fatalf("v=%d n=%d: kernel %d, idkey %d", v, n, got, want)
		}
	})
}

// treeCase is a corpus case with its libpg_query 18 tree as JSON: the
// cases both front ends route (hints need text, pg18/ the PG18 grammar).
type treeCase struct {
	corpus.Case
	js string
}

func treeCases(t *testing.T) []treeCase {
	trees := corpusTrees(t)
	var out []treeCase
	for _, c := range corpus.Cases() {
		js, ok := trees[c.Name]
		if !ok || strings.HasPrefix(c.Name, "hint/") || strings.HasPrefix(c.Name, "pg18/") {
			continue
		}
		out = append(out, treeCase{Case: c, js: js})
	}
	return out
}

// corpusSnapshot configures the plugin with the corpus config and returns
// the text front end's snapshot of the same config, to compare with.
func corpusSnapshot(t *testing.T) *router.Snapshot {
	config := filepath.Join(corpus.ConfigDir(), "vecshard.toml")
	configure(t, config)
	snap, err := router.Load(config, router.WithText(sqltext.Parser{}), router.WithHost(router.PgDog))
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// routerParams is ps as the text front end is given them (copies).
func routerParams(ps []corpus.Param) []router.Param {
	var out []router.Param
	for _, p := range ps {
		rp := router.Param{Binary: p.Binary}
		if !p.Null {
			rp.Data = append([]byte{}, p.Data...)
		}
		out = append(out, rp)
	}
	return out
}

// hostParams is ps as a host passes them.
func hostParams(ps []corpus.Param) []hostParam {
	var out []hostParam
	for _, p := range ps {
		out = append(out, hostParam{data: p.Data, null: p.Null, binary: p.Binary})
	}
	return out
}

// TestKernelCorpus routes every corpus tree three times (a memo miss, a
// hit that offers the tree to the kernel, then whatever the kernel takes)
// and compares each answer with the text front end's; the trees the
// kernel takes are then routed with int2, int4 and int8 values of every
// kind, the kernel's answers held to Go's.
func TestKernelCorpus(t *testing.T) {
	snap := corpusSnapshot(t)
	r := rand.New(rand.NewPCG(5, 6))
	taken, compared := 0, 0
	for _, c := range treeCases(t) {
		tree := cTree(t, c.js)
		d := snap.Route(c.SQL, routerParams(c.Params), c.Shards)
		for _, wo := range []bool{false, true} {
			h := newHostCall(uint64(c.Shards), wo, tree, hostParams(c.Params))
			ws, wrw := global.encode(d, wo)
			for i := range 3 {
				if shard, rw := h.route(); shard != ws || rw != wrw {
					t.Errorf("%s (write_override %v), call %d: vtable (%d, %d), text %+v\n  %s", c.Name, wo, i+1, shard, rw, d, c.SQL)
				}
			}
			if ks, krw, ok := h.kernel(); ok {
				taken++
				if ks != ws || krw != wrw {
					t.Errorf("%s (write_override %v): kernel (%d, %d), text %+v", c.Name, wo, ks, krw, d)
				}
			}
			h.free()
		}
		// Every width and value through the kernel, against Go's route.
		if len(c.Params) == 0 {
			continue
		}
		for range 30 {
			v := int64(r.Uint64())
			hps := hostParams(c.Params)
			for i := range hps {
				if hps[i].binary && !hps[i].null && (len(hps[i].data) == 8 || len(hps[i].data) == 4 || len(hps[i].data) == 2) {
					switch r.IntN(3) {
					case 0:
						hps[i].data = binary.BigEndian.AppendUint64(nil, uint64(v))
					case 1:
						hps[i].data = binary.BigEndian.AppendUint32(nil, uint32(v))
					default:
						hps[i].data = binary.BigEndian.AppendUint16(nil, uint16(v))
					}
				}
			}
			h := newHostCall(uint64(c.Shards), r.IntN(2) == 0, tree, hps)
			gs, grw := h.routeGo()
			if ks, krw, ok := h.kernel(); ok {
				compared++
				if ks != gs || krw != grw {
					t.Errorf("%s with %v: kernel (%d, %d), Go (%d, %d)", c.Name, hps, ks, krw, gs, grw)
				}
			}
			h.free()
		}
	}
	t.Logf("the kernel took %d corpus calls; %d random values compared", taken, compared)
	if taken < 10 || compared < 100 {
		t.Errorf("the kernel took %d corpus calls and %d random ones: too few to test it", taken, compared)
	}
}

// idLookup returns a configured id lookup's tree, routed until the kernel
// holds it, and its call.
func idLookup(t *testing.T) *hostCall {
	t.Helper()
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	js := corpusTrees(t)["id/eq-int8"]
	if js == "" {
		t.Fatal("no corpus tree id/eq-int8")
	}
	h := newHostCall(4, false, cTree(t, js), []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
	t.Cleanup(h.free)
	if !untilKernel(h) {
		t.Fatal("the kernel does not take the id lookup")
	}
	return h
}

// untilKernel routes h until the kernel answers it: a miss, then a hit
// that offers the tree; again if the config watcher reloaded meanwhile
// (which retires every program, as it should).
func untilKernel(h *hostCall) bool {
	for range 50 {
		h.route()
		if _, _, ok := h.kernel(); ok {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// TestKernelEveryBit: flipping any bit the tree memo compares makes the
// kernel leave the call to Go; restoring it makes the kernel answer again.
func TestKernelEveryBit(t *testing.T) {
	h := idLookup(t)
	words, narrow, ok := global.memo.AppendProof(h.stmts, nil, nil)
	if !ok || len(words) == 0 {
		t.Fatal("no proof")
	}
	flips := 0
	for _, w := range words {
		for bit := range 64 {
			if w.Mask&(1<<bit) == 0 {
				continue
			}
			p := (*uint64)(w.Addr)
			old := readWord(w.Addr)
			writeWord(w.Addr, old^1<<bit)
			if _, _, ok := h.kernel(); ok {
				t.Fatalf("word at %p, bit %d flipped: the kernel still answers", p, bit)
			}
			writeWord(w.Addr, old)
			flips++
		}
	}
	for _, n := range narrow {
		p := (*uint32)(n.Addr)
		old := *p
		for bit := range 32 {
			*p = old ^ 1<<bit
			if _, _, ok := h.kernel(); ok {
				t.Fatalf("4-byte node at %p, bit %d flipped: the kernel still answers", p, bit)
			}
		}
		*p = old
	}
	if _, _, ok := h.kernel(); !ok {
		t.Fatal("the restored tree: the kernel does not answer")
	}
	t.Logf("%d bits flipped in %d words and %d narrow nodes", flips, len(words), len(narrow))
}

// readWord and writeWord access a possibly unaligned word of C memory.
func readWord(p unsafe.Pointer) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(p), 8))
}

func writeWord(p unsafe.Pointer, v uint64) {
	binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(p), 8), v)
}

// TestKernelLeaves: what the kernel leaves to Go (text, NULL, empty,
// odd-length and missing parameters, another shard count, a config
// reloaded, VECSHARD_KERNEL=0) and that Go then answers.
func TestKernelLeaves(t *testing.T) {
	h := idLookup(t)
	for _, tc := range []struct {
		name  string
		ps    []hostParam
		codes []int32 // nil: one per parameter, from ps
	}{
		{"text", []hostParam{{data: []byte("42")}}, nil},
		{"NULL", []hostParam{{null: true, binary: true}}, nil},
		{"empty", []hostParam{{data: []byte{}, binary: true}}, nil},
		{"3 bytes", []hostParam{{data: []byte{1, 2, 3}, binary: true}}, nil},
		{"none", nil, nil},
		{"no codes", []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42)}}, []int32{}},
		{"code 0 for all", []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}}, []int32{0}},
	} {
		c := newHostCall(4, false, h.stmts, tc.ps)
		if tc.codes != nil {
			c.setCodes(tc.codes)
		}
		if s, rw, ok := c.kernel(); ok {
			t.Errorf("%s: the kernel answers (%d, %d)", tc.name, s, rw)
		}
		c.free()
	}
	// One code for all parameters: binary.
	c := newHostCall(4, false, h.stmts, []hostParam{{data: binary.BigEndian.AppendUint32(nil, 42), binary: true}})
	c.setCodes([]int32{1})
	if _, _, ok := c.kernel(); !ok {
		t.Error("one binary code for all parameters: the kernel leaves it")
	}
	c.free()
	other := newHostCall(5, false, h.stmts, []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
	defer other.free()
	if _, _, ok := other.kernel(); ok {
		t.Error("5 shards: the kernel answers for a program written at 4")
	}
	// A reload retires every program; routing again offers the tree again.
	global.kernel.retire()
	if _, _, ok := h.kernel(); ok {
		t.Error("after a config change the kernel still answers")
	}
	if !untilKernel(h) {
		t.Error("after a retirement the tree is not offered again")
	}
	// VECSHARD_KERNEL=0 at config time: every call in Go.
	t.Setenv(pluginstate.EnvKernel, "0")
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	h.route()
	h.route()
	if _, _, ok := h.kernel(); ok {
		t.Error("VECSHARD_KERNEL=0: the kernel answers")
	}
	os.Unsetenv(pluginstate.EnvKernel)
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	if !untilKernel(h) {
		t.Error("VECSHARD_KERNEL unset again: the kernel does not answer")
	}
}

// TestKernelRace races installs of three programs for one tree against
// kernel routes from two threads: P1 proves the tree and answers read;
// P2 answers write but its last compare fails; P3 fails at its first
// compare and then points at a page that may not be read. A reader that
// mixed programs would answer write (P2's flag with P1's compares) or
// fault (P1's first compare, then P3's address). Only P1's answer may
// ever come out. It runs for the whole proof (the four-word batches and
// the tail), for three words (the tail loop alone) and for the 4-byte
// compares alone.
func TestKernelRace(t *testing.T) {
	h := idLookup(t)
	want, wrw := h.routeGo()
	words, narrow, ok := global.memo.AppendProof(h.stmts, nil, nil)
	if !ok || len(words) < 8 || len(narrow) == 0 {
		t.Fatalf("proof of %d words and %d narrow compares", len(words), len(narrow))
	}
	poison, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_NONE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(poison)
	bad := unsafe.Pointer(unsafe.SliceData(poison))
	// fail returns ws with its last compare failing; trap, with its first
	// failing and every later one at the poisoned page.
	fail := func(ws []pgtree.ProofWord) []pgtree.ProofWord {
		ws = append([]pgtree.ProofWord(nil), ws...)
		ws[len(ws)-1].Want ^= ws[len(ws)-1].Mask & -ws[len(ws)-1].Mask
		return ws
	}
	trap := func(ws []pgtree.ProofWord) []pgtree.ProofWord {
		ws = append([]pgtree.ProofWord(nil), ws...)
		ws[0].Want ^= ws[0].Mask & -ws[0].Mask
		for i := 1; i < len(ws); i++ {
			ws[i] = pgtree.ProofWord{Addr: bad, Mask: ^uint64(0)}
		}
		return ws
	}
	narrowFail := []pgtree.ProofNarrow{{Addr: narrow[0].Addr, Want: ^narrow[0].Want}, {Addr: narrow[0].Addr, Want: narrow[0].Want}}
	narrowTrap := []pgtree.ProofNarrow{{Addr: narrow[0].Addr, Want: ^narrow[0].Want}, {Addr: bad}, {Addr: bad}}
	type program struct {
		write  bool
		words  []pgtree.ProofWord
		narrow []pgtree.ProofNarrow
	}
	for _, tc := range []struct {
		name     string
		programs [3]program
	}{
		{"whole proof", [3]program{{false, words, narrow}, {true, fail(words), narrow}, {true, trap(words), narrow}}},
		{"three words", [3]program{{false, words[:3], nil}, {true, fail(words[:3]), nil}, {true, trap(words[:3]), nil}}},
		{"4-byte compares", [3]program{{false, nil, narrow}, {true, nil, narrowFail}, {true, nil, narrowTrap}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gen := global.kernel.gen.Load()
			global.kernel.mu.Lock() // no offer may install meanwhile
			defer global.kernel.mu.Unlock()
			n := 20000
			if testing.Short() {
				n = 2000
			}
			var wg sync.WaitGroup
			var answered, wrong, tries atomic.Int64
			stop := make(chan struct{})
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if s, rw, ok := h.kernel(); ok {
							answered.Add(1)
							if s != want || rw != wrw {
								wrong.Add(1)
							}
						}
						tries.Add(1)
					}
				}()
			}
			for i := range n {
				p := tc.programs[i%3]
				global.kernel.install(h.stmts, gen, 4, router.BigintKernel{Write: p.write}, p.words, p.narrow)
				// Let the readers at each program: some reads then overlap
				// the next install, some run between two.
				for t0 := tries.Load(); tries.Load() < t0+2; {
					runtime.Gosched()
				}
			}
			p := tc.programs[0]
			global.kernel.install(h.stmts, gen, 4, router.BigintKernel{Write: p.write}, p.words, p.narrow)
			close(stop)
			wg.Wait()
			t.Logf("%d installs, %d kernel answers", n, answered.Load())
			if wrong.Load() != 0 {
				t.Fatalf("%d answers from a mixed program", wrong.Load())
			}
			if answered.Load() == 0 {
				t.Fatal("the kernel never answered: the race was not run")
			}
		})
	}
	// The slot's program is a test's: the next route offers the real one.
	global.kernel.retire()
}

// FuzzKernelRoute routes fuzzed parameters (bytes, NULL, format codes,
// shard counts, write_override) for the id lookup through the C kernel
// and through Go: whenever the kernel answers, Go answers the same.
func FuzzKernelRoute(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 42}, uint8(1), uint8(4), false, false)
	f.Add([]byte{0, 42}, uint8(2), uint8(4), true, false)
	f.Add([]byte("42"), uint8(0), uint8(4), false, false)
	f.Add([]byte{}, uint8(1), uint8(3), false, true)
	f.Fuzz(func(t *testing.T, data []byte, codes, shards uint8, wo, null bool) {
		h := idLookupF(t)
		var cs []int32
		switch codes % 4 {
		case 1:
			cs = []int32{1}
		case 2:
			cs = []int32{int32(codes >> 2)}
		case 3:
			cs = []int32{1, 0}
		}
		c := newHostCall(uint64(shards%9), wo, h.stmts, []hostParam{{data: data, null: null, binary: true}, {data: []byte("x")}})
		defer c.free()
		c.setCodes(cs)
		gs, grw := c.routeGo()
		if ks, krw, ok := c.kernel(); ok && (ks != gs || krw != grw) {
			t.Fatalf("%x codes %v shards %d: kernel (%d, %d), Go (%d, %d)", data, cs, shards%9, ks, krw, gs, grw)
		}
	})
}

var fuzzLookup struct {
	once sync.Once
	h    *hostCall
}

// idLookupF is idLookup once per process, for a fuzz target.
func idLookupF(t *testing.T) *hostCall {
	fuzzLookup.once.Do(func() {
		hostFini()
		if !hostConfigure("warn", false, filepath.Join(corpus.ConfigDir(), "vecshard.toml")) {
			t.Fatal("config")
		}
		js := corpusTrees(t)["id/eq-int8"]
		h := newHostCall(4, false, cTree(t, js), []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
		if !untilKernel(h) {
			t.Fatal("the kernel does not take the id lookup")
		}
		fuzzLookup.h = h
	})
	if fuzzLookup.h == nil {
		t.Fatal("no id lookup")
	}
	return fuzzLookup.h
}

// TestKernelRetired: a config reload that changes the decision, and fini,
// retire the kernel's programs: it must leave the call to Go, which then
// answers by the new config (or not at all).
func TestKernelRetired(t *testing.T) {
	dir := t.TempDir()
	src := corpus.ConfigDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(dir, "vecshard.toml")
	t.Setenv(pluginstate.EnvInterval, "10ms")
	configure(t, config)
	h := newHostCall(4, false, cTree(t, corpusTrees(t)["id/eq-int8"]), []hostParam{{data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
	defer h.free()
	if !untilKernel(h) {
		t.Fatal("the kernel does not take the id lookup")
	}
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(text), `name = "users"`, `name = "users_elsewhere"`, 1)
	if renamed == string(text) {
		t.Fatal("no users table in the corpus config")
	}
	if err := os.WriteFile(config, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, _ := h.routeGo(); s == shardUnknown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the renamed table was not reloaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s, rw, ok := h.kernel(); ok {
		t.Fatalf("after a reload that unconfigures users the kernel answers (%d, %d)", s, rw)
	}
	if s, rw := h.route(); s != shardUnknown || rw != rwUnknown {
		t.Fatalf("after the reload: (%d, %d), want unknown", s, rw)
	}
	// Back, and then fini.
	if err := os.WriteFile(config, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if !untilKernelWithin(h, 10*time.Second) {
		t.Fatal("the restored config: the kernel does not take the id lookup")
	}
	hostFini()
	if s, rw, ok := h.kernel(); ok {
		t.Fatalf("after fini the kernel answers (%d, %d)", s, rw)
	}
}

// untilKernelWithin is untilKernel with a longer patience (a reload).
func untilKernelWithin(h *hostCall, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if untilKernel(h) {
			return true
		}
	}
	return false
}

// TestKernelParams: the kernel keys on the plan's parameter, not the
// first, and follows Bind's rule for parameters past the last of several
// format codes (text).
func TestKernelParams(t *testing.T) {
	configure(t, filepath.Join(corpus.ConfigDir(), "vecshard.toml"))
	// The test needs a bigint key bound at $2, not $1; the corpus has one.
	const sql = "UPDATE users SET name = $1 WHERE id = $2"
	var name, js string
	trees := corpusTrees(t)
	for _, c := range corpus.Cases() {
		if c.SQL == sql {
			name, js = c.Name, trees[c.Name]
			break
		}
	}
	switch {
	case name == "":
		t.Fatalf("no case in internal/corpus has the SQL %q (update/key-bin in writes.go had it): if it moved, update the SQL here to a statement keyed by a bigint at $2", sql)
	case js == "":
		t.Fatalf("pgtree/testdata/corpus18.txt has no tree for corpus case %s (%q): regenerate it with make corpus-json (go test ./pgtree -update with PG18JSON set)", name, sql)
	}
	tree := cTree(t, js)
	for _, v := range []int64{1, 2, 3, 42, 1 << 40, -7} {
		// $1 a binary int8 too, of another value: the shard must be $2's.
		h := newHostCall(4, false, tree, []hostParam{
			{data: binary.BigEndian.AppendUint64(nil, uint64(v+1000)), binary: true},
			{data: binary.BigEndian.AppendUint64(nil, uint64(v)), binary: true},
		})
		if !untilKernel(h) {
			t.Fatal("the kernel does not take the UPDATE")
		}
		ks, krw, _ := h.kernel()
		gs, grw := h.routeGo()
		if want := int64(idkey.Shard(idkey.BigintKey(v), 4)); ks != want || ks != gs || krw != grw || krw != rwWrite {
			t.Errorf("$2 = %d: kernel (%d, %d), Go (%d, %d), want shard %d, write", v, ks, krw, gs, grw, want)
		}
		// One code per parameter: the key's decides.
		h.setCodes([]int32{1, 1})
		if _, _, ok := h.kernel(); !ok {
			t.Error("codes {1, 1}: the kernel leaves it")
		}
		h.setCodes([]int32{1, 0})
		if _, _, ok := h.kernel(); ok {
			t.Error("codes {1, 0}: the key is text, the kernel answers")
		}
		h.free()
	}
	// The key past the last of several codes is text (libpg_query 18's parse
	// of SELECT * FROM users WHERE name = $1 AND name = $2 AND id = $3).
	third := cTree(t, `{"version":180006,"stmts":[{"stmt":{"SelectStmt":{"targetList":[{"ResTarget":{"val":{"ColumnRef":{"fields":[{"A_Star":{}}],"location":7}},"location":7}}],"fromClause":[{"RangeVar":{"relname":"users","inh":true,"relpersistence":"p","location":14}}],"whereClause":{"BoolExpr":{"boolop":"AND_EXPR","args":[{"A_Expr":{"kind":"AEXPR_OP","name":[{"String":{"sval":"="}}],"lexpr":{"ColumnRef":{"fields":[{"String":{"sval":"name"}}],"location":26}},"rexpr":{"ParamRef":{"number":1,"location":33}},"location":31}},{"A_Expr":{"kind":"AEXPR_OP","name":[{"String":{"sval":"="}}],"lexpr":{"ColumnRef":{"fields":[{"String":{"sval":"name"}}],"location":40}},"rexpr":{"ParamRef":{"number":2,"location":47}},"location":45}},{"A_Expr":{"kind":"AEXPR_OP","name":[{"String":{"sval":"="}}],"lexpr":{"ColumnRef":{"fields":[{"String":{"sval":"id"}}],"location":54}},"rexpr":{"ParamRef":{"number":3,"location":59}},"location":57}}],"location":36}},"limitOption":"LIMIT_OPTION_DEFAULT","op":"SETOP_NONE"}}}]}`)
	h := newHostCall(4, false, third, []hostParam{{data: []byte("x")}, {data: []byte("y")}, {data: binary.BigEndian.AppendUint64(nil, 42), binary: true}})
	defer h.free()
	if !untilKernel(h) {
		t.Fatal("the kernel does not take the lookup by $3")
	}
	if s, rw, _ := h.kernel(); s != int64(idkey.Shard(idkey.BigintKey(42), 4)) || rw != rwRead {
		t.Errorf("$3 = 42: kernel (%d, %d)", s, rw)
	}
	h.setCodes([]int32{0, 0})
	if _, _, ok := h.kernel(); ok {
		t.Error("codes {0, 0} for three parameters: $3 is text, the kernel answers")
	}
	h.setCodes([]int32{1, 1})
	if _, _, ok := h.kernel(); ok {
		t.Error("codes {1, 1} for three parameters: $3 is text, the kernel answers")
	}
	h.setCodes([]int32{1})
	if _, _, ok := h.kernel(); !ok {
		t.Error("one code 1 for three parameters: $3 is binary, the kernel leaves it")
	}
}

// TestKernelGenerations: concurrent retirements (a reload racing a second
// config call) leave C's generation equal to Go's, never behind it, and a
// disable stays disabled whatever retires after it.
func TestKernelGenerations(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5000 {
				global.kernel.retire()
			}
		}()
	}
	wg.Wait()
	if c, g := kernelGen(), global.kernel.gen.Load(); c != g {
		t.Fatalf("after concurrent retirements C's generation is %d, Go's %d", c, g)
	}
	defer resetNotPG18()
	var wg2 sync.WaitGroup
	for i := range 4 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := range 2000 {
				if i == 0 && j == 1000 {
					global.kernel.disable()
				} else {
					global.kernel.retire()
				}
			}
		}()
	}
	wg2.Wait()
	if c := kernelGen(); c != 0 {
		t.Fatalf("retirements after a disable set C's generation to %d", c)
	}
}
