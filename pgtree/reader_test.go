package pgtree

import (
	"bufio"
	"errors"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/sqlir"
	"github.com/vecshard/vecshard/sqltext"
)

// rawMem builds C-layout trees by hand, one exact-size Go allocation per
// object, so that checkptr (on under -race) can tell where each object
// ends. Pointers are stored as plain words: the garbage collector neither
// scans nor moves the []byte objects, and keep holds them alive.
type rawMem struct{ keep [][]byte }

func (m *rawMem) alloc(n int) unsafe.Pointer {
	b := make([]byte, n)
	m.keep = append(m.keep, b)
	return unsafe.Pointer(unsafe.SliceData(b))
}

// node allocates a node of tag's layout size (4 bytes, the tag only, for
// a tag without a layout) and sets its tag.
func (m *rawMem) node(tag int32) unsafe.Pointer {
	size := 4
	if tag > 0 && tag <= pg18MaxTag && pg18Nodes[tag].size > 0 {
		size = int(pg18Nodes[tag].size)
	}
	p := m.alloc(size)
	*(*int32)(p) = tag
	return p
}

func putI32(p unsafe.Pointer, off int, v int32)    { *(*int32)(unsafe.Add(p, off)) = v }
func putBool(p unsafe.Pointer, off int, v bool)    { *(*bool)(unsafe.Add(p, off)) = v }
func putWord(p unsafe.Pointer, off int, v uintptr) { *(*uintptr)(unsafe.Add(p, off)) = v }
func putPtr(p unsafe.Pointer, off int, q unsafe.Pointer) {
	putWord(p, off, uintptr(q))
}

// list allocates a List (or IntList, ...) header with the given length and
// max_length and an elements array of exactly max(length, 0) cells.
func (m *rawMem) listHdr(tag, length, maxLen int32) (hdr, elems unsafe.Pointer) {
	hdr = m.node(tag)
	putI32(hdr, listLengthOff, length)
	putI32(hdr, listMaxLengthOff, maxLen)
	if length > 0 {
		elems = m.alloc(8 * int(length))
		putPtr(hdr, listElementsOff, elems)
	}
	return hdr, elems
}

func (m *rawMem) list(cells ...unsafe.Pointer) unsafe.Pointer {
	hdr, elems := m.listHdr(T_List, int32(len(cells)), int32(len(cells)))
	for i, c := range cells {
		putPtr(elems, 8*i, c)
	}
	return hdr
}

// str allocates s with its NUL, exactly.
func (m *rawMem) str(s string) unsafe.Pointer {
	p := m.alloc(len(s) + 1)
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return p
}

// stmts is the List of RawStmt the host passes, one per statement node.
func (m *rawMem) stmts(nodes ...unsafe.Pointer) unsafe.Pointer {
	raws := make([]unsafe.Pointer, len(nodes))
	for i, n := range nodes {
		raws[i] = m.node(T_RawStmt)
		putPtr(raws[i], rawStmtOff, n)
	}
	return m.list(raws...)
}

func off(tag int, name string) int { return offsetOf(tag, name) }

// readTree reads root and decodes the result.
func readTree(t *testing.T, m *rawMem, root unsafe.Pointer) ([]*sqlir.Node, []byte, error) {
	t.Helper()
	var b sqlir.Builder
	err := Read(&b, root)
	runtime.KeepAlive(m)
	if err != nil {
		return nil, nil, err
	}
	out := append([]byte(nil), b.Bytes()...)
	ns, derr := sqlir.Decode(out)
	if derr != nil {
		t.Fatalf("Read succeeded but Decode fails: %v", derr)
	}
	return ns, out, nil
}

