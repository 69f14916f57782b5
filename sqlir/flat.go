package sqlir

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The flat encoding of a statement list, as a Builder writes it:
//
//	list  = count:uvarint node*
//	node  = kind:byte                                  (Nil)
//	      | kind:byte pg:str                           (Unknown)
//	      | kind:byte [pg:str if Other] name:str schema:str int:varint int2:varint
//	        flags:uvarint nslots:uvarint (count:uvarint node*)*
//	str   = len:uvarint bytes
//
// It is a canonical form: equal trees give equal bytes, so the bytes are a
// plan cache key that does not depend on where the tree lived.

// Builder writes the flat encoding. Its zero value is ready; Reset reuses
// the buffer, so a Builder kept across calls does not allocate once warm.
type Builder struct {
	buf []byte
}

// Reset empties the builder, keeping its buffer.
func (b *Builder) Reset() { b.buf = b.buf[:0] }

// Bytes returns the encoding written so far. It aliases the builder's
// buffer until the next Reset.
func (b *Builder) Bytes() []byte { return b.buf }

// Count writes the number of nodes of a list or slot that follows.
func (b *Builder) Count(n int) {
	if uint(n) < 0x80 {
		b.buf = append(b.buf, byte(n))
		return
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(n))
}

// Nil writes an absent node.
func (b *Builder) Nil() { b.buf = append(b.buf, byte(Nil)) }

// Unknown writes a node the front end cannot read; pg names it for messages.
func (b *Builder) Unknown(pg string) {
	b.buf = appendStr(append(b.buf, byte(Unknown)), pg)
}

// Node writes the head of a node; nslots slots (each Count, then its nodes)
// must follow. pg is written for Other nodes only.
func (b *Builder) Node(k Kind, pg, name, schema string, i, i2 int64, flags uint32, nslots int) {
	buf := append(b.buf, byte(k))
	if k == Other {
		buf = appendStr(buf, pg)
	}
	buf = appendStr(buf, name)
	buf = appendStr(buf, schema)
	buf = appendVarint(buf, i)
	buf = appendVarint(buf, i2)
	if flags < 0x80 && uint(nslots) < 0x80 {
		buf = append(buf, byte(flags), byte(nslots))
	} else {
		buf = binary.AppendUvarint(buf, uint64(flags))
		buf = binary.AppendUvarint(buf, uint64(nslots))
	}
	b.buf = buf
}

// NodeBytes is Node with the name given as bytes (host memory, copied into
// the encoding), no schema, Int2 or flags.
func (b *Builder) NodeBytes(k Kind, name []byte, i int64, nslots int) {
	buf := append(b.buf, byte(k))
	if len(name) < 0x80 {
		buf = append(buf, byte(len(name)))
	} else {
		buf = binary.AppendUvarint(buf, uint64(len(name)))
	}
	buf = append(buf, name...)
	buf = append(buf, 0) // schema ""
	buf = appendVarint(buf, i)
	buf = append(buf, 0, 0) // int2 0, flags 0
	b.buf = binary.AppendUvarint(buf, uint64(nslots))
}

// appendStr appends s with its length as a uvarint.
func appendStr(buf []byte, s string) []byte {
	if len(s) < 0x80 {
		buf = append(buf, byte(len(s)))
	} else {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
	}
	return append(buf, s...)
}

// appendVarint is binary.AppendVarint with a one-byte fast path.
func appendVarint(buf []byte, v int64) []byte {
	if v >= -64 && v < 64 {
		ux := uint64(v) << 1
		if v < 0 {
			ux = ^ux
		}
		return append(buf, byte(ux))
	}
	return binary.AppendVarint(buf, v)
}

// Len is the length of the encoding so far; with Truncate a front end can
// take back what it wrote for a node it then finds it cannot read.
func (b *Builder) Len() int { return len(b.buf) }

