// Command vtable is vecshard's plugin for today's PgDog (v0.1.54 and
// later, crate pgdog-plugin 0.4): built with
//
//	go build -buildmode=c-shared -o build/libvecshard.so ./plugin/vtable
//
// it exports the data symbol PGDOG_PLUGIN_VTABLE (layouts in
// ../include/vecshard_pgdog_vtable.h). PgDog hands route its own parse of
// each statement, a PostgreSQL 18 raw parse tree; package pgtree reads it
// into the same statement form the SQL-text front end writes, and package
// router applies the same rules. The library does not link pg_query: it
// carries almost no initial-exec TLS, so it loads into any process without
// GLIBC_TUNABLES.
//
// Configuration: the path of [[plugins]] config = "..." in pgdog.toml, or,
// when that is empty, VECSHARD_CONFIG. Logging follows PgDog's level and
// JSON setting. Environment (read from the live process environment):
//
//	VECSHARD_CONFIG           config path when pgdog.toml names none
//	VECSHARD_RUSTC_VERSION    the `rustc --version` PgDog was built with, when
//	                          PgDog's executable does not say (see rustc.go)
//	VECSHARD_RELOAD_INTERVAL  how often to stat the config files (default 1s)
//	VECSHARD_KERNEL=0         route every call in Go, none in the C kernel
//	                          (kernel.c; for comparisons and as a kill switch)
//	VECSHARD_SIGNAL_FIX=0     leave the host's signal handlers alone (tests
//	                          that reproduce the crash use it; never in production)
//
// No exported function lets a panic reach PgDog: a panic is logged with its
// stack and answered with "unknown" (PgDog decides).
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "vecshard_pgdog_vtable.h"
int vecshard_onstack_signals(void);
*/
import "C"

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/plugin/internal/pluginstate"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqlir"
)

// Version is the plugin version PgDog logs.
const Version = "0.2.0"

// The Route PgDog reads: shard >= 0, or one of these; read_write.
const (
	shardAll     = -1
	shardUnknown = -2
	shardBlocked = -3

	rwWrite   = 0
	rwRead    = 1
	rwUnknown = 2
)

// memoEntries is how many parse trees the memo remembers (each keeps the
// words the reader read as checks: about 2 KiB for a typical statement,
// trees that read more than 4 KiB are not remembered; a few MiB in all).
const memoEntries = 2048

// main is required by -buildmode=c-shared and never runs.
func main() {}

// global is the plugin's one instance: the vtable has no handle to carry
// state. No SQL-text front end: this ABI passes parse trees only.
var global = newPlugin()

type plugin struct {
	*pluginstate.Plugin

	notPG18  atomic.Bool // the host's trees are not PostgreSQL 18's: unknown to everything
	panics   atomic.Int64
	builders sync.Pool              // *sqlir.Builder
	memo     *pgtree.Memo[treePlan] // trees PgDog passes again at every Bind, proven unchanged
	kernel   kernel                 // the C kernel's programs for the memo's id lookups

	warn   rateLimit // refused statements
	advice rateLimit // statements answered with a warning (Decision.Warning)

	rustcOnce sync.Once
	rustc     *C.char // C memory, never freed: PgDog may keep the PdStr
	rustcLen  int
	version   *C.char

	sigStop chan struct{}
	sigDone chan struct{}
}

func newPlugin() *plugin {
	// PgDog's merge rules reach the router through the snapshot: a ranking
	// PgDog cannot merge across shards is never sent to ALL.
	p := &plugin{Plugin: pluginstate.New(router.WithHost(router.PgDog)), memo: pgtree.NewMemo[treePlan](memoEntries)}
	p.builders.New = func() any { return new(sqlir.Builder) }
	p.version = C.CString(Version)
	p.kernel.retire()
	p.OnChange(p.kernel.retire)
	return p
}

// getenv reads the process's live environment: Go's os.Getenv sees a copy
// taken when the library loaded.
func getenv(name string) string {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	v := C.getenv(cs)
	if v == nil {
		return ""
	}
	return C.GoString(v)
}