// TestReadStatementList covers the statement list's own shape.
func TestReadStatementList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(m *rawMem) unsafe.Pointer
		n     int  // statements, when no error
		err   bool // an ErrNotPG18 error
	}{
		{"NULL list", func(m *rawMem) unsafe.Pointer { return nil }, 0, false},
		{"length 0, dangling elements", func(m *rawMem) unsafe.Pointer {
			l := m.node(T_List)
			putI32(l, listMaxLengthOff, 4)
			putWord(l, listElementsOff, 8) // never dereferenced
			return l
		}, 0, false},
		{"length 0, max_length 0, NULL elements", func(m *rawMem) unsafe.Pointer {
			return m.node(T_List)
		}, 0, false},
		{"one SelectStmt", func(m *rawMem) unsafe.Pointer { return m.stmts(m.node(T_SelectStmt)) }, 1, false},
		{"NULL statement", func(m *rawMem) unsafe.Pointer { return m.stmts(nil) }, 1, false},
		{"three statements", func(m *rawMem) unsafe.Pointer {
			return m.stmts(m.node(T_SelectStmt), m.node(T_DeleteStmt), m.node(T_A_Star))
		}, 3, false},
		{"first element not a RawStmt", func(m *rawMem) unsafe.Pointer { return m.list(m.node(T_SelectStmt)) }, 0, true},
		{"second element not a RawStmt", func(m *rawMem) unsafe.Pointer {
			raw := m.node(T_RawStmt)
			putPtr(raw, rawStmtOff, m.node(T_SelectStmt))
			return m.list(raw, m.node(T_SelectStmt))
		}, 0, true},
		{"NULL cell", func(m *rawMem) unsafe.Pointer { return m.list(nil) }, 0, true},
		{"statement list is a RawStmt", func(m *rawMem) unsafe.Pointer { return m.node(T_RawStmt) }, 0, true},
		{"statement list is an IntList", func(m *rawMem) unsafe.Pointer {
			l, _ := m.listHdr(T_IntList, 0, 0)
			return l
		}, 0, true},
		{"statement list has tag 0", func(m *rawMem) unsafe.Pointer { return m.alloc(24) }, 0, true},
		{"negative length", func(m *rawMem) unsafe.Pointer {
			l, _ := m.listHdr(T_List, -1, 4)
			putWord(l, listElementsOff, 8)
			return l
		}, 0, true},
		{"length > max_length", func(m *rawMem) unsafe.Pointer {
			l, e := m.listHdr(T_List, 2, 1)
			raw := m.node(T_RawStmt)
			putPtr(e, 0, raw)
			putPtr(e, 8, raw)
			return l
		}, 0, true},
		{"length > maxListLen", func(m *rawMem) unsafe.Pointer {
			l := m.node(T_List)
			putI32(l, listLengthOff, maxListLen+1)
			putI32(l, listMaxLengthOff, math.MaxInt32)
			putWord(l, listElementsOff, 8) // never dereferenced
			return l
		}, 0, true},
		{"length 1, NULL elements", func(m *rawMem) unsafe.Pointer {
			l := m.node(T_List)
			putI32(l, listLengthOff, 1)
			putI32(l, listMaxLengthOff, 1)
			return l
		}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMem{}
			root := tc.build(m)
			ns, _, err := readTree(t, m, root)
			if tc.err {
				if !errors.Is(err, ErrNotPG18) {
					t.Fatalf("err = %v, want ErrNotPG18", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != tc.n {
				t.Fatalf("%d statements, want %d", len(ns), tc.n)
			}
		})
	}
}

// stmt1 reads a single statement node and returns its decoded form.
func stmt1(t *testing.T, m *rawMem, n unsafe.Pointer) *sqlir.Node {
	t.Helper()
	ns, _, err := readTree(t, m, m.stmts(n))
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 {
		t.Fatalf("%d statements", len(ns))
	}
	return ns[0]
}

func TestReadUnknownTags(t *testing.T) {
	const sizeless = T_PlannerInfo // a planner node: no raw-tree layout
	if pg18Nodes[sizeless].size != 0 {
		t.Fatalf("T_PlannerInfo has a layout; pick another size-0 tag")
	}
	for _, tc := range []struct {
		tag int32
		pg  string
	}{
		{0, "NodeTag 0"},
		{-1, "NodeTag -1"},
		{math.MinInt32, "NodeTag -2147483648"},
		{pg18MaxTag + 1, "NodeTag 480"},
		{600, "NodeTag 600"},
		{math.MaxInt32, "NodeTag 2147483647"},
		{sizeless, "PlannerInfo"},
	} {
		m := &rawMem{}
		// As the statement and as a child of a named slot and of the rest.
		n := stmt1(t, m, m.node(tc.tag))
		if n == nil || n.Kind != sqlir.Unknown || n.PG != tc.pg {
			t.Errorf("tag %d: statement %+v, want Unknown %q", tc.tag, n, tc.pg)
		}
		tcast := m.node(T_TypeCast)
		putPtr(tcast, off(T_TypeCast, "arg"), m.node(tc.tag))
		n = stmt1(t, m, tcast)
		if c := n.One(sqlir.CastArg); c == nil || c.Kind != sqlir.Unknown || c.PG != tc.pg {
			t.Errorf("tag %d: TypeCast arg %+v, want Unknown %q", tc.tag, c, tc.pg)
		}
		alias := m.node(T_Alias)
		putPtr(alias, off(T_Alias, "colnames"), m.list(m.node(tc.tag)))
		n = stmt1(t, m, alias)
		if c := n.One(0); n.Kind != sqlir.Alias || c == nil || c.Kind != sqlir.Unknown || c.PG != tc.pg {
			t.Errorf("tag %d: Alias rest %+v, want Unknown %q", tc.tag, c, tc.pg)
		}
	}
}

// chain builds depth TypeCasts, each the arg of the one before.
func chain(m *rawMem, depth int) unsafe.Pointer {
	var p unsafe.Pointer
	for range depth {
		q := m.node(T_TypeCast)
		putPtr(q, off(T_TypeCast, "arg"), p)
		p = q
	}
	return p
}

func depthOf(n *sqlir.Node) (int, bool) {
	d := 0
	for n != nil && n.Kind == sqlir.TypeCast {
		n = n.One(sqlir.CastArg)
		d++
	}
	return d, n != nil && n.Kind == sqlir.Unknown
}

// TestReadDeep: nesting beyond sqlir.MaxDepth becomes Unknown, and what
// Read writes must decode.
func TestReadDeep(t *testing.T) {
	for _, depth := range []int{10, sqlir.MaxDepth - 1, sqlir.MaxDepth, sqlir.MaxDepth + 1, sqlir.MaxDepth + 2, 20000} {
		m := &rawMem{}
		var b sqlir.Builder
		err := Read(&b, m.stmts(chain(m, depth)))
		runtime.KeepAlive(m) // the nodes' pointers are plain words: m keeps them alive
		if err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		ns, err := sqlir.Decode(b.Bytes())
		if err != nil {
			t.Errorf("depth %d: Read's output does not decode: %v", depth, err)
			continue
		}
		got, unknown := depthOf(ns[0])
		// Levels 0..MaxDepth-1 are read; level MaxDepth is Unknown.
		if depth <= sqlir.MaxDepth && (got != depth || unknown) {
			t.Errorf("depth %d: read %d levels (unknown %v)", depth, got, unknown)
		}
		if depth > sqlir.MaxDepth && (got != sqlir.MaxDepth || !unknown) {
			t.Errorf("depth %d: read %d levels (unknown %v), want %d and Unknown", depth, got, unknown, sqlir.MaxDepth)
		}
	}
}

// TestReadCycles: trees that point back into themselves terminate, with
// an Unknown where the depth limit or the node budget stopped them.
func TestReadCycles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(m *rawMem) unsafe.Pointer
	}{
		{"TypeCast arg is itself", func(m *rawMem) unsafe.Pointer {
			p := m.node(T_TypeCast)
			putPtr(p, off(T_TypeCast, "arg"), p)
			return p
		}},
		{"List holds itself", func(m *rawMem) unsafe.Pointer {
			l, e := m.listHdr(T_List, 1, 1)
			putPtr(e, 0, l)
			return l
		}},
		// 2^depth nodes: stopped by the node budget.
		{"BoolExpr args list holds the BoolExpr twice", func(m *rawMem) unsafe.Pointer {
			p := m.node(T_BoolExpr)
			putPtr(p, off(T_BoolExpr, "args"), m.list(p, p))
			return p
		}},
		{"SelectStmt larg and rarg are itself", func(m *rawMem) unsafe.Pointer {
			p := m.node(T_SelectStmt)
			putPtr(p, off(T_SelectStmt, "larg"), p)
			putPtr(p, off(T_SelectStmt, "rarg"), p)
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMem{}
			var b sqlir.Builder
			err := Read(&b, m.stmts(tc.build(m)))
			runtime.KeepAlive(m)
			if err != nil {
				t.Fatal(err)
			}
			ns, err := sqlir.Decode(b.Bytes())
			if err != nil {
				t.Fatalf("Read's output does not decode: %v", err)
			}
			if len(ns) != 1 || !sqlir.Contains(ns, sqlir.Unknown) {
				t.Fatal("a cycle read without an Unknown")
			}
		})
	}
}

