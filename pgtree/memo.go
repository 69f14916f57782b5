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
	tab  atomic.Pointer[memoTable[V]]
	mu   sync.Mutex // serialises writers
	ring []*memoEntry[V]
	hand int
	_    [64]byte
}

// memoTable is a part's entries by root address: open addressing, linear
// probing, at most half full; immutable once published (put builds a new
// one). Cheaper per lookup than a Go map.
type memoTable[V any] struct {
	slots []memoSlot[V] // len a power of two
	shift uint          // 64 - log2(len(slots))
}

type memoSlot[V any] struct {
	root uintptr // 0: empty
	e    *memoEntry[V]
}

func newMemoTable[V any](ring []*memoEntry[V]) *memoTable[V] {
	n, shift := 1, uint(64)
	for n < 2*len(ring) {
		n, shift = 2*n, shift-1
	}
	t := &memoTable[V]{slots: make([]memoSlot[V], n), shift: shift}
	for _, e := range ring {
		i := t.home(uintptr(e.root))
		for t.slots[i].root != 0 {
			i = (i + 1) & (n - 1)
		}
		t.slots[i] = memoSlot[V]{root: uintptr(e.root), e: e}
	}
	return t
}

// home is key's first slot (Fibonacci hashing).
func (t *memoTable[V]) home(key uintptr) int {
	return int((uint64(key) * 0x9e3779b97f4a7c15) >> t.shift & uint64(len(t.slots)-1))
}

func (t *memoTable[V]) get(key uintptr) *memoEntry[V] {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.root == key {
			return sl.e
		}
		if sl.root == 0 {
			return nil
		}
	}
}

// memoEntry is one tree Read read: immutable once published, but for the
// caller's value.
type memoEntry[V any] struct {
	value atomic.Pointer[V]
	root  unsafe.Pointer
	proof
	flat []byte   // what Read wrote
	regs []region // where the checks came from (tests mutate them)
	data []byte   // the regions' bytes while compiling; nil after
}

// proof is what proves a tree unchanged (see compile).
type proof struct {
	checks []check  // the regions' bytes as word compares, in reading order
	narrow []narrow // 4-byte nodes (a tag alone), compared after checks
}

// check compares one word of host memory: *(*uint64)(p) & mask == want
// (want is masked). p is 8-byte aligned, but for the word that ends a
// struct whose size is 4 mod 8, which lies inside the struct.
type check struct {
	p    unsafe.Pointer
	want uint64
	mask uint64
}

// narrow compares the 4 bytes at p: a node of 4 bytes, which the memo
// does not read past. The reader reads nothing else there and follows no
// pointer from it, so no check relies on it and it can come last.
type narrow struct {
	p    unsafe.Pointer
	want uint32
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
		if e := tab.get(key); e != nil && e.same() {
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
		if e.compile() {
			e.data = nil
			m.put(part, e)
		}
	}
	return b.Bytes(), nil
}

