package main

// Calls into the vtable the way PgDog makes them, for the package's tests
// and benchmarks (cgo is not allowed in _test.go files). Every call goes
// through the function pointers of PGDOG_PLUGIN_VTABLE, with arguments in C
// memory, so the tests exercise the exact entry points PgDog uses.

/*
#include <stdlib.h>
#include <string.h>
#include "vecshard_pgdog_vtable.h"
#include "kernel.h"

static int vt_kernel(uint64_t shards, bool wo, const void *stmts, const PdParameter *ps, size_t n,
                     const int32_t *codes, size_t ncodes, PdRoute *out)
{
    PdRawParameters rp = {ps, n, codes, ncodes};
    return vs_kernel_route(shards, wo, stmts, &rp, out);
}

static PdRoute vt_route(uint64_t shards, bool wo, const void *stmts, const PdParameter *ps, size_t n,
                        const int32_t *codes, size_t ncodes)
{
    PdRawParameters rp = {ps, n, codes, ncodes};
    return PGDOG_PLUGIN_VTABLE.route(shards, false, true, false, wo, (const PdList *)stmts, rp);
}

static bool vt_config(const char *level, bool json, const char *path)
{
    PdConfig c = {{(const uint8_t *)level, strlen(level)}, json, {(const uint8_t *)path, strlen(path)}};
    PGDOG_PLUGIN_VTABLE.logging_init(c);
    PGDOG_PLUGIN_VTABLE.init();
    return PGDOG_PLUGIN_VTABLE.config(c);
}

static void vt_fini(void) { PGDOG_PLUGIN_VTABLE.fini(); }

static PdStr vt_str(int which)
{
    switch (which) {
    case 0: return PGDOG_PLUGIN_VTABLE.pgdog_plugin_api_version();
    case 1: return PGDOG_PLUGIN_VTABLE.rustc_version();
    default: return PGDOG_PLUGIN_VTABLE.plugin_version();
    }
}
*/
import "C"

import (
	"unsafe"
)

// hostParam is one parameter as a test host passes it.
type hostParam struct {
	data   []byte
	null   bool
	binary bool
}

// hostCall is a route call's arguments in C memory, reusable.
type hostCall struct {
	shards uint64
	wo     bool
	stmts  unsafe.Pointer
	ps     *C.PdParameter
	n      int
	codes  *C.int32_t
	ncodes int
	frees  []unsafe.Pointer
}

// newHostCall copies params into C memory, with one format code per
// parameter (none when every parameter is text and allText is set).
func newHostCall(shards uint64, writeOverride bool, stmts unsafe.Pointer, params []hostParam) *hostCall {
	h := &hostCall{shards: shards, wo: writeOverride, stmts: stmts, n: len(params)}
	if len(params) == 0 {
		return h
	}
	h.ps = (*C.PdParameter)(h.alloc(int(unsafe.Sizeof(C.PdParameter{})) * len(params)))
	h.codes = (*C.int32_t)(h.alloc(4 * len(params)))
	h.ncodes = len(params)
	ps := unsafe.Slice(h.ps, len(params))
	codes := unsafe.Slice(h.codes, len(params))
	for i, p := range params {
		if p.binary {
			codes[i] = 1
		}
		switch {
		case p.null:
			ps[i] = C.PdParameter{len: C.size_t(^uint64(0))}
		default:
			d := h.alloc(max(len(p.data), 1))
			copy(unsafe.Slice((*byte)(d), len(p.data)), p.data)
			ps[i] = C.PdParameter{len: C.size_t(len(p.data)), data: (*C.uint8_t)(d)}
		}
	}
	return h
}

func (h *hostCall) alloc(n int) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	h.frees = append(h.frees, p)
	return p
}

// route calls PGDOG_PLUGIN_VTABLE.route.
func (h *hostCall) route() (int64, uint8) {
	r := C.vt_route(C.uint64_t(h.shards), C.bool(h.wo), h.stmts, h.ps, C.size_t(h.n), h.codes, C.size_t(h.ncodes))
	return int64(r.shard), uint8(r.read_write)
}

// kernel calls the C kernel alone: ok is false when it leaves the call to Go.
func (h *hostCall) kernel() (shard int64, rw uint8, ok bool) {
	var out C.PdRoute
	if C.vt_kernel(C.uint64_t(h.shards), C.bool(h.wo), h.stmts, h.ps, C.size_t(h.n), h.codes, C.size_t(h.ncodes), &out) == 0 {
		return 0, 0, false
	}
	return int64(out.shard), uint8(out.read_write), true
}

// setCodes replaces the format codes (at most one per parameter; none:
// a NULL array).
func (h *hostCall) setCodes(codes []int32) {
	h.ncodes = len(codes)
	if len(codes) == 0 {
		h.codes = nil
		return
	}
	cs := unsafe.Slice(h.codes, len(codes))
	for i, c := range codes {
		cs[i] = C.int32_t(c)
	}
}

// kernelGen is the C kernel's current generation.
func kernelGen() uint64 { return uint64(C.vs_kernel_gen()) }

// kernelShard is the kernel's arithmetic: jump(fmix64(v), shards).
func kernelShard(v int64, shards uint64) int64 {
	return int64(C.vs_kernel_shard(C.int64_t(v), C.uint64_t(shards)))
}

// free scribbles over and frees the C memory, as a host reusing buffers.
func (h *hostCall) free() {
	for _, p := range h.frees {
		C.free(p)
	}
	h.frees = nil
}

// cAlloc is an allocator for pgtree.Arena: zeroed C memory, never freed
// (test trees live for the test binary's life).
func cAlloc(n int) unsafe.Pointer { return C.calloc(1, C.size_t(n)) }

// hostConfigure calls logging_init, init and config as PgDog does.
func hostConfigure(level string, json bool, path string) bool {
	cl, cp := C.CString(level), C.CString(path)
	defer C.free(unsafe.Pointer(cl))
	defer C.free(unsafe.Pointer(cp))
	return bool(C.vt_config(cl, C.bool(json), cp))
}

// hostFini calls fini.
func hostFini() { C.vt_fini() }

// hostString returns one of the vtable's strings: 0 the API version, 1 the
// rustc version, 2 the plugin version.
func hostString(which int) string {
	s := C.vt_str(C.int(which))
	if s.data == nil {
		return ""
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(s.data)), C.int(s.len))
}

// routeGo calls the route implementation without crossing the ABI, for
// the benchmark that splits the cost of a call.
func (h *hostCall) routeGo() (int64, uint8) {
	rp := C.PdRawParameters{params: h.ps, params_len: C.size_t(h.n), format_codes: h.codes, format_codes_len: C.size_t(h.ncodes)}
	return global.route(h.shards, h.wo, h.stmts, &rp)
}