// TestCstringAtAllocationEnd reads strings whose NUL is the last byte of
// an exact-size allocation, for every length 0..64 and start alignment.
func TestCstringAtAllocationEnd(t *testing.T) {
	for n := 0; n <= 64; n++ {
		for lead := 0; lead < 8; lead++ {
			buf := make([]byte, lead+n+1)
			for i := range n {
				buf[lead+i] = byte('a' + (i % 26))
			}
			for i := range lead {
				buf[i] = 0xff
			}
			got := cstring(unsafe.Pointer(&buf[lead]))
			want := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 3)[:n]
			if got != want {
				t.Fatalf("len %d lead %d: %q", n, lead, got)
			}
			runtime.KeepAlive(buf)
		}
	}
}

// TestCstringGuardPage puts each string so that its NUL is the last byte
// of a readable page followed by an inaccessible one: any read past the NUL
// faults.
func TestCstringGuardPage(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for n := 0; n <= 64; n++ {
		start := page - n - 1
		for i := range start {
			mem[i] = 'z'
		}
		for i := range n {
			mem[start+i] = byte('a' + (i % 26))
		}
		mem[page-1] = 0
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("len %d: cstring read past the NUL: %v", n, r)
				}
			}()
			if got := cstring(unsafe.Pointer(&mem[start])); len(got) != n {
				t.Errorf("len %d: got %d bytes", n, len(got))
			}
		}()
	}
	// And through Read: a String whose sval ends at the guard page.
	m := &rawMem{}
	s := m.node(T_String)
	copy(mem[page-4:], "abc\x00")
	putPtr(s, valueStrOff, unsafe.Pointer(&mem[page-4]))
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Read read past a string: %v", r)
			}
		}()
		if n := stmt1(t, m, s); n.Kind != sqlir.String || n.Name != "abc" {
			t.Errorf("got %+v", n)
		}
	}()
}

