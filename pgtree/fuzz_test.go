package pgtree_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqlir"
)

var (
	fuzzOnce  sync.Once
	fuzzSnap  *router.Snapshot
	fuzzJSONs []string
)

// fuzzSetup loads the corpus configuration and the corpus JSONs once.
func fuzzSetup(f *testing.F) {
	fuzzOnce.Do(func() {
		fuzzSnap = loadCorpus(f)
		js := corpusJSON(f)
		names := make([]string, 0, len(js))
		for n := range js {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if p := js[n]; p.Kind == "JSON" {
				fuzzJSONs = append(fuzzJSONs, p.Body)
			}
		}
	})
	if fuzzSnap == nil || len(fuzzJSONs) == 0 {
		f.Fatal("fuzz setup failed")
	}
}

// paramShapes are the parameter shapes the seeds rotate through.
var paramShapes = []struct {
	p1    []byte
	p1bin bool
	p2    []byte
}{
	{[]byte("[1,0,0]"), false, []byte("7")},
	{vecbin.Vector(1, 0, 0), true, []byte("42")},
	{binary.BigEndian.AppendUint64(nil, 42), true, binary.BigEndian.AppendUint32(nil, 7)},
	{[]byte("42"), false, nil},
	{nil, false, []byte("[0,1,0]")},
}

// checkDecision fails t unless d is a well-formed decision for shards.
func checkDecision(t *testing.T, d router.Decision, shards int) {
	t.Helper()
	switch d.Kind {
	case router.NoDecision, router.All:
	case router.Shard:
		if d.Shard < 0 || d.Shard >= shards {
			t.Fatalf("shard %d of %d: %+v", d.Shard, shards, d)
		}
	case router.Error:
		if len(d.Code) != 5 || d.Message == "" {
			t.Fatalf("error without a SQLSTATE or message: %+v", d)
		}
	default:
		t.Fatalf("decision kind %d: %+v", d.Kind, d)
	}
}

// readChecked reads root twice (the bytes must be equal), checks the error
// kind, decodes and routes. It returns false when Read refused the tree.
func readChecked(t *testing.T, root unsafe.Pointer, params []router.Param, shards int) bool {
	t.Helper()
	var b1, b2 sqlir.Builder
	err := pgtree.Read(&b1, root)
	err2 := pgtree.Read(&b2, root)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("Read is not deterministic: %v, then %v", err, err2)
	}
	if err != nil {
		if !errors.Is(err, pgtree.ErrNotPG18) {
			t.Fatalf("Read error does not wrap ErrNotPG18: %v", err)
		}
		return false
	}
	flat := b1.Bytes()
	if !bytes.Equal(flat, b2.Bytes()) {
		t.Fatalf("Read is not deterministic: %x, then %x", flat, b2.Bytes())
	}
	if _, err := sqlir.Decode(flat); err != nil {
		t.Fatalf("Read succeeded but Decode fails: %v", err)
	}
	d := fuzzSnap.RouteTree(flat, params, shards)
	checkDecision(t, d, shards)
	if d2 := fuzzSnap.RouteTree(flat, params, shards); d2 != d {
		t.Fatalf("RouteTree not deterministic: %+v, then %+v", d, d2)
	}
	return true
}

func FuzzReadTree(f *testing.F) {
	fuzzSetup(f)
	for i, js := range fuzzJSONs {
		ps := paramShapes[i%len(paramShapes)]
		f.Add([]byte(js), uint8(4), ps.p1, ps.p1bin, ps.p2)
	}
	f.Add([]byte(`{"stmts":[]}`), uint8(1), []byte(nil), false, []byte(nil))
	f.Add([]byte(`{"stmts":[{}]}`), uint8(0), []byte(nil), false, []byte(nil))
	f.Fuzz(func(t *testing.T, js []byte, shards uint8, p1 []byte, p1bin bool, p2 []byte) {
		a := pgtree.NewArena(nil)
		root, err := a.BuildJSON(js)
		if err != nil {
			return
		}
		params := []router.Param{{Data: p1, Binary: p1bin}, {Data: p2}}
		readChecked(t, root, params, int(shards)%9)
		runtime.KeepAlive(a)
	})
}

// nodeNames are the PostgreSQL 18 node names a mutation may swap in.
var nodeNames = func() []string {
	var out []string
	for tag := 1; tag <= pgtree.RawMaxTag; tag++ {
		if n := pgtree.RawTagName(tag); n != "" {
			out = append(out, n)
		}
	}
	return out
}()

var fieldNames = pgtree.RawFieldNames()

// progReader hands out the bytes of a mutation program, zeros past its end.
type progReader struct {
	b []byte
	i int
}

func (r *progReader) more() bool { return r.i < len(r.b) }

func (r *progReader) u8() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

