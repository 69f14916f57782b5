package pgtree

import (
	"bytes"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vecshard/vecshard/sqlir"
)

// A Memo makes reading a tree PgDog has already passed cheap. PgDog keeps
// the parse of a prepared statement and passes the same tree at every
// Bind; it also frees trees it evicts, and the next tree may live at the
// same address. So the Memo keys what Read wrote by the statement list's
// address, but never trusts the address: it keeps a copy of every byte Read
// read (each struct, List cell array and string, in the order Read read
// them) and, on the next call with that address, compares them with the
// tree there, in the same order. Each region's address was a pointer in a
// region already found equal, so the comparison only reads memory of the
// tree the host passed; a node's tag is compared before its size is
// trusted, and strings are compared in aligned words masked to end at their
// NUL, which never leave the page the string ends in. Equal bytes mean the
// same tree, and the same encoding.
//
// Each remembered tree carries a value of type V that the caller may set
// (the vtable library keeps the tree's routing plan there), so that a tree
// proven unchanged needs no further lookup.
//
// A Memo is safe for concurrent use; lookups take no lock.
type Memo[V any] struct {
	parts [memoParts]memoPart[V]
	per   int // entries per part; 0: no memo
}

const memoParts = 16

type memoPart[V any] struct {
	tab  atomic.Pointer[map[uintptr]*memoEntry[V]]
	mu   sync.Mutex // serialises writers
	ring []*memoEntry[V]
	hand int
	_    [64]byte
}

// memoEntry is one tree Read read: immutable once published, but for the
// caller's value.
type memoEntry[V any] struct {
	value  atomic.Pointer[V]
	root   unsafe.Pointer
	checks []check  // the regions' bytes as word compares, in reading order
	flat   []byte   // what Read wrote
	regs   []region // where the checks came from (tests mutate them)
	data   []byte   // the regions' bytes while compiling; nil after
}

// check compares one word of host memory: *(*uint64)(p) & mask == want,
// or, when mask is 0, the 4-byte word at p (the end of a struct whose size
// is not a multiple of 8: never read past a struct).
type check struct {
	p    unsafe.Pointer
	want uint64
	mask uint64
}

type region struct {
	addr unsafe.Pointer
	off  uint32 // into memoEntry.data
	n    uint32
	kind uint8
}

const (
	regNode   uint8 = iota // a node: tag first, then the struct
	regRaw                 // a List's cells: their count was in a region before
	regString              // a NUL-terminated string, NUL included
)

// recorder collects the regions of one Read.
type recorder struct {
	regs []region
	data []byte
}

// add records n bytes at p. Each copy starts 8-byte aligned in data, so
// that same compares aligned words.
func (r *recorder) add(p unsafe.Pointer, n int, kind uint8) {
	for len(r.data)&7 != 0 {
		r.data = append(r.data, 0)
	}
	r.regs = append(r.regs, region{addr: p, off: uint32(len(r.data)), n: uint32(n), kind: kind})
	r.data = append(r.data, unsafe.Slice((*byte)(p), n)...)
	for len(r.data)&7 != 0 {
		r.data = append(r.data, 0)
	}
}

// maxMemoBytes bounds the bytes one entry may copy; bigger trees (long
// literal vectors, which come in the simple protocol: PgDog parses those
// anew each time, so a memo would not help) are read every time. With
// memoEntries entries the memo stays within a few MiB.
const maxMemoBytes = 4 << 10

// NewMemo returns a memo of about entries trees (0: none, every call reads).
func NewMemo[V any](entries int) *Memo[V] {
	m := &Memo[V]{}
	if entries > 0 {
		m.per = (entries + memoParts - 1) / memoParts
	}
	return m
}

// Read returns what Read(b, stmts) would write: from the memo when the
// tree at stmts is, byte for byte, one read before (the result then
// aliases the memo and must not be modified), else by reading it into b
// (after Reset) and remembering it. Errors are Read's.
func (m *Memo[V]) Read(b *sqlir.Builder, stmts unsafe.Pointer) ([]byte, error) {
	if flat, _, ok := m.Lookup(stmts); ok {
		return flat, nil
	}
	return m.ReadMiss(b, stmts)
}

