// Command plugin is vecshard's plugin for the PgDog of January 2025 (commit
// cd054b36): built with
//
//	go build -buildmode=c-shared -o build/libvecshard_c2025.so ./plugin/c2025
//
// it exports the C ABI of PgDog's January 2025 plugin interface
// (pgdog_init, pgdog_route_query, pgdog_fini; layouts in
// plugin/include/vecshard_pgdog.h) and answers each statement with the decision of
// package router.
//
// Environment:
//
//	VECSHARD_CONFIG           path of the plugin's TOML config (required)
//	VECSHARD_LOG              debug | info | warn | error (default info)
//	VECSHARD_RELOAD_INTERVAL  how often to stat the config and centroid files
//	                          for changes, as a Go duration (default 1s;
//	                          values below 10ms are raised to 10ms)
//
// The exported functions never let a panic cross into the host: a panic is
// logged with its stack and answered with NO_DECISION.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <string.h>
#include "vecshard_pgdog.h"
*/
import "C"

import (
	"runtime/debug"
	"unsafe"

	"github.com/vecshard/vecshard/router"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

//export pgdog_init
func pgdog_init() {
	defer recoverTo("pgdog_init", nil)
	global.init()
}

//export pgdog_fini
func pgdog_fini() {
	defer recoverTo("pgdog_fini", nil)
	global.fini()
}

//export pgdog_route_query
func pgdog_route_query(input C.Input) (out C.Output) {
	defer recoverTo("pgdog_route_query", &out)
	out.decision = C.NO_DECISION
	r := global.Router()
	if r == nil || input.input_type != C.ROUTING_INPUT {
		// Not configured, or a CopyData message: vecshard refuses COPY FROM
		// into its tables before any data flows, so data for other tables
		// is PgDog's to route.
		return out
	}
	q := (*C.Query)(unsafe.Pointer(&input.input))
	if q.query == nil {
		return out
	}
	n := int(q.len)
	if n <= 0 {
		n = int(C.strlen(q.query))
	}
	// The host's bytes, not a copy: router.Route does not retain them.
	query := unsafe.String((*byte)(unsafe.Pointer(q.query)), n)

	np := int(q.num_parameters)
	if np <= 0 || q.parameters == nil {
		encode(&out, r.Route(query, nil, int(input.config.shards)))
		return out
	}
	// router.Route does not retain or leak params, so the common case lives
	// on this goroutine's stack: no allocation per call.
	var buf [16]router.Param
	params := buf[:0]
	if np > len(buf) {
		params = make([]router.Param, 0, np)
	}
	for _, p := range unsafe.Slice(q.parameters, np) {
		var data []byte
		if p.len > 0 && p.data != nil {
			data = unsafe.Slice((*byte)(unsafe.Pointer(p.data)), int(p.len))
		}
		params = append(params, router.Param{Data: data, Binary: p.format == 1})
	}
	d := r.Route(query, params, int(input.config.shards))
	encode(&out, d)
	return out
}

// encode writes decision d into out.
func encode(out *C.Output, d router.Decision) {
	switch d.Kind {
	case router.Shard, router.All:
		out.decision = C.FORWARD
		route := (*C.Route)(unsafe.Pointer(&out.output))
		route.affinity = C.READ
		if d.Write {
			route.affinity = C.WRITE
		}
		route.shard = C.ALL
		if d.Kind == router.Shard {
			route.shard = C.int(d.Shard)
		}
		route.num_order_by = 0
		route.order_by = nil
	case router.Error:
		out.decision = C.ERROR
		e := (*C.Error)(unsafe.Pointer(&out.output))
		*e = global.strings.error(d.Code, d.Message, d.Detail)
	default:
		out.decision = C.NO_DECISION
	}
}

// recoverTo stops a panic at the ABI boundary: it logs the panic with its
// stack and, for a route call, turns the answer into NO_DECISION.
func recoverTo(fn string, out *C.Output) {
	v := recover()
	if v == nil {
		return
	}
	panics.Add(1)
	global.log().Error("vecshard: panic in plugin; answering NO_DECISION",
		"func", fn, "panic", v, "stack", string(debug.Stack()))
	if out != nil {
		*out = C.Output{decision: C.NO_DECISION}
	}
}