func (r *progReader) u16() int { return r.u8() | r.u8()<<8 }

func (r *progReader) u32() uint32 { return uint32(r.u16()) | uint32(r.u16())<<16 }

// containers lists every map and slice of a decoded JSON value, preorder.
func containers(v any, out *[]any) {
	switch x := v.(type) {
	case map[string]any:
		*out = append(*out, x)
		keys := sortedKeys(x)
		for _, k := range keys {
			containers(x[k], out)
		}
	case []any:
		*out = append(*out, x)
		for _, e := range x {
			containers(e, out)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

var scalars = []any{
	nil, true, false, "", "x", "SETOP_UNION", "AEXPR_OP", "JOIN_LEFT", "<=>", "items", "embedding",
	json.Number("0"), json.Number("1"), json.Number("-1"), json.Number("2147483648"), json.Number("-9223372036854775809"),
	json.Number("1e308"), json.Number("3.5"), json.Number("99999999999999999999"), json.Number("479"), json.Number("600"),
}

// newValue is a fresh value of a kind the program picks.
func newValue(r *progReader, pool []any) any {
	switch r.u8() % 6 {
	case 0:
		return scalars[r.u8()%len(scalars)]
	case 1:
		return []any{}
	case 2:
		return map[string]any{}
	case 3:
		return map[string]any{nodeNames[r.u16()%len(nodeNames)]: map[string]any{}}
	case 4:
		if len(pool) > 0 {
			return deepCopy(pool[r.u16()%len(pool)])
		}
		return nil
	default:
		return []any{scalars[r.u8()%len(scalars)]}
	}
}

// mutate applies up to 16 structural mutations the program describes.
func mutate(root any, r *progReader) any {
	for step := 0; step < 16 && r.more(); step++ {
		var cs []any
		containers(root, &cs)
		if len(cs) == 0 {
			return root
		}
		target := cs[r.u16()%len(cs)]
		op := r.u8() % 7
		switch c := target.(type) {
		case map[string]any:
			keys := sortedKeys(c)
			var key string
			if len(keys) > 0 {
				key = keys[r.u8()%len(keys)]
			}
			switch op {
			case 0: // swap a node's type name
				if key != "" {
					v := c[key]
					delete(c, key)
					c[nodeNames[r.u16()%len(nodeNames)]] = v
				}
			case 1: // drop a member
				if key != "" {
					delete(c, key)
				}
			case 2: // replace a member's value
				if key != "" {
					c[key] = newValue(r, cs)
				}
			case 3: // duplicate a subtree into another member
				if len(cs) > 0 {
					c[fieldNames[r.u16()%len(fieldNames)]] = deepCopy(cs[r.u16()%len(cs)])
				}
			case 4: // nest deeper
				if key != "" {
					wrap := nodeNames[r.u16()%len(nodeNames)]
					c[key] = map[string]any{wrap: map[string]any{fieldNames[r.u16()%len(fieldNames)]: c[key]}}
				}
			case 5: // rename a member to another member name
				if key != "" {
					v := c[key]
					delete(c, key)
					c[fieldNames[r.u16()%len(fieldNames)]] = v
				}
			default: // nest deeper many times
				if key != "" {
					n := 1 + r.u8()*8
					v := c[key]
					wrap := nodeNames[r.u16()%len(nodeNames)]
					member := fieldNames[r.u16()%len(fieldNames)]
					for range n {
						v = map[string]any{wrap: map[string]any{member: v}}
					}
					c[key] = v
				}
			}
		case []any:
			if len(c) == 0 {
				continue
			}
			i := r.u8() % len(c)
			switch op {
			case 0, 1:
				c[i] = nil
			case 2:
				c[i] = newValue(r, cs)
			case 3:
				c[i] = deepCopy(cs[r.u16()%len(cs)])
			case 4:
				c[i] = []any{c[i]}
			case 5:
				c[i] = map[string]any{"List": map[string]any{"items": []any{c[i]}}}
			default:
				c[i] = c[(i+1)%len(c)]
				c[i] = deepCopy(c[i])
			}
		}
	}
	return root
}

func FuzzMutatedTree(f *testing.F) {
	fuzzSetup(f)
	for i := 0; i < len(fuzzJSONs); i += 7 {
		f.Add(uint16(i), []byte{byte(i), 0, byte(i % 7), byte(i >> 3), 3, 1, byte(i), 4, 0, 2}, uint8(4), []byte("[1,0,0]"))
	}
	f.Add(uint16(0), []byte{}, uint8(4), []byte(nil))
	f.Add(uint16(1), []byte{0, 0, 6, 0, 255, 1, 0, 1, 0}, uint8(3), []byte("42"))
	f.Fuzz(func(t *testing.T, idx uint16, prog []byte, shards uint8, p1 []byte) {
		dec := json.NewDecoder(strings.NewReader(fuzzJSONs[int(idx)%len(fuzzJSONs)]))
		dec.UseNumber()
		var root any
		if err := dec.Decode(&root); err != nil {
			t.Fatal(err)
		}
		root = mutate(root, &progReader{b: prog})
		js, err := json.Marshal(root)
		if err != nil {
			return // a cycle cannot arise (subtrees are copied); NaN and the like cannot either
		}
		a := pgtree.NewArena(nil)
		tree, err := a.BuildJSON(js)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pgtree: ") {
				t.Fatalf("BuildJSON error %v", err)
			}
			return
		}
		params := []router.Param{{Data: p1}, {Data: p1, Binary: true}}
		readChecked(t, tree, params, int(shards)%9)
		runtime.KeepAlive(a)
	})
}

// rawAlloc allocates the objects of one raw tree: each its own exact-size
// Go allocation (so checkptr, on under -race, sees its bounds), or, in
// guard mode, placed to end exactly at a readable page followed by an
// inaccessible one, so that reading one byte past it faults.
type rawAlloc struct {
	keep  [][]byte
	guard bool
	slot  int
}

// The guard pages: slots of one readable page each, every other page
// inaccessible. Fuzz functions of one process run one at a time.
var (
	guardOnce sync.Once
	guardMem  []byte
	guardPage int
)

const guardSlots = 512

func guardInit() {
	guardOnce.Do(func() {
		guardPage = syscall.Getpagesize()
		m, err := syscall.Mmap(-1, 0, 2*guardSlots*guardPage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return
		}
		for i := range guardSlots {
			if syscall.Mprotect(m[(2*i+1)*guardPage:(2*i+2)*guardPage], syscall.PROT_NONE) != nil {
				return
			}
		}
		guardMem = m
	})
}

func (a *rawAlloc) alloc(n int) []byte {
	if a.guard && guardMem != nil && a.slot < guardSlots && n <= guardPage {
		end := (2*a.slot + 1) * guardPage
		a.slot++
		b := guardMem[end-n : end : end]
		clear(b)
		return b
	}
	b := make([]byte, n)
	a.keep = append(a.keep, b)
	return b
}

func ptrOf(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

func putWord(b []byte, off int, v uintptr) {
	if off+8 <= len(b) {
		binary.LittleEndian.PutUint64(b[off:], uint64(v))
	}
}

func putI32(b []byte, off int, v int32) {
	if off+4 <= len(b) {
		binary.LittleEndian.PutUint32(b[off:], uint32(v))
	}
}

// interestingTags are the tags with a layout, for the program to pick.
var interestingTags = func() []int32 {
	var out []int32
	for tag := 1; tag <= pgtree.RawMaxTag; tag++ {
		if size, _ := pgtree.RawLayout(tag); size > 0 {
			out = append(out, int32(tag))
		}
	}
	return out
}()

// rawNode is one node of a raw program.
type rawNode struct {
	tag  int32
	mem  []byte
	list bool // List, IntList, OidList, XidList
}

// buildRaw interprets prog as a raw tree: nodes with arbitrary tags and
// contents, pointer members only NULL or other nodes (or strings for
// char *), List headers with arbitrary length and max_length but cells for
// exactly max(length, 0) elements.
func buildRaw(a *rawAlloc, prog []byte) uintptr {
	r := &progReader{b: prog}
	a.guard = r.u8()&1 == 1
	n := 1 + r.u8()%24
	nodes := make([]rawNode, n)
	for i := range nodes {
		var tag int32
		switch sel := r.u8(); {
		case sel < 176:
			tag = interestingTags[r.u16()%len(interestingTags)]
		case sel < 250:
			tag = int32(r.u16() % 601)
		default:
			tag = int32(r.u32())
		}
		size, _ := pgtree.RawLayout(int(tag))
		if size == 0 {
			size = 4 // the tag is all the reader may read
		}
		mem := a.alloc(size)
		for j := range mem {
			mem[j] = byte(r.u8())
		}
		putI32(mem, 0, tag)
		nodes[i] = rawNode{tag: tag, mem: mem,
			list: tag == pgtree.T_List || tag == pgtree.T_IntList || tag == pgtree.T_OidList || tag == pgtree.T_XidList}
	}
	pick := func() uintptr {
		c := r.u8()
		if c%5 == 0 {
			return 0
		}
		return ptrOf(nodes[(c/5)%n].mem)
	}
	str := func() uintptr {
		c := r.u8()
		if c%4 == 0 {
			return 0
		}
		s := a.alloc(int(c%61) + 1) // the NUL is the last byte
		for j := range len(s) - 1 {
			if s[j] = byte(r.u8()); s[j] == 0 {
				s[j] = 'x'
			}
		}
		return ptrOf(s)
	}
	for i := range nodes {
		nd := &nodes[i]
		if nd.list {
			length := int32(r.u8()) - 32 // -32..223
			maxLen := length + int32(int8(r.u8()))
			if r.u8() == 255 {
				maxLen = math.MaxInt32
			}
			putI32(nd.mem, pgtree.RawListLengthOff, length)
			putI32(nd.mem, pgtree.RawListMaxLengthOff, maxLen)
			putWord(nd.mem, pgtree.RawListElementsOff, 0)
			if length > 0 {
				cells := a.alloc(8 * int(length))
				for j := range int(length) {
					if nd.tag == pgtree.T_List {
						putWord(cells, 8*j, pick())
					} else {
						putWord(cells, 8*j, uintptr(r.u32())|1) // numbers, never addresses of nodes
					}
				}
				putWord(nd.mem, pgtree.RawListElementsOff, ptrOf(cells))
			} else if r.u8()&1 == 1 {
				putWord(nd.mem, pgtree.RawListElementsOff, 8) // dangling: must not be read
			}
			continue
		}
		_, fields := pgtree.RawLayout(int(nd.tag))
		for _, fl := range fields {
			switch fl.Kind {
			case pgtree.RawNode:
				putWord(nd.mem, fl.Off, pick())
			case pgtree.RawString:
				putWord(nd.mem, fl.Off, str())
			case pgtree.RawOpaque:
				putWord(nd.mem, fl.Off, 0xdead0000beef0000) // not an address: must not be read
			case pgtree.RawValue:
				vtags := []int32{pgtree.T_Integer, pgtree.T_Float, pgtree.T_String, pgtree.T_Boolean, pgtree.T_BitString, 0, pgtree.T_List, int32(r.u16())}
				vt := vtags[r.u8()%len(vtags)]
				putI32(nd.mem, fl.Off, vt)
				switch vt {
				case pgtree.T_Float, pgtree.T_String, pgtree.T_BitString:
					putWord(nd.mem, fl.Off+pgtree.RawValueStrOff, str())
				case pgtree.T_Integer, pgtree.T_Boolean:
				default:
					putWord(nd.mem, fl.Off+pgtree.RawValueStrOff, 0xdead0000beef0000)
				}
			}
		}
	}
	switch mode := r.u8() % 8; mode {
	case 0:
		return ptrOf(nodes[0].mem) // whatever node 0 is
	case 1:
		return 0
	default: // a List of RawStmt
		k := int(mode) - 1
		raws := make([]uintptr, k)
		for i := range raws {
			raw := a.alloc(24)
			putI32(raw, 0, pgtree.T_RawStmt)
			putWord(raw, pgtree.RawRawStmtOff, pick())
			raws[i] = ptrOf(raw)
		}
		l := a.alloc(24)
		putI32(l, 0, pgtree.T_List)
		putI32(l, pgtree.RawListLengthOff, int32(k))
		putI32(l, pgtree.RawListMaxLengthOff, int32(k))
		cells := a.alloc(8 * k)
		for i, p := range raws {
			putWord(cells, 8*i, p)
		}
		putWord(l, pgtree.RawListElementsOff, ptrOf(cells))
		return ptrOf(l)
	}
}

var rawMu sync.Mutex // the guard pages are one pool

func FuzzReadRaw(f *testing.F) {
	fuzzSetup(f)
	guardInit()
	f.Add([]byte{0, 0}, uint8(4))
	f.Add([]byte{1, 2, 0, 141 - 1, 0}, uint8(4))
	// A SelectStmt, a List, a String, statements pointing at node 0.
	f.Add([]byte{0, 2, 10, 100, 0, 10, 0, 0, 10, 200, 0}, uint8(4))
	f.Add(bytes.Repeat([]byte{1, 7, 33, 5, 200, 9}, 40), uint8(3))
	f.Add(bytes.Repeat([]byte{0, 23, 100, 90, 3, 6, 250}, 80), uint8(8))
	// A TypeCast whose arg is itself, as the one statement (heap and guard).
	for i, tag := range interestingTags {
		if tag == pgtree.T_TypeCast {
			for _, guard := range []byte{0, 1} {
				prog := append([]byte{guard, 0, 0, byte(i), byte(i >> 8)}, make([]byte, 32)...)
				f.Add(append(prog, 1, 0, 2, 1), uint8(4))
			}
		}
	}
	f.Fuzz(func(t *testing.T, prog []byte, shards uint8) {
		rawMu.Lock()
		defer rawMu.Unlock()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		a := &rawAlloc{}
		root := buildRaw(a, prog)
		// root is the address of memory a keeps (or of the guard pages).
		readChecked(t, *(*unsafe.Pointer)(unsafe.Pointer(&root)), nil, int(shards)%9)
		runtime.KeepAlive(a)
	})
}
