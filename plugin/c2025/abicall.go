package main

/*
#include <stdlib.h>
#include <string.h>
#include "vecshard_pgdog.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// panics counts the panics recoverTo has stopped; tests require it to stay 0.
var panics atomic.Int64

// hostParam is one Bind parameter as a test hands it to callRoute.
type hostParam struct {
	data   []byte // nil or empty: SQL NULL
	binary bool
}

// routeResult is a decision as a host reads it out of Output.
type routeResult struct {
	decision            int
	shard, affinity     int
	numOrderBy          int
	orderByNil          bool
	severity, code, msg string
	detail              string
	nilErrorStrings     bool
}

// callRoute does what a host does for one statement: it copies the query and
// parameters into C memory, builds an Input (a Config with a primary and a
// replica per shard), calls pgdog_route_query through the C ABI, reads the
// Output and frees its own memory. It exists for tests, which cannot use cgo.
func callRoute(query string, params []hostParam, shards int) routeResult {
	h := newHostCall(query, params, shards)
	defer h.free()
	return h.route()
}

// hostCall is an Input built in C memory the way a host builds it, so that a
// test can call pgdog_route_query with it many times (allocation counts).
type hostCall struct {
	in    C.Input
	frees []func()
}

func newHostCall(query string, params []hostParam, shards int) *hostCall {
	h := &hostCall{}
	ndb := max(2*shards, 0)
	var dbs *C.DatabaseConfig
	if ndb > 0 {
		dbs = (*C.DatabaseConfig)(C.calloc(C.size_t(ndb), C.size_t(unsafe.Sizeof(C.DatabaseConfig{}))))
		host := C.CString("localhost")
		h.frees = append(h.frees, func() { C.free(unsafe.Pointer(dbs)); C.free(unsafe.Pointer(host)) })
		for i := range ndb {
			db := &unsafe.Slice(dbs, ndb)[i]
			db.shard = C.int(i / 2)
			db.role = C.PRIMARY
			if i%2 == 1 {
				db.role = C.REPLICA
			}
			db.host = host
			db.port = 5432
		}
	}
	name := C.CString("test")
	h.frees = append(h.frees, func() { C.free(unsafe.Pointer(name)) })
	h.in.config = C.Config{num_databases: C.int(ndb), databases: dbs, name: name, shards: C.int(shards)}
	h.in.input_type = C.ROUTING_INPUT
	q := (*C.Query)(unsafe.Pointer(&h.in.input))
	q.len = C.int(len(query))
	q.query = C.CString(query)
	h.frees = append(h.frees, func() { scribbleFree(unsafe.Pointer(q.query), len(query)) })
	if len(params) > 0 {
		ps := (*C.Parameter)(C.calloc(C.size_t(len(params)), C.size_t(unsafe.Sizeof(C.Parameter{}))))
		h.frees = append(h.frees, func() { C.free(unsafe.Pointer(ps)) })
		for i, p := range params {
			cp := &unsafe.Slice(ps, len(params))[i]
			if p.binary {
				cp.format = 1
			}
			if len(p.data) > 0 {
				cp.len = C.int(len(p.data))
				cp.data = (*C.char)(C.CBytes(p.data))
				n := len(p.data)
				h.frees = append(h.frees, func() { scribbleFree(unsafe.Pointer(cp.data), n) })
			}
		}
		q.num_parameters = C.int(len(params))
		q.parameters = ps
	}
	return h
}

// call routes the Input once and ignores the answer.
func (h *hostCall) call() { _ = pgdog_route_query(h.in) }

// route routes the Input once and reads the Output as a host does.
func (h *hostCall) route() routeResult {
	out := pgdog_route_query(h.in)
	r := routeResult{decision: int(out.decision)}
	switch out.decision {
	case C.FORWARD:
		route := (*C.Route)(unsafe.Pointer(&out.output))
		r.shard, r.affinity = int(route.shard), int(route.affinity)
		r.numOrderBy, r.orderByNil = int(route.num_order_by), route.order_by == nil
	case C.ERROR:
		e := (*C.Error)(unsafe.Pointer(&out.output))
		if e.severity == nil || e.code == nil || e.message == nil || e.detail == nil {
			r.nilErrorStrings = true
			break
		}
		r.severity, r.code = C.GoString(e.severity), C.GoString(e.code)
		r.msg, r.detail = C.GoString(e.message), C.GoString(e.detail)
	}
	return r
}

// free releases the C memory in reverse order of allocation, scribbling over
// the host's bytes first.
func (h *hostCall) free() {
	for i := len(h.frees) - 1; i >= 0; i-- {
		h.frees[i]()
	}
	h.frees = nil
}

// scribbleFree overwrites host memory before freeing it, as a host reusing
// its buffers would, so that a plugin that kept a reference past the call
// sees different bytes.
func scribbleFree(p unsafe.Pointer, n int) {
	C.memset(p, 'X', C.size_t(n))
	C.free(p)
}
