package main

/*
#include <stdlib.h>
#include "vecshard_pgdog.h"
*/
import "C"

import "sync"

// maxInterned bounds the C memory an internTable allocates (the
// strings' bytes and their terminating NULs): messages can carry values
// from the statement ("expected 3 dimensions, not 5", a prefix of a bad
// value), so a stream of distinct bad statements must not grow memory
// without bound, however long each message is. The router quotes at most
// 64 bytes of a bad value, so a message is a few hundred bytes and 1 MiB
// holds thousands of them.
const maxInterned = 1 << 20

// genericMessage is the message of an ERROR whose own text no longer fits in
// the table; the log (at debug level) still has the real text.
const genericMessage = "vecshard refused the statement (message table full; see the plugin log)"

// internTable gives ERROR strings the lifetime the ABI demands: PgDog reads
// them after the call and never frees them, so each distinct string is
// copied to C memory once and kept for the life of the process.
type internTable struct {
	mu       sync.Mutex
	strs     map[string]*C.char
	max      int     // bound on bytes, NULs included
	bytes    int     // held by strs
	severity *C.char // "ERROR"
	empty    *C.char // ""
	fallback *C.char // "XX000", for a code when the table is full
	generic  *C.char // genericMessage
}

func newInternTable(maxBytes int) *internTable {
	return &internTable{
		strs:     make(map[string]*C.char),
		max:      maxBytes,
		severity: C.CString("ERROR"),
		empty:    C.CString(""),
		fallback: C.CString("XX000"),
		generic:  C.CString(genericMessage),
	}
}

// error returns the ABI Error for a refused statement. The pointers stay
// valid forever.
func (t *internTable) error(code, message, detail string) C.Error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := C.Error{severity: t.severity}
	e.code = t.lookup(code, t.fallback)
	e.message = t.lookup(message, t.generic)
	e.detail = t.lookup(detail, t.empty)
	if e.message == t.generic && message != genericMessage {
		global.log().Debug("vecshard: refused statement", "code", code, "message", message, "detail", detail)
	}
	return e
}

// lookup returns s's C copy, making it if the table has room for its bytes,
// else fallback. The caller holds t.mu.
func (t *internTable) lookup(s string, fallback *C.char) *C.char {
	if s == "" {
		return t.empty
	}
	if p, ok := t.strs[s]; ok {
		return p
	}
	if len(s)+1 > t.max-t.bytes {
		return fallback
	}
	p := C.CString(s)
	t.strs[s] = p
	t.bytes += len(s) + 1
	return p
}

// len reports how many strings t holds.
func (t *internTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.strs)
}

// size reports how many bytes t's strings take (NULs included).
func (t *internTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bytes
}

// goString reads a C string (for tests, which cannot use cgo themselves).
func goString(p *C.char) string { return C.GoString(p) }