// recoverTo stops a panic at the ABI boundary.
func (p *plugin) recoverTo(fn string) {
	if v := recover(); v != nil {
		p.panicked(fn, v)
	}
}

// panicked logs a panic recovered in fn.
func (p *plugin) panicked(fn string, v any) {
	p.panics.Add(1)
	p.Log().Error("vecshard: panic in plugin; answering unknown", "func", fn, "panic", v, "stack", string(debug.Stack()))
}

//export vecshardRustcVersion
func vecshardRustcVersion() (unsafe.Pointer, C.size_t) {
	defer global.recoverTo("rustc_version")
	p := global
	p.rustcOnce.Do(func() {
		v, how := hostRustcVersion(getenv(envRustc))
		if v == "" {
			p.Log().Error("vecshard: " + how)
		} else {
			p.Log().Debug("vecshard: rustc version for PgDog's check", "version", v, "from", how)
		}
		p.rustc, p.rustcLen = C.CString(v), len(v)
	})
	return unsafe.Pointer(p.rustc), C.size_t(p.rustcLen)
}

//export vecshardPluginVersion
func vecshardPluginVersion() (unsafe.Pointer, C.size_t) {
	return unsafe.Pointer(global.version), C.size_t(len(Version))
}

//export vecshardLoggingInit
func vecshardLoggingInit(c *C.PdConfig) {
	defer global.recoverTo("logging_init")
	name := strings.ToLower(goStr(c.log_level))
	// PgDog's level is an env-filter directive: "info", "debug",
	// "info,pgdog=debug". The first bare level is the default.
	lvl := ""
	for _, part := range strings.Split(name, ",") {
		if !strings.Contains(part, "=") {
			lvl = strings.TrimSpace(part)
			break
		}
	}
	level, ok := pluginstate.LogLevel(lvl)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if bool(c.log_json) {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	global.SetLogger(slog.New(h))
	if !ok {
		global.Log().Warn("vecshard: unknown log level from PgDog; using info", "level", name)
	}
}

//export vecshardInit
func vecshardInit() {
	defer global.recoverTo("init")
	global.startSignalFix()
}

//export vecshardFini
func vecshardFini() {
	defer global.recoverTo("fini")
	global.Stop()
	global.stopSignalFix()
}

//export vecshardConfig
func vecshardConfig(c *C.PdConfig) C.int {
	defer global.recoverTo("config")
	env := pluginstate.Env(getenv)
	path := goStr(c.plugin_config) // a copy: PgDog frees it after loading
	if path == "" {
		path = env.ConfigPath()
	}
	log := global.Log()
	if path == "" {
		log.Error("vecshard: no config: set config = \"/path/to/vecshard.toml\" in the [[plugins]] entry of pgdog.toml (or " + pluginstate.EnvConfig + "); PgDog skips the plugin")
		return 0
	}
	interval, err := env.ReloadInterval()
	if err != nil {
		log.Warn("vecshard: bad reload interval; using "+interval.String(), "env", pluginstate.EnvInterval, "value", env(pluginstate.EnvInterval))
	}
	// Read at each config; the Stop and Start below retire every program.
	global.kernel.off.Store(env.KernelOff())
	if global.Started() {
		// Configured again (a PgDog that reloads its plugins): the new
		// config replaces the old one.
		global.Stop()
	}
	if err := global.Start(path, interval); err != nil {
		global.Stop() // PgDog skips the plugin: nothing may keep running
		return 0
	}
	global.startSignalFix()
	return 1
}

//export vecshardRoute
func vecshardRoute(shards C.uint64_t, writeOverride C.int, stmts unsafe.Pointer, rp *C.PdRawParameters) (shard C.int64_t, rw C.uint8_t) {
	shard, rw = shardUnknown, rwUnknown
	// recoverTo, spelled out: one call fewer on every route.
	defer func() {
		if v := recover(); v != nil {
			global.panicked("route", v)
		}
	}()
	s, w := global.route(uint64(shards), writeOverride != 0, stmts, rp)
	return C.int64_t(s), C.uint8_t(w)
}

// The environment variables only this library reads; the shared ones are
// pluginstate's (pluginstate.Env).
const (
	envRustc  = "VECSHARD_RUSTC_VERSION"
	envSigFix = "VECSHARD_SIGNAL_FIX"
)

// route is one route call: the tree read into the statement form, the
// parameters as router.Params on the stack, the decision as a Route.
func (p *plugin) route(shards uint64, writeOverride bool, stmts unsafe.Pointer, rp *C.PdRawParameters) (int64, uint8) {
	gen := p.kernel.gen.Load() // before the snapshot: see kernel.retire
	r := p.Router()
	if r == nil || p.notPG18.Load() {
		return shardUnknown, rwUnknown
	}
	snap := r.Snapshot()
	tree, slot, ok := p.memo.Lookup(stmts)
	var plan *router.Plan
	switch {
	case !ok:
		b := p.builders.Get().(*sqlir.Builder)
		defer p.builders.Put(b)
		var err error
		if tree, err = p.memo.ReadMiss(b, stmts); err != nil {
			return p.notPG18Tree(err)
		}
		plan = snap.TreePlan(tree)
	default:
		// The tree is the one the memo read: its plan for this snapshot,
		// if it has one already, needs no cache lookup.
		tp := slot.Load()
		if tp != nil && tp.snap == snap {
			plan = tp.plan
		} else {
			plan = snap.TreePlan(tree)
			tp = &treePlan{snap: snap, plan: plan}
			slot.Store(tp)
		}
		if tp.offered.Load() != gen {
			p.kernel.offer(p.memo, tp, gen, snap, plan, stmts, shards)
		}
	}
	return p.routePlan(snap, plan, shards, writeOverride, rp)
}

// treePlan is a remembered tree's plan under one snapshot.
type treePlan struct {
	snap    *router.Snapshot
	plan    *router.Plan
	offered atomic.Uint64 // the kernel generation it was offered to the C kernel in (once: a tree whose slot another took stays with Go)
}

// notPG18Tree answers a tree that is not PostgreSQL 18's, and every later
// one.
func (p *plugin) notPG18Tree(err error) (int64, uint8) {
	first := !p.notPG18.Swap(true) // before the kernel stops: no route may offer it a tree after
	p.kernel.disable()
	if first {
		p.Log().Error("vecshard: PgDog's parse trees are not PostgreSQL 18's; vecshard answers unknown to every statement from now on. Use a PgDog built on libpg_query 18 (v0.1.54 and later)", "err", err)
	}
	return shardUnknown, rwUnknown
}

// routePlan decides by a tree's plan with the host's parameters.
func (p *plugin) routePlan(snap *router.Snapshot, plan *router.Plan, shards uint64, writeOverride bool, rp *C.PdRawParameters) (int64, uint8) {
	// router.RouteTree does not retain params: the common case stays on
	// this goroutine's stack.
	var buf [8]router.Param
	params := buf[:0]
	n := int(rp.params_len)
	if n > len(buf) {
		params = make([]router.Param, 0, n)
	}
	if n > 0 && rp.params != nil {
		codes := unsafe.Slice(rp.format_codes, int(rp.format_codes_len))
		if rp.format_codes == nil {
			codes = nil
		}
		for i, hp := range unsafe.Slice(rp.params, n) {
			params = append(params, param(hp, codes, i))
		}
	}
	nshards := int(min(shards, math.MaxInt32))
	d := snap.RoutePlan(plan, params, nshards)
	return p.encode(d, writeOverride)
}

// empty is the Data of an empty (not NULL) value.
var empty = []byte{}

// param is host parameter i as a router.Param: len SIZE_MAX is NULL, len 0
// an empty value; its format follows Bind's rules for the codes.
func param(hp C.PdParameter, codes []C.int32_t, i int) router.Param {
	var bin bool
	switch len(codes) {
	case 0:
	case 1:
		bin = codes[0] == 1
	default:
		bin = i < len(codes) && codes[i] == 1
	}
	switch {
	case hp.len == C.size_t(math.MaxUint64), hp.data == nil && hp.len > 0:
		return router.Param{Binary: bin}
	case hp.len == 0:
		return router.Param{Data: empty, Binary: bin}
	}
	return router.Param{Data: unsafe.Slice((*byte)(unsafe.Pointer(hp.data)), int(hp.len)), Binary: bin}
}

// encode maps a decision to PgDog's Route. write_override (PgDog's own
// parser saw a write or something that needs the primary) makes a shard or
// ALL answer a write; it never turns "unknown" into a decision.
func (p *plugin) encode(d router.Decision, writeOverride bool) (int64, uint8) {
	rw := uint8(rwRead)
	if d.Write || writeOverride {
		rw = rwWrite
	}
	switch d.Kind {
	case router.Shard:
		if d.Warning != "" {
			p.advise(d.Warning)
		}
		return int64(d.Shard), rw
	case router.All:
		return shardAll, rw
	case router.Error:
		// The client sees only `query is blocked by plugin "vecshard"`:
		// the reason goes to the log, rate-limited.
		if n, ok := p.warn.allow(); ok {
			attrs := []any{"code", d.Code, "reason", d.Message}
			if d.Detail != "" {
				attrs = append(attrs, "detail", d.Detail)
			}
			if n > 0 {
				attrs = append(attrs, "suppressed", n)
			}
			p.Log().Warn("vecshard: statement blocked", attrs...)
		}
		return shardBlocked, rw
	}
	return shardUnknown, rwUnknown
}

// advise logs a decision's warning (a ranking sent to its nearest
// centroid's shard because PgDog cannot merge its ORDER BY), rate-limited
// like refusals but counted apart, so that neither hides the other.
func (p *plugin) advise(warning string) {
	if n, ok := p.advice.allow(); ok {
		attrs := []any{"reason", warning}
		if n > 0 {
			attrs = append(attrs, "suppressed", n)
		}
		p.Log().Warn("vecshard: statement answered on one shard", attrs...)
	}
}

// rateLimit lets warnBurst events through per warnWindow and counts the
// rest, so that a client repeating a refused statement cannot flood
// PgDog's log.
type rateLimit struct {
	window     atomic.Int64 // start of the current window, unix nanoseconds
	n          atomic.Int64 // events let through in it
	suppressed atomic.Int64
}

const (
	warnWindow = time.Second
	warnBurst  = 10
)

// allow reports whether to log now, and how many events were suppressed
// since the last one logged.
func (l *rateLimit) allow() (int64, bool) {
	now := time.Now().UnixNano()
	if w := l.window.Load(); now-w >= int64(warnWindow) && l.window.CompareAndSwap(w, now) {
		l.n.Store(0)
	}
	if l.n.Add(1) > warnBurst {
		l.suppressed.Add(1)
		return 0, false
	}
	return l.suppressed.Swap(0), true
}

func goStr(s C.PdStr) string {
	if s.data == nil || s.len == 0 {
		return ""
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(s.data)), C.int(min(s.len, 1<<30)))
}

// startSignalFix repairs the host's signal handlers now and keeps doing so:
// PgDog installs its own after the plugin has loaded.
func (p *plugin) startSignalFix() {
	if getenv(envSigFix) == "0" { // the environment is read once, not every tick
		return
	}
	p.fixSignals()
	if p.sigStop != nil {
		return
	}
	p.sigStop, p.sigDone = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		defer p.recoverTo("signal watcher")
		t := time.NewTicker(signalFixInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.fixSignals()
			}
		}
	}(p.sigStop, p.sigDone)
}

// signalFixInterval bounds how long a host handler installed after load
// runs without SA_ONSTACK.
const signalFixInterval = 10 * time.Millisecond

func (p *plugin) fixSignals() {
	if n := C.vecshard_onstack_signals(); n > 0 {
		p.Log().Info(fmt.Sprintf("vecshard: added SA_ONSTACK to %d signal handlers of the host (a handler without it can overflow a Go stack)", int(n)))
	}
}

func (p *plugin) stopSignalFix() {
	if p.sigStop != nil {
		close(p.sigStop)
		<-p.sigDone
		p.sigStop, p.sigDone = nil, nil
	}
}