// TestReadScalarLists: IntList, OidList and XidList hold numbers, never
// read as nodes (their elements here are invalid addresses).
func TestReadScalarLists(t *testing.T) {
	for _, tag := range []int32{T_IntList, T_OidList, T_XidList} {
		mk := func(m *rawMem) unsafe.Pointer {
			l, e := m.listHdr(tag, 3, 3)
			putWord(e, 0, 1)
			putWord(e, 8, 7)
			putWord(e, 16, 0x123)
			return l
		}
		dangling := func(m *rawMem) unsafe.Pointer {
			l := m.node(tag)
			putI32(l, listLengthOff, 5)
			putI32(l, listMaxLengthOff, 5)
			putWord(l, listElementsOff, 8)
			return l
		}
		for _, build := range []func(*rawMem) unsafe.Pointer{mk, dangling} {
			m := &rawMem{}
			// A named list slot: SelectStmt.targetList.
			sel := m.node(T_SelectStmt)
			putPtr(sel, off(T_SelectStmt, "targetList"), build(m))
			n := stmt1(t, m, sel)
			if len(n.Slot(sqlir.SelTargets)) != 0 {
				t.Errorf("%s as targetList: %d targets", pg18TagNames[tag], len(n.Slot(sqlir.SelTargets)))
			}
			// A rest list member: Alias.colnames.
			alias := m.node(T_Alias)
			putPtr(alias, off(T_Alias, "colnames"), build(m))
			if n := stmt1(t, m, alias); len(n.Slot(0)) != 0 {
				t.Errorf("%s as Alias.colnames: %d children", pg18TagNames[tag], len(n.Slot(0)))
			}
			// A node member: TypeCast.arg.
			tc := m.node(T_TypeCast)
			putPtr(tc, off(T_TypeCast, "arg"), build(m))
			n = stmt1(t, m, tc)
			if c := n.One(sqlir.CastArg); c == nil || c.Kind != sqlir.Other || c.PG != pg18TagNames[tag] || len(c.Slot(0)) != 0 {
				t.Errorf("%s as TypeCast.arg: %+v", pg18TagNames[tag], c)
			}
			// A List element.
			if n := stmt1(t, m, m.list(build(m))); n.Kind != sqlir.List || len(n.Slot(0)) != 1 || n.One(0).Kind != sqlir.Other {
				t.Errorf("%s in a List: %+v", pg18TagNames[tag], n)
			}
		}
	}
}

