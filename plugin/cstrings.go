package main

/*
#include <stdlib.h>
#include "vecshard_pgdog.h"
*/
import "C"

import "sync"

// maxInterned bounds the C strings an internTable allocates: messages can
// carry values from the statement ("expected 3 dimensions, not 5"), so a
// stream of distinct bad statements must not grow memory without bound.
const maxInterned = 4096

// genericMessage is the message of an ERROR whose own text no longer fits in
// the table; the log (at debug level) still has the real text.
const genericMessage = "vecshard refused the statement (message table full; see the plugin log)"

// internTable gives ERROR strings the lifetime the ABI demands: PgDog reads
// them after the call and never frees them, so each distinct string is
// copied to C memory once and kept for the life of the process.
type internTable struct {
	mu       sync.Mutex
	strs     map[string]*C.char
	max      int
	severity *C.char // "ERROR"
	empty    *C.char // ""
	fallback *C.char // "XX000", for a code when the table is full
	generic  *C.char // genericMessage
}

func newInternTable(max int) *internTable {
	return &internTable{
		strs:     make(map[string]*C.char),
		max:      max,
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

// lookup returns s's C copy, making it if the table has room, else fallback.
// The caller holds t.mu.
func (t *internTable) lookup(s string, fallback *C.char) *C.char {
	if s == "" {
		return t.empty
	}
	if p, ok := t.strs[s]; ok {
		return p
	}
	if len(t.strs) >= t.max {
		return fallback
	}
	p := C.CString(s)
	t.strs[s] = p
	return p
}

// len reports how many strings t holds.
func (t *internTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.strs)
}

// goString reads a C string (for tests, which cannot use cgo themselves).
func goString(p *C.char) string { return C.GoString(p) }