// compile turns the regions into word checks, in reading order. A node's
// first word holds its tag, so it is checked before any later word of the
// struct is read; a string is checked in aligned words (which never leave
// the page of the bytes they hold) masked to its bytes, up to its NUL. A
// region read twice is checked once, where it was first read.
//
// compile reports false for a tree it cannot check this way (a node or
// cells not 8-byte aligned, never PostgreSQL's): such a tree is read every
// time.
func (e *memoEntry[V]) compile() bool {
	data := unsafe.Pointer(unsafe.SliceData(e.data))
	word := func(old unsafe.Pointer, i int) uint64 { return *(*uint64)(unsafe.Add(old, i)) }
	add := func(p unsafe.Pointer, want, mask uint64) {
		e.checks = append(e.checks, check{p: p, want: want & mask, mask: mask})
	}
	seen := map[region]bool{}
	for _, rg := range e.regs {
		if key := (region{addr: rg.addr, n: rg.n, kind: rg.kind}); seen[key] {
			continue
		} else {
			seen[key] = true
		}
		old := unsafe.Add(data, rg.off) // 8-byte aligned, zero-padded to 8
		n := int(rg.n)
		if rg.kind == regString {
			start := uintptr(rg.addr)
			for w := start &^ 7; w < start+uintptr(n); w += 8 {
				var want, mask uint64
				for j := uintptr(0); j < 8; j++ {
					if a := w + j; a >= start && a < start+uintptr(n) {
						want |= uint64(*(*byte)(unsafe.Add(old, a-start))) << (8 * j)
						mask |= 0xff << (8 * j)
					}
				}
				add(unsafe.Add(rg.addr, int(w)-int(start)), want, mask)
			}
			continue
		}
		if uintptr(rg.addr)&7 != 0 || n%4 != 0 {
			return false
		}
		if n < 8 { // a tag alone (regNode): do not read past it
			e.narrow = append(e.narrow, narrow{p: rg.addr, want: *(*uint32)(old)})
			continue
		}
		// A node: compare its members' bytes, not the padding between
		// them, which the host may never have written (palloc does not
		// zero a List's header, for one).
		var pad []byte
		if tag := *(*int32)(old); rg.kind == regNode && tag > 0 && tag <= pg18MaxTag && int(progs[tag].size) == n {
			pad = padding[tag]
		}
		maskAt := func(i int) uint64 {
			mask := ^uint64(0)
			for j := 0; j < 8 && pad != nil; j++ {
				if pad[i+j] != 0 {
					mask &^= 0xff << (8 * j)
				}
			}
			return mask
		}
		for i := 0; i+8 <= n; i += 8 {
			if mask := maskAt(i); mask != 0 { // else a word the reader never reads
				add(unsafe.Add(rg.addr, i), word(old, i), mask)
			}
		}
		if n%8 == 4 {
			// The last 4 bytes, as the high half of the word that ends
			// the struct: no read past it.
			if mask := maskAt(n-8) &^ 0xffffffff; mask != 0 {
				add(unsafe.Add(rg.addr, n-8), word(old, n-8), mask)
			}
		}
	}
	return true
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

// same reports whether the tree at the entry's root is the one the proof
// was compiled from.
func (e *proof) same() bool {
	if !sameChecks(unsafe.SliceData(e.checks), len(e.checks)) {
		return false
	}
	for i := range e.narrow {
		c := &e.narrow[i]
		if *(*uint32)(c.p) != c.want {
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
	part.tab.Store(newMemoTable(part.ring))
}

// ProofWord is one compare of a proof: the aligned 8 bytes at Addr, and-ed
// with Mask, equal Want (which is masked).
type ProofWord struct {
	Addr       unsafe.Pointer
	Want, Mask uint64
}

// ProofNarrow is one 4-byte compare of a proof: the 4 bytes at Addr (a node
// that is a tag alone) equal Want.
type ProofNarrow struct {
	Addr unsafe.Pointer
	Want uint32
}

// AppendProof appends to words and narrow the compares that prove the tree
// at stmts unchanged, when the memo holds it and it is unchanged now (ok
// false otherwise). A checker outside Go proves what Lookup proves if it
// runs the words in order, each only once the ones before it have held,
// then the narrow compares, and trusts the tree only if all hold: every
// address in them lies in a region whose own address was a pointer in a
// region compared before, so it never reads memory the tree does not own.
func (m *Memo[V]) AppendProof(stmts unsafe.Pointer, words []ProofWord, narrow []ProofNarrow) (_ []ProofWord, _ []ProofNarrow, ok bool) {
	if m.per == 0 || stmts == nil {
		return words, narrow, false
	}
	key := uintptr(stmts)
	tab := m.parts[(key>>4)%memoParts].tab.Load()
	if tab == nil {
		return words, narrow, false
	}
	e := tab.get(key)
	if e == nil || !e.same() {
		return words, narrow, false
	}
	for _, c := range e.checks {
		words = append(words, ProofWord{Addr: c.p, Want: c.want, Mask: c.mask})
	}
	for _, c := range e.narrow {
		narrow = append(narrow, ProofNarrow{Addr: c.p, Want: c.want})
	}
	return words, narrow, true
}