func TestReadAConst(t *testing.T) {
	valOff := aconstValOff
	for _, tc := range []struct {
		name  string
		fill  func(m *rawMem, v unsafe.Pointer) // v: the inline value node
		null  bool
		kind  sqlir.Kind
		class int64
		text  string
	}{
		{"int", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_Integer); putI32(v, integerIvalOff, 42) }, false, sqlir.AConst, sqlir.ConstInt, "42"},
		{"negative int", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_Integer); putI32(v, integerIvalOff, -7) }, false, sqlir.AConst, sqlir.ConstInt, "-7"},
		{"min int", func(m *rawMem, v unsafe.Pointer) {
			putI32(v, 0, T_Integer)
			putI32(v, integerIvalOff, math.MinInt32)
		}, false, sqlir.AConst, sqlir.ConstInt, "-2147483648"},
		{"float", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_Float); putPtr(v, valueStrOff, m.str("1.5e3")) }, false, sqlir.AConst, sqlir.ConstFloat, "1.5e3"},
		{"big int as float", func(m *rawMem, v unsafe.Pointer) {
			putI32(v, 0, T_Float)
			putPtr(v, valueStrOff, m.str("99999999999999999999"))
		}, false, sqlir.AConst, sqlir.ConstFloat, "99999999999999999999"},
		{"string", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_String); putPtr(v, valueStrOff, m.str("abc")) }, false, sqlir.AConst, sqlir.ConstString, "abc"},
		{"NULL string pointer", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_String) }, false, sqlir.AConst, sqlir.ConstString, ""},
		{"true", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_Boolean); putBool(v, booleanOff, true) }, false, sqlir.AConst, sqlir.ConstBool, "true"},
		{"false", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_Boolean) }, false, sqlir.AConst, sqlir.ConstBool, "false"},
		{"bits", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_BitString); putPtr(v, valueStrOff, m.str("b0101")) }, false, sqlir.AConst, sqlir.ConstBits, "b0101"},
		{"hex bits", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_BitString); putPtr(v, valueStrOff, m.str("xff")) }, false, sqlir.AConst, sqlir.ConstBits, "xff"},
		{"isnull, value ignored", func(m *rawMem, v unsafe.Pointer) {
			putI32(v, 0, T_String)
			putWord(v, valueStrOff, 0x7) // never dereferenced
		}, true, sqlir.AConst, sqlir.ConstNull, ""},
		{"isnull, no value", func(m *rawMem, v unsafe.Pointer) {}, true, sqlir.AConst, sqlir.ConstNull, ""},
		{"value tag 0", func(m *rawMem, v unsafe.Pointer) {}, false, sqlir.Unknown, 0, ""},
		{"value tag List", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, T_List); putWord(v, valueStrOff, 0x7) }, false, sqlir.Unknown, 0, ""},
		{"value tag out of range", func(m *rawMem, v unsafe.Pointer) { putI32(v, 0, 9999); putWord(v, valueStrOff, 0x7) }, false, sqlir.Unknown, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMem{}
			c := m.node(T_A_Const)
			tc.fill(m, unsafe.Add(c, valOff))
			putBool(c, aconstIsnullOff, tc.null)
			n := stmt1(t, m, c)
			if n.Kind != tc.kind {
				t.Fatalf("kind %d, want %d (%+v)", n.Kind, tc.kind, n)
			}
			if tc.kind == sqlir.Unknown {
				if n.PG != "A_Const" {
					t.Errorf("PG %q", n.PG)
				}
				return
			}
			if n.Int != tc.class || n.Name != tc.text || len(n.Kids) != 0 {
				t.Errorf("got class %d text %q kids %d, want %d %q", n.Int, n.Name, len(n.Kids), tc.class, tc.text)
			}
		})
	}
}

// TestReadGoldenOffsets pins the offsets the reader uses outside the
// generic programs to the design's numbers.
func TestReadGoldenOffsets(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"T_SelectStmt", T_SelectStmt, 141},
		{"T_RawStmt", T_RawStmt, 136},
		{"T_List", int(tagList), 1},
		{"sizeof List", int(pg18Nodes[T_List].size), 24},
		{"List.elements", listElementsOff, 16},
		{"A_Const.val", aconstValOff, 8},
		{"A_Const.isnull", aconstIsnullOff, 24},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestReadMatchesTextKinds builds every corpus case's PostgreSQL 18 tree
