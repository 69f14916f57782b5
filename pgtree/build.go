package pgtree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"unsafe"
)

// An Arena holds C-layout parse trees that BuildJSON made; they never move.
// In Go memory each tree lives in one block of its own, which the tree's
// root pointer keeps alive: the garbage collector does not see the
// pointers inside the tree (they are plain words), so a tree must not span
// blocks.
type Arena struct {
	alloc func(n int) unsafe.Pointer
	cur   []byte
	nodes int
	spilt bool // a Go-memory tree outgrew its block
}

// NewArena returns an arena that allocates with alloc (for example C's
// malloc, zeroed), or in Go memory when alloc is nil. Go memory holds the
// trees' pointers as plain words, so the garbage collector neither scans
// nor moves them; the Arena keeps them alive.
func NewArena(alloc func(n int) unsafe.Pointer) *Arena { return &Arena{alloc: alloc} }

// Limits on a JSON tree, so that hostile input cannot exhaust memory.
const (
	maxBuildNodes = 1 << 18
	maxBuildBytes = 64 << 20
)

func (a *Arena) bytes(n int) unsafe.Pointer {
	n = (n + 7) &^ 7
	if n == 0 {
		n = 8
	}
	if a.alloc != nil {
		return a.alloc(n)
	}
	if len(a.cur) < n {
		a.spilt = true // BuildJSON fails: this block is not reachable from the root
		a.cur = make([]byte, max(n, 64<<10))
	}
	p := unsafe.Pointer(unsafe.SliceData(a.cur))
	a.cur = a.cur[n:]
	return p
}

// BuildJSON builds the C tree that libpg_query's raw parser would have
// built from the parse tree JSON of pg_query_parse (libpg_query 18: field
// names are the C members), with the layout table of PostgreSQL 18. It
// returns the List * of RawStmt * that PgDog would pass to a plugin.
//
// It is the inverse of Read and exists for tests and fuzzing: it accepts
// any JSON, builds what it can name (a node it has no layout for gets its
// tag if the name is known, else tag 0), and never writes outside the
// structs it allocates.
func (a *Arena) BuildJSON(data []byte) (unsafe.Pointer, error) {
	if a.alloc == nil {
		// One block per tree, bounded by the JSON's size: the largest
		// struct per byte of JSON ({"SelectStmt":{}}: 160 bytes from 17)
		// stays well under 32.
		a.cur = make([]byte, 32*len(data)+4096)
		a.spilt = false
	}
	root, err := a.build(data)
	if err == nil && a.spilt {
		return nil, fmt.Errorf("pgtree: the tree of %d bytes of JSON outgrew its arena block", len(data))
	}
	return root, err
}

func (a *Arena) build(data []byte) (unsafe.Pointer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("pgtree: parse tree JSON: %w", err)
	}
	stmts, _ := top["stmts"].([]any)
	var raws []unsafe.Pointer
	for _, s := range stmts {
		m, _ := s.(map[string]any)
		raw := a.bytes(int(pg18Nodes[T_RawStmt].size))
		*(*int32)(raw) = T_RawStmt
		if st, ok := m["stmt"]; ok {
			p, err := a.node(st, 0)
			if err != nil {
				return nil, err
			}
			setPtr(raw, rawStmtOff, p)
		}
		raws = append(raws, raw)
	}
	if len(raws) == 0 {
		return nil, nil // what the raw parser returns for no statement
	}
	return a.list(raws), nil
}

func setPtr(base unsafe.Pointer, off int, p unsafe.Pointer) {
	*(*uintptr)(unsafe.Add(base, off)) = uintptr(p)
}

// list allocates a List of the given cells.
func (a *Arena) list(cells []unsafe.Pointer) unsafe.Pointer {
	l := a.bytes(int(pg18Nodes[T_List].size))
	*(*int32)(l) = T_List
	*(*int32)(unsafe.Add(l, listLengthOff)) = int32(len(cells))
	*(*int32)(unsafe.Add(l, listMaxLengthOff)) = int32(len(cells))
	if len(cells) > 0 {
		e := a.bytes(8 * len(cells))
		for i, c := range cells {
			setPtr(e, 8*i, c)
		}
		setPtr(l, listElementsOff, e)
	}
	return l
}

var tagByName = func() map[string]int32 {
	m := map[string]int32{}
	for t, n := range pg18TagNames {
		if n != "" {
			m[n] = int32(t)
		}
	}
	return m
}()