// Truncate drops everything written after Len returned n.
func (b *Builder) Truncate(n int) { b.buf = b.buf[:n] }

// MaxDepth bounds the nesting a flat encoding may have; deeper trees are
// rejected by Decode and should be written as Unknown by front ends.
const MaxDepth = 1000

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("sqlir: malformed encoding")

// Decode turns a flat encoding into its statement list. The nodes own their
// strings (they copy out of b).
func Decode(b []byte) ([]*Node, error) {
	d := decoder{b: b}
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(b)) {
		return nil, d.errf("statement count %d exceeds the input", n)
	}
	out := make([]*Node, 0, n)
	for range n {
		x, err := d.node(0)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if d.off != len(b) {
		return nil, d.errf("%d bytes left over", len(b)-d.off)
	}
	return out, nil
}

type decoder struct {
	b   []byte
	off int
}

func (d *decoder) errf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrMalformed, d.off, fmt.Sprintf(format, args...))
}

// uvarint reads a uvarint in its shortest form: the encoding is canonical
// (one tree, one byte string), so an overlong form is malformed.
func (d *decoder) uvarint() (uint64, error) { return d.unsigned("uvarint") }

// varint reads a zigzag varint (binary.AppendVarint) in its shortest form.
func (d *decoder) varint() (int64, error) {
	u, err := d.unsigned("varint")
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, err
}

// unsigned reads the uvarint under both; what names it in errors.
func (d *decoder) unsigned(what string) (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, d.errf("bad %s", what)
	}
	if n > 1 && d.b[d.off+n-1] == 0 {
		return 0, d.errf("overlong %s", what)
	}
	d.off += n
	return v, nil
}

func (d *decoder) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)-d.off) {
		return "", d.errf("string of %d bytes exceeds the input", n)
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s, nil
}

func (d *decoder) node(depth int) (*Node, error) {
	if depth > MaxDepth {
		return nil, d.errf("nesting deeper than %d", MaxDepth)
	}
	if d.off >= len(d.b) {
		return nil, d.errf("truncated")
	}
	k := Kind(d.b[d.off])
	d.off++
	switch {
	case k == Nil:
		return nil, nil
	case k == Unknown:
		pg, err := d.str()
		return &Node{Kind: Unknown, PG: pg}, err
	case k >= numKinds:
		return nil, d.errf("kind %d out of range", k)
	}
	n := &Node{Kind: k}
	var err error
	if k == Other {
		if n.PG, err = d.str(); err != nil {
			return nil, err
		}
	}
	if n.Name, err = d.str(); err != nil {
		return nil, err
	}
	if n.Schema, err = d.str(); err != nil {
		return nil, err
	}
	if n.Int, err = d.varint(); err != nil {
		return nil, err
	}
	if n.Int2, err = d.varint(); err != nil {
		return nil, err
	}
	f, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if f > 1<<32-1 {
		return nil, d.errf("flags beyond 32 bits")
	}
	n.Flags = uint32(f)
	ns, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if ns > 64 {
		return nil, d.errf("%d slots", ns)
	}
	if ns > 0 {
		n.Kids = make([][]*Node, ns)
	}
	for i := range n.Kids {
		c, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if c > uint64(len(d.b)-d.off) {
			return nil, d.errf("slot of %d nodes exceeds the input", c)
		}
		if c == 0 {
			continue
		}
		kids := make([]*Node, 0, c)
		for range c {
			x, err := d.node(depth + 1)
			if err != nil {
				return nil, err
			}
			kids = append(kids, x)
		}
		n.Kids[i] = kids
	}
	return n, nil
}

// Contains reports whether any node of the trees is of kind k.
func Contains(ns []*Node, k Kind) bool {
	for _, n := range ns {
		if n == nil {
			continue
		}
		if n.Kind == k {
			return true
		}
		for _, s := range n.Kids {
			if Contains(s, k) {
				return true
			}
		}
	}
	return false
}