// from its JSON, reads it, and compares the statement kinds with what the
// text front end makes of the same SQL, where both parse.
func TestReadMatchesTextKinds(t *testing.T) {
	f, err := os.Open("testdata/corpus18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sql := corpusSQL(t)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	compared := 0
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), "\t")
		kind, js, _ := strings.Cut(rest, "\t")
		if kind != "JSON" {
			continue
		}
		a := NewArena(nil)
		root, err := a.BuildJSON([]byte(js))
		if err != nil {
			t.Errorf("%s: BuildJSON: %v", name, err)
			continue
		}
		var b sqlir.Builder
		if err := Read(&b, root); err != nil {
			t.Errorf("%s: Read: %v", name, err)
			continue
		}
		runtime.KeepAlive(a)
		tree, err := sqlir.Decode(b.Bytes())
		if err != nil {
			t.Errorf("%s: Decode: %v", name, err)
			continue
		}
		q, ok := sql[name]
		if !ok {
			continue
		}
		var tb sqlir.Builder
		if sqltext.Parse(&tb, q) != nil {
			continue // PostgreSQL 18 only
		}
		text, err := sqlir.Decode(tb.Bytes())
		if err != nil {
			t.Errorf("%s: text Decode: %v", name, err)
			continue
		}
		if got, want := kinds(tree), kinds(text); got != want {
			t.Errorf("%s: tree statements %s, text %s", name, got, want)
		}
		compared++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if compared < 600 {
		t.Errorf("only %d cases compared", compared)
	}
}

func kinds(ns []*sqlir.Node) string {
	var sb strings.Builder
	for _, n := range ns {
		switch {
		case n == nil:
			sb.WriteString("nil ")
		case n.Kind == sqlir.Other || n.Kind == sqlir.Unknown:
			sb.WriteString(n.PG + " ")
		default:
			sb.WriteString(sqlir.SpecOf(n.Kind).PG + " ")
		}
	}
	return sb.String()
}

func corpusSQL(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, c := range corpus.Cases() {
		m[c.Name] = c.SQL
	}
	return m
}

// The layout table as fuzz_test.go (package pgtree_test) needs it to build
// raw trees by hand. Test-only exports.

// Kinds of RawField.
const (
	RawScalar = iota // any bytes: ints, enums, bools, embedded structs
	RawNode          // Node * or List *: NULL or a node
	RawString        // char *: NULL or a NUL-terminated string
	RawValue         // A_Const's inline value node (16 bytes)
	RawOpaque        // a member the reader must not read (Bitmapset *, Datum, ...)
)

// RawField is one member of a node struct.
type RawField struct{ Off, Kind int }

// RawMaxTag is the largest tag of the layout table.
const RawMaxTag = pg18MaxTag

// RawLayout returns the size and the members of tag's struct; size 0 when
// the table has no layout for tag.
func RawLayout(tag int) (size int, fields []RawField) {
	if tag <= 0 || tag > pg18MaxTag {
		return 0, nil
	}
	l := &pg18Nodes[tag]
	for _, f := range l.fields {
		k := RawScalar
		switch f.kind {
		case fkNode, fkList:
			k = RawNode
		case fkString:
			k = RawString
		case fkValue:
			k = RawValue
		case fkOpaque:
			k = RawOpaque
		}
		fields = append(fields, RawField{Off: int(f.off), Kind: k})
	}
	return int(l.size), fields
}

// RawTagName is the layout table's name of tag ("" if none).
func RawTagName(tag int) string {
	if tag <= 0 || tag > pg18MaxTag {
		return ""
	}
	return pg18TagNames[tag]
}

// RawFieldNames lists every member name of the layout table, once each.
func RawFieldNames() []string {
	seen := map[string]bool{}
	var out []string
	for i := range pg18Nodes {
		for _, f := range pg18Nodes[i].fields {
			if !seen[f.name] {
				seen[f.name] = true
				out = append(out, f.name)
			}
		}
	}
	return out
}

// Offsets of List and of the value nodes, for the raw fuzzer.
var (
	RawListLengthOff    = listLengthOff
	RawListMaxLengthOff = listMaxLengthOff
	RawListElementsOff  = listElementsOff
	RawRawStmtOff       = rawStmtOff
	RawValueStrOff      = valueStrOff
	RawAConstValOff     = aconstValOff
)