// node builds one node from its JSON form {"Name": {members}}.
func (a *Arena) node(v any, depth int) (unsafe.Pointer, error) {
	if depth > 2*maxDepthJSON {
		return nil, fmt.Errorf("pgtree: parse tree JSON nests deeper than %d", 2*maxDepthJSON)
	}
	a.nodes++
	if a.nodes > maxBuildNodes {
		return nil, fmt.Errorf("pgtree: parse tree JSON has more than %d nodes", maxBuildNodes)
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, nil
	}
	var name string
	var body map[string]any
	for k, b := range m {
		name = k
		body, _ = b.(map[string]any)
	}
	tag := tagByName[name]
	l := &layout{}
	if tag > 0 {
		l = &pg18Nodes[tag]
	}
	size := max(int(l.size), 8)
	p := a.bytes(size)
	*(*int32)(p) = tag
	if tag == T_List {
		items, _ := body["items"].([]any)
		cells, err := a.nodes1(items, depth)
		if err != nil {
			return nil, err
		}
		return a.list(cells), nil
	}
	if tag == T_A_Const {
		a.aconst(p, body)
	}
	// Members in a fixed order, so that a build is deterministic.
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := findField(l, k)
		if f == nil {
			continue
		}
		if err := a.member(p, f, body[k], depth); err != nil {
			return nil, err
		}
	}
	return p, nil
}

const maxDepthJSON = 1000

func findField(l *layout, name string) *field {
	for i := range l.fields {
		if l.fields[i].name == name {
			return &l.fields[i]
		}
	}
	return nil
}

func (a *Arena) nodes1(items []any, depth int) ([]unsafe.Pointer, error) {
	cells := make([]unsafe.Pointer, 0, len(items))
	for _, it := range items {
		c, err := a.node(it, depth+1)
		if err != nil {
			return nil, err
		}
		cells = append(cells, c)
	}
	return cells, nil
}

func (a *Arena) member(p unsafe.Pointer, f *field, v any, depth int) error {
	at := unsafe.Add(p, f.off)
	switch f.kind {
	case fkNode:
		if f.node != 0 {
			if m, ok := v.(map[string]any); ok {
				if _, wrapped := m[pg18TagNames[f.node]]; !wrapped || len(m) != 1 {
					// libpg_query writes a member of a named node type
					// (RangeVar *relation) without the {"RangeVar": ...}
					// wrapper.
					v = map[string]any{pg18TagNames[f.node]: m}
				}
			}
		}
		c, err := a.node(v, depth+1)
		if err != nil {
			return err
		}
		*(*uintptr)(at) = uintptr(c)
	case fkList:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		cells, err := a.nodes1(items, depth)
		if err != nil {
			return err
		}
		*(*uintptr)(at) = uintptr(a.list(cells))
	case fkString:
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if len(s) > maxBuildBytes {
			return fmt.Errorf("pgtree: a string of %d bytes", len(s))
		}
		c := a.bytes(len(s) + 1)
		copy(unsafe.Slice((*byte)(c), len(s)), s)
		*(*uintptr)(at) = uintptr(c)
	case fkBool:
		b, _ := v.(bool)
		*(*bool)(at) = b
	case fkChar:
		if s, ok := v.(string); ok && len(s) > 0 {
			*(*byte)(at) = s[0]
		}
	case fkInt16:
		*(*int16)(at) = int16(integer(v))
	case fkInt32:
		*(*int32)(at) = int32(integer(v))
	case fkUint32:
		*(*uint32)(at) = uint32(integer(v))
	case fkInt64:
		*(*int64)(at) = integer(v)
	case fkFloat64:
		if n, ok := v.(json.Number); ok {
			x, _ := n.Float64()
			*(*float64)(at) = x
		}
	case fkEnum:
		s, _ := v.(string)
		for _, ev := range pg18Enums[f.enum].values {
			if ev.name == s {
				*(*int32)(at) = ev.value
			}
		}
	}
	return nil
}

func integer(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if x, err := n.Float64(); err == nil && !math.IsNaN(x) && math.Abs(x) < 1<<62 {
		return int64(x)
	}
	return 0
}

// aconst fills A_Const's inline value from its JSON members ival, fval,
// boolval, sval or bsval (each an object holding the value node's member).
func (a *Arena) aconst(p unsafe.Pointer, body map[string]any) {
	v := unsafe.Add(p, aconstValOff)
	for _, k := range [...]struct {
		key  string
		tag  int32
		kind fieldKind
	}{{"ival", T_Integer, fkInt32}, {"fval", T_Float, fkString}, {"boolval", T_Boolean, fkBool},
		{"sval", T_String, fkString}, {"bsval", T_BitString, fkString}} {
		x, ok := body[k.key].(map[string]any)
		if !ok {
			continue
		}
		*(*int32)(v) = k.tag
		f := findField(&pg18Nodes[k.tag], k.key)
		if f != nil {
			_ = a.member(v, f, x[k.key], 0)
		}
		return
	}
}
