package pgtree

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/vecshard/vecshard/sqlir"
)

func memoCorpus(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/corpus18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if p := strings.SplitN(sc.Text(), "\t", 3); len(p) == 3 && p[1] == "JSON" {
			out = append(out, p[2])
		}
	}
	return out
}

func plainRead(t *testing.T, root unsafe.Pointer) []byte {
	t.Helper()
	got, err := plainReadErr(root)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func plainReadErr(root unsafe.Pointer) ([]byte, error) {
	var b sqlir.Builder
	err := Read(&b, root)
	return bytes.Clone(b.Bytes()), err
}

// sameAsRead requires the memo to answer what Read answers for the tree
// as it is now.
func sameAsRead(t *testing.T, m *Memo[struct{}], root unsafe.Pointer, what string) []byte {
	t.Helper()
	var b sqlir.Builder
	got, err := m.Read(&b, root)
	want, werr := plainReadErr(root)
	if (err == nil) != (werr == nil) || err == nil && !bytes.Equal(got, want) {
		t.Fatalf("%s: memo (%v) and Read (%v) disagree", what, err, werr)
	}
	return got
}

// TestMemo: a memo answers exactly what Read answers, from memory when the
// tree is unchanged, and reads again when any byte it read has changed:
// a string, an integer, an enum or a flag anywhere in the tree.
func TestMemo(t *testing.T) {
	trees := memoCorpus(t)
	if len(trees) < 600 {
		t.Fatalf("%d corpus trees", len(trees))
	}
	m := NewMemo[struct{}](1 << 12)
	hits, changed := 0, 0
	for _, js := range trees {
		root, err := NewArena(nil).BuildJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		var b sqlir.Builder
		first, err := m.Read(&b, root)
		if err != nil {
			t.Fatal(err)
		}
		want := plainRead(t, root)
		if !bytes.Equal(first, want) {
			t.Fatalf("memo's first read differs from Read")
		}
		first = bytes.Clone(first)
		again, _ := m.Read(&b, root)
		if !bytes.Equal(again, want) {
			t.Fatalf("memo's second read differs")
		}
		if unsafe.SliceData(again) != unsafe.SliceData(b.Bytes()) {
			hits++
		}
		if root == nil {
			continue
		}
		// Change each scalar the reader reads, one at a time.
		part := &m.parts[(uintptr(root)>>4)%memoParts]
		e := part.tab.Load().get(uintptr(root))
		if e == nil {
			continue
		}
		for _, rg := range e.regs {
			switch rg.kind {
			case regString:
				if rg.n < 2 {
					continue
				}
				c := (*byte)(rg.addr)
				old := *c
				*c ^= 0x20
				if *c == 0 {
					*c = 'x'
				}
				got := sameAsRead(t, m, root, "a string changed")
				if !bytes.Equal(got, first) {
					changed++
				}
				*c = old
			case regNode:
				tag := *(*int32)(rg.addr)
				if tag <= 0 || tag > pg18MaxTag {
					continue
				}
				for _, f := range pg18Nodes[tag].fields {
					if f.kind != fkInt32 && f.kind != fkEnum && f.kind != fkBool || uint32(f.off) >= rg.n {
						continue
					}
					p := unsafe.Add(rg.addr, f.off)
					old := *(*byte)(p)
					*(*byte)(p) ^= 1
					got := sameAsRead(t, m, root, pg18Nodes[tag].name+"."+f.name+" changed")
					if !bytes.Equal(got, first) {
						changed++
					}
					*(*byte)(p) = old
				}
			}
		}
		if got, _ := m.Read(&b, root); !bytes.Equal(got, want) {
			t.Fatalf("restored tree reads differently")
		}
	}
	t.Logf("%d of %d second reads from the memo; %d changes seen", hits, len(trees), changed)
	if hits < len(trees)*9/10 || changed == 0 {
		t.Errorf("hits %d, changes %d", hits, changed)
	}
}

// TestMemoAddressReuse: another tree at an address the memo knows (a host
// that freed a tree and allocated the next one there) is read, not served
// from the memo.
func TestMemoAddressReuse(t *testing.T) {
	trees := memoCorpus(t)
	m := NewMemo[struct{}](64)
	a, err := NewArena(nil).BuildJSON([]byte(trees[0]))
	if err != nil {
		t.Fatal(err)
	}
	var b sqlir.Builder
	if _, err := m.Read(&b, a); err != nil {
		t.Fatal(err)
	}
	for _, js := range trees[1:40] {
		other, err := NewArena(nil).BuildJSON([]byte(js))
		if err != nil || other == nil {
			continue
		}
		saved := *(*[24]byte)(a)
		*(*[24]byte)(a) = *(*[24]byte)(other) // a's list now holds other's statements
		got, err := m.Read(&b, a)
		if err != nil {
			t.Fatal(err)
		}
		if want := plainRead(t, other); !bytes.Equal(got, want) {
			t.Fatalf("a reused address answered the old tree")
		}
		*(*[24]byte)(a) = saved
	}
}

// TestMemoEveryByte: changing any byte the reader reads (a tag, a member,
// a pointer, a List cell, a string byte or its NUL, a 4-byte node) makes
// the memo miss, and changing padding (bytes the reader never reads) does
// not. Lookup only is called on the changed tree: it must stop at the
// first changed word, before following a pointer from it.
func TestMemoEveryByte(t *testing.T) {
	trees := memoCorpus(t)
	m := NewMemo[struct{}](1 << 12)
	bytesChanged, padChanged := 0, 0
	for _, js := range trees {
		root, err := NewArena(nil).BuildJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		if root == nil {
			continue
		}
		var b sqlir.Builder
		if _, err := m.Read(&b, root); err != nil {
			t.Fatal(err)
		}
		part := &m.parts[(uintptr(root)>>4)%memoParts]
		e := part.tab.Load().get(uintptr(root))
		if e == nil {
			continue // too big to remember
		}
		for _, rg := range e.regs {
			var pad []byte
			if tag := *(*int32)(rg.addr); rg.kind == regNode && tag > 0 && tag <= pg18MaxTag && uint32(progs[tag].size) == rg.n {
				pad = padding[tag]
			}
			for i := range int(rg.n) {
				// Between them the flips change every bit of the byte.
				for _, flip := range []byte{0x5a, 0x01, 0x80, 0x24} {
					p := (*byte)(unsafe.Add(rg.addr, i))
					old := *p
					*p ^= flip
					_, _, hit := m.Lookup(root)
					*p = old
					read := pad == nil || pad[i] == 0
					switch {
					case read && hit:
						t.Fatalf("byte %d of a %d-byte region (kind %d) changed (^%#x), and the memo still answered", i, rg.n, rg.kind, flip)
					case !read && !hit:
						t.Fatalf("padding byte %d of a %d-byte node changed, and the memo missed", i, rg.n)
					case read:
						bytesChanged++
					default:
						padChanged++
					}
				}
			}
		}
		if _, _, hit := m.Lookup(root); !hit {
			t.Fatalf("the restored tree misses")
		}
	}
	t.Logf("%d changes of read bytes and %d of padding bytes, one at a time", bytesChanged, padChanged)
	if bytesChanged < 10000 || padChanged == 0 {
		t.Errorf("too few changes: %d, %d", bytesChanged, padChanged)
	}
}

// TestSameChecks: the compare loop (assembly on amd64) stops at the first
// check that fails and reads no word after it.
func TestSameChecks(t *testing.T) {
	words := make([]uint64, 64)
	for i := range words {
		words[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	cs := make([]check, len(words))
	for i := range cs {
		mask := ^uint64(0) >> (i % 64)
		cs[i] = check{p: unsafe.Pointer(&words[i]), want: words[i] & mask, mask: mask}
	}
	for n := 0; n <= len(cs); n++ {
		if !sameChecks(unsafe.SliceData(cs), n) {
			t.Fatalf("%d equal checks: not same", n)
		}
	}
	for i := range cs {
		cs[i].want ^= cs[i].mask & -cs[i].mask // the lowest compared bit
		// A later check pointing nowhere must not be read.
		saved := cs[len(cs)-1].p
		if i < len(cs)-1 {
			cs[len(cs)-1].p = nil
		}
		if sameChecks(unsafe.SliceData(cs), len(cs)) {
			t.Fatalf("check %d differs: same", i)
		}
		if !sameChecks(unsafe.SliceData(cs), i) {
			t.Fatalf("the %d checks before the differing one: not same", i)
		}
		cs[len(cs)-1].p = saved
		cs[i].want ^= cs[i].mask & -cs[i].mask
	}
}