// Lookup returns what Read would return when the memo holds the tree at
// stmts unchanged (the result aliases the memo: do not modify it), and the
// caller's value for that tree.
func (m *Memo[V]) Lookup(stmts unsafe.Pointer) ([]byte, *atomic.Pointer[V], bool) {
	if m.per == 0 || stmts == nil {
		return nil, nil, false
	}
	key := uintptr(stmts)
	if tab := m.parts[(key>>4)%memoParts].tab.Load(); tab != nil {
		if e := (*tab)[key]; e != nil && e.same() {
			return e.flat, &e.value, true
		}
	}
	return nil, nil, false
}

// ReadMiss is Read for a tree Lookup did not find: it reads the tree into
// b (after Reset) and remembers it.
func (m *Memo[V]) ReadMiss(b *sqlir.Builder, stmts unsafe.Pointer) ([]byte, error) {
	b.Reset()
	if m.per == 0 || stmts == nil {
		err := Read(b, stmts)
		return b.Bytes(), err
	}
	part := &m.parts[(uintptr(stmts)>>4)%memoParts]
	rec := &recorder{}
	r := reader{b: b, rec: rec}
	if err := r.read(stmts); err != nil {
		return b.Bytes(), err
	}
	if len(rec.data) <= maxMemoBytes {
		e := &memoEntry[V]{root: stmts, regs: rec.regs, data: rec.data, flat: bytes.Clone(b.Bytes())}
		e.compile()
		e.data = nil
		m.put(part, e)
	}
	return b.Bytes(), nil
}

// compile turns the regions into word checks. A node's first word holds
// its tag, so it is checked before any later word of the struct is read; a
// string is checked in aligned words (which never leave the page of the
// byte they start at) masked to end at its NUL, after byte checks up to the
// first aligned address.
func (e *memoEntry[V]) compile() {
	data := unsafe.Pointer(unsafe.SliceData(e.data))
	for _, rg := range e.regs {
		old := unsafe.Add(data, rg.off)
		n := int(rg.n)
		i := 0
		if rg.kind == regString {
			for ; i < n && uintptr(unsafe.Add(rg.addr, i))&7 != 0; i++ {
				e.checks = append(e.checks, byteCheck(unsafe.Add(rg.addr, i), *(*byte)(unsafe.Add(old, i))))
			}
			for ; i < n; i += 8 {
				var want, mask uint64
				for j := 0; j < 8 && i+j < n; j++ {
					want |= uint64(*(*byte)(unsafe.Add(old, i+j))) << (8 * j)
					mask |= 0xff << (8 * j)
				}
				e.checks = append(e.checks, check{p: unsafe.Add(rg.addr, i), want: want, mask: mask})
			}
			continue
		}
		// A node: compare its members' bytes, not the padding between
		// them, which the host may never have written (palloc does not
		// zero a List's header, for one).
		var pad []byte
		if tag := *(*int32)(old); rg.kind == regNode && tag > 0 && tag <= pg18MaxTag && int(progs[tag].size) == n {
			pad = padding[tag]
		}
		if uintptr(rg.addr)&7 != 0 { // not word aligned (never for PostgreSQL's nodes)
			for ; i+4 <= n; i += 4 {
				e.checks = append(e.checks, check{p: unsafe.Add(rg.addr, i), want: uint64(*(*uint32)(unsafe.Add(old, i)))})
			}
		}
		for ; i+8 <= n; i += 8 {
			mask := ^uint64(0)
			for j := 0; j < 8 && pad != nil; j++ {
				if pad[i+j] != 0 {
					mask &^= 0xff << (8 * j)
				}
			}
			if mask != 0 { // a word the reader never reads: not compared
				e.checks = append(e.checks, check{p: unsafe.Add(rg.addr, i), want: *(*uint64)(unsafe.Add(old, i)) & mask, mask: mask})
			}
		}
		for ; i+4 <= n; i += 4 {
			if pad != nil && pad[i] != 0 && pad[i+1] != 0 && pad[i+2] != 0 && pad[i+3] != 0 {
				continue // never read
			}
			e.checks = append(e.checks, check{p: unsafe.Add(rg.addr, i), want: uint64(*(*uint32)(unsafe.Add(old, i)))})
		}
		for ; i < n; i++ {
			e.checks = append(e.checks, byteCheck(unsafe.Add(rg.addr, i), *(*byte)(unsafe.Add(old, i))))
		}
	}
}

// padding marks, per tag, the bytes of a node struct that the reader never
// reads: alignment gaps, and members no rule looks at (locations, Oids,
// unread flags). Differences there cannot change what Read writes, so the
// memo does not compare them (and does not read padding the host may never
// have written). Read-only after start.
var padding = func() *[pg18MaxTag + 1][]byte {
	var out [pg18MaxTag + 1][]byte
	for tag := range progs {
		pr := &progs[tag]
		if pr.size == 0 {
			continue
		}
		l := &pg18Nodes[tag]
		pad := make([]byte, pr.size)
		for i := range pad {
			pad[i] = 1
		}
		use := func(off uint16, n int) {
			if off == noField {
				return
			}
			for k := int(off); k < int(off)+n && k < len(pad); k++ {
				pad[k] = 0
			}
		}
		use(0, 4) // the tag
		switch pr.shape {
		case shapeList, shapeScalarList, shapeValue, shapeConst:
			// Read through fixed offsets: every member counts.
			for _, f := range l.fields {
				n := fieldSize(f.kind)
				if n == 0 {
					n = 8 // List's elements pointer
				}
				use(f.off, n)
			}
		default:
			use(pr.name1, 8)
			use(pr.schema, 8)
			use(pr.int1.off, fieldSize(pr.int1.kind))
			use(pr.int2.off, fieldSize(pr.int2.kind))
			for _, off := range pr.flags {
				use(off, 1)
			}
			for _, m := range pr.slots {
				use(m.off, 8)
			}
			for _, m := range pr.rest {
				use(m.off, 8)
			}
		}
		out[tag] = pad
	}
	return &out
}()

// fieldSize is the size of a member of kind k, 0 when the table does not
// say (opaque members, embedded structs).
func fieldSize(k fieldKind) int {
	switch k {
	case fkNode, fkList, fkString, fkInt64, fkFloat64:
		return 8
	case fkInt32, fkUint32, fkEnum:
		return 4
	case fkInt16:
		return 2
	case fkBool, fkChar:
		return 1
	case fkValue:
		return 16 // the largest value node: {NodeTag; char *}
	}
	return 0
}

// byteCheck checks one byte: the word compare of the byte's aligned word,
// masked to it.
func byteCheck(p unsafe.Pointer, b byte) check {
	sh := 8 * (uintptr(p) & 7)
	return check{p: unsafe.Add(p, -int(uintptr(p)&7)), want: uint64(b) << sh, mask: 0xff << sh}
}

// same reports whether the tree at e.root is the one e was read from.
func (e *memoEntry[V]) same() bool {
	for i := range e.checks {
		c := &e.checks[i]
		if c.mask == 0 {
			if uint64(*(*uint32)(c.p)) != c.want {
				return false
			}
			continue
		}
		if *(*uint64)(c.p)&c.mask != c.want {
			return false
		}
	}
	return true
}

func (m *Memo[V]) put(part *memoPart[V], e *memoEntry[V]) {
	part.mu.Lock()
	defer part.mu.Unlock()
	key := uintptr(e.root)
	// Replace what this address held; else evict round-robin.
	replaced := false
	for i, old := range part.ring {
		if uintptr(old.root) == key {
			part.ring[i] = e
			replaced = true
			break
		}
	}
	if !replaced {
		if len(part.ring) < m.per {
			part.ring = append(part.ring, e)
		} else {
			part.ring[part.hand] = e
			part.hand = (part.hand + 1) % len(part.ring)
		}
	}
	tab := make(map[uintptr]*memoEntry[V], len(part.ring))
	for _, x := range part.ring {
		tab[uintptr(x.root)] = x
	}
	part.tab.Store(&tab)
}
