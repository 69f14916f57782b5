// Package pgtree reads PostgreSQL 18 raw parse trees, the C structs that
// libpg_query's raw parser builds and PgDog hands to its plugins, into
// sqlir's flat encoding, so that vecshard's routing rules apply to them
// exactly as to SQL text.
//
// It reads host memory through unsafe pointers, guided only by the layout
// table (layout_pg18.go): it never reads outside a struct the table
// describes, follows only the members the table calls nodes, lists or
// strings, tolerates NULL pointers and empty lists, and copies nothing out
// of host memory that outlives the call (strings go into the caller's
// Builder). A tag it has no layout for becomes sqlir.Unknown, which the
// rules treat as "could be anything". A statement list that does not look
// like PostgreSQL 18's (no List tag, no RawStmt) is an ErrNotPG18 error:
// trees of another PostgreSQL version must not be read with these offsets.
package pgtree

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/vecshard/vecshard/sqlir"
)

// ErrNotPG18 is wrapped by Read's error when the statement list does not
// have PostgreSQL 18's shape.
var ErrNotPG18 = errors.New("pgtree: not a PostgreSQL 18 raw parse tree")

// Limits on what a tree may be; beyond them it is not read.
const (
	maxListLen = 1 << 24 // elements of one List
	maxNodes   = 1 << 20 // nodes of one statement list (a tree sharing subtrees could be exponential)
	maxString  = 1 << 30 // bytes of one string
)

// Read writes the statement list stmts (a List * of RawStmt *, NULL for
// none) into b. It returns an error wrapping ErrNotPG18, with b's contents
// unspecified, when the list does not look like PostgreSQL 18's.
//
// stmts must point to a tree that is valid for the duration of the call.
func Read(b *sqlir.Builder, stmts unsafe.Pointer) error {
	if stmts == nil {
		b.Count(0)
		return nil
	}
	r := reader{b: b}
	return r.read(stmts)
}

// read is Read with the reader's recorder (Memo).
func (r *reader) read(stmts unsafe.Pointer) error {
	b := r.b
	if stmts == nil {
		b.Count(0)
		return nil
	}
	r.touch(stmts)
	tag := *(*int32)(stmts)
	if tag != tagList {
		return fmt.Errorf("%w: the statement list has tag %d, not List (%d)", ErrNotPG18, tag, tagList)
	}
	n, elems, err := r.listOf(stmts)
	if err != nil {
		return err
	}
	b.Count(n)
	for i := range n {
		raw := cell(elems, i)
		if raw != nil {
			r.touch(raw)
		}
		if raw == nil || *(*int32)(raw) != tagRawStmt {
			t := int32(-1)
			if raw != nil {
				t = *(*int32)(raw)
			}
			return fmt.Errorf("%w: statement %d has tag %d, not RawStmt (%d)", ErrNotPG18, i, t, tagRawStmt)
		}
		r.node(*(*unsafe.Pointer)(unsafe.Add(raw, rawStmtOff)), 0)
	}
	// Beyond maxNodes the reader wrote Unknown nodes: that statement list
	// fails closed, and later ones are read as usual.
	return nil
}

// listOf validates a List's header (already touched) and returns its
// length and cells, recording the cells.
func (r *reader) listOf(l unsafe.Pointer) (int, unsafe.Pointer, error) {
	n, elems, err := listOf(l)
	if r.rec != nil && n > 0 {
		r.rec.add(elems, 8*n, regRaw)
	}
	return n, elems, err
}

// listOf validates a List's header and returns its length and cells.
func listOf(l unsafe.Pointer) (int, unsafe.Pointer, error) {
	length := *(*int32)(unsafe.Add(l, listLengthOff))
	maxLen := *(*int32)(unsafe.Add(l, listMaxLengthOff))
	if length < 0 || length > maxLen || length > maxListLen {
		return 0, nil, fmt.Errorf("%w: a List has length %d and max_length %d", ErrNotPG18, length, maxLen)
	}
	if length == 0 {
		return 0, nil, nil // elements may dangle
	}
	elems := *(*unsafe.Pointer)(unsafe.Add(l, listElementsOff))
	if elems == nil {
		return 0, nil, fmt.Errorf("%w: a List of %d elements has no cells", ErrNotPG18, length)
	}
	return int(length), elems, nil
}

// cell returns the pointer in cell i of a List's cells (8-byte ListCell).
func cell(elems unsafe.Pointer, i int) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(elems, 8*i))
}

type reader struct {
	b     *sqlir.Builder
	rec   *recorder // Memo: every byte read, in order; nil for a plain Read
	nodes int
	num   [24]byte // scratch for integer text
}

// touch records the node at p (its tag, then the struct the tag's layout
// describes) before the reader looks at it.
func (r *reader) touch(p unsafe.Pointer) {
	if r.rec == nil {
		return
	}
	n := 4
	if tag := *(*int32)(p); tag > 0 && tag <= pg18MaxTag && progs[tag].size > 0 {
		n = int(progs[tag].size)
	}
	r.rec.add(p, n, regNode)
}

// cstring is cstring, recorded.
func (r *reader) cstring(p unsafe.Pointer) string {
	s := cstring(p)
	if r.rec != nil && p != nil {
		r.rec.add(p, len(s)+1, regString)
	}
	return s
}

// node writes the node at p.
func (r *reader) node(p unsafe.Pointer, depth int) {
	if p == nil {
		r.b.Nil()
		return
	}
	r.nodes++
	r.touch(p)
	tag := *(*int32)(p)
	if tag <= 0 || tag > pg18MaxTag || progs[tag].size == 0 {
		r.b.Unknown(tagName(tag))
		return
	}
	pr := &progs[tag]
	if depth >= sqlir.MaxDepth || r.nodes > maxNodes {
		r.b.Unknown(pr.name)
		return
	}
	switch pr.shape {
	case shapeList:
		n, elems, err := r.listOf(p)
		if err != nil {
			r.b.Unknown("List")
			return
		}
		r.b.Node(sqlir.List, "", "", "", 0, 0, 0, 1)
		r.b.Count(n)
		for i := range n {
			r.node(cell(elems, i), depth+1)
		}
		return
	case shapeScalarList:
		r.b.Node(sqlir.Other, pr.name, "", "", 0, 0, 0, 1)
		r.b.Count(0)
		return
	case shapeValue:
		r.value(pr.kind, p)
		return
	case shapeConst:
		r.aconst(p)
		return
	}
	var name, schema string
	if pr.name1 != noField {
		name = r.cstring(*(*unsafe.Pointer)(unsafe.Add(p, pr.name1)))
	}
	if pr.schema != noField {
		schema = r.cstring(*(*unsafe.Pointer)(unsafe.Add(p, pr.schema)))
	}
	i1, i2 := pr.int1.read(p), pr.int2.read(p)
	var flags uint32
	for i, off := range pr.flags {
		if off != noField && *(*bool)(unsafe.Add(p, off)) {
			flags |= 1 << i
		}
	}
	if pr.kind == sqlir.Other {
		r.b.Node(sqlir.Other, pr.name, "", "", 0, 0, 0, 1)
	} else {
		r.b.Node(pr.kind, "", name, schema, i1, i2, flags, len(pr.slots)+1)
		for _, s := range pr.slots {
			if s.off == noField || *(*unsafe.Pointer)(unsafe.Add(p, s.off)) == nil {
				r.b.Count(0) // most slots are empty: no call
				continue
			}
			r.slot(p, s, depth)
		}
	}
	r.rest(p, pr.rest, depth)
}

// slot writes one named slot: a single child or a list.
func (r *reader) slot(p unsafe.Pointer, s member, depth int) {
	if s.off == noField {
		r.b.Count(0)
		return
	}
	c := *(*unsafe.Pointer)(unsafe.Add(p, s.off))
	if c == nil {
		r.b.Count(0)
		return
	}
	if !s.list {
		r.b.Count(1)
		r.node(c, depth+1)
		return
	}
	r.touch(c)
	switch *(*int32)(c) {
	case tagList:
		n, elems, err := r.listOf(c)
		if err != nil {
			r.b.Count(1)
			r.b.Unknown("List")
			return
		}
		r.b.Count(n)
		for i := range n {
			r.node(cell(elems, i), depth+1)
		}
	case tagIntList, tagOidList, tagXidList:
		r.b.Count(0)
	default:
		r.b.Count(1)
		r.node(c, depth+1) // a List * that is not a List: the node says what it is
	}
}

// rest writes the trailing slot: every child of the given members, in
// order, NULL elements skipped (as the text front end does).
func (r *reader) rest(p unsafe.Pointer, ms []member, depth int) {
	n := 0
	for _, m := range ms {
		n += r.restCount(p, m)
	}
	r.b.Count(n)
	for _, m := range ms {
		c := *(*unsafe.Pointer)(unsafe.Add(p, m.off))
		if c == nil {
			continue
		}
		if !m.list || *(*int32)(c) != tagList {
			if !m.list || !scalarList(c) {
				r.node(c, depth+1)
			}
			continue
		}
		ln, elems, err := r.listOf(c)
		if err != nil {
			r.b.Unknown("List")
			continue
		}
		for i := range ln {
			if e := cell(elems, i); e != nil {
				r.node(e, depth+1)
			}
		}
	}
}

// restCount is how many nodes rest writes for member m of p.
func (r *reader) restCount(p unsafe.Pointer, m member) int {
	c := *(*unsafe.Pointer)(unsafe.Add(p, m.off))
	if c == nil {
		return 0
	}
	r.touch(c)
	if !m.list || *(*int32)(c) != tagList {
		if m.list && scalarList(c) {
			return 0
		}
		return 1
	}
	ln, elems, err := r.listOf(c)
	if err != nil {
		return 1 // written as one Unknown
	}
	k := 0
	for i := range ln {
		if cell(elems, i) != nil {
			k++
		}
	}
	return k
}

func scalarList(c unsafe.Pointer) bool {
	switch *(*int32)(c) {
	case tagIntList, tagOidList, tagXidList:
		return true
	}
	return false
}

// value writes a value node (String, Integer, Float, Boolean, BitString).
func (r *reader) value(k sqlir.Kind, p unsafe.Pointer) {
	switch k {
	case sqlir.Integer:
		v := *(*int32)(unsafe.Add(p, integerIvalOff))
		r.b.NodeBytes(sqlir.Integer, strconv.AppendInt(r.num[:0], int64(v), 10), 0, 0)
	case sqlir.Boolean:
		r.b.Node(sqlir.Boolean, "", boolText(*(*bool)(unsafe.Add(p, booleanOff))), "", 0, 0, 0, 0)
	default: // String, Float, BitString: a char * at the same place
		r.b.Node(k, "", r.cstring(*(*unsafe.Pointer)(unsafe.Add(p, valueStrOff))), "", 0, 0, 0, 0)
	}
}

func boolText(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// aconst writes an A_Const: its inline value node and isnull.
func (r *reader) aconst(p unsafe.Pointer) {
	if *(*bool)(unsafe.Add(p, aconstIsnullOff)) {
		r.b.Node(sqlir.AConst, "", "", "", sqlir.ConstNull, 0, 0, 0)
		return
	}
	v := unsafe.Add(p, aconstValOff)
	switch *(*int32)(v) {
	case tagInteger:
		iv := *(*int32)(unsafe.Add(v, integerIvalOff))
		r.b.NodeBytes(sqlir.AConst, strconv.AppendInt(r.num[:0], int64(iv), 10), sqlir.ConstInt, 0)
	case tagFloat:
		r.b.Node(sqlir.AConst, "", r.cstring(*(*unsafe.Pointer)(unsafe.Add(v, valueStrOff))), "", sqlir.ConstFloat, 0, 0, 0)
	case tagString:
		r.b.Node(sqlir.AConst, "", r.cstring(*(*unsafe.Pointer)(unsafe.Add(v, valueStrOff))), "", sqlir.ConstString, 0, 0, 0)
	case tagBoolean:
		r.b.Node(sqlir.AConst, "", boolText(*(*bool)(unsafe.Add(v, booleanOff))), "", sqlir.ConstBool, 0, 0, 0)
	case tagBitString:
		r.b.Node(sqlir.AConst, "", r.cstring(*(*unsafe.Pointer)(unsafe.Add(v, valueStrOff))), "", sqlir.ConstBits, 0, 0, 0)
	default:
		r.b.Unknown("A_Const")
	}
}

// cstring returns the NUL-terminated string at p as a Go string that
// aliases host memory (valid only during the call), "" for NULL. It reads
// aligned 8-byte words after the first unaligned bytes, so it never reads
// past the page that holds the terminating NUL.
func cstring(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for uintptr(unsafe.Add(p, n))&7 != 0 {
		if *(*byte)(unsafe.Add(p, n)) == 0 {
			return unsafe.String((*byte)(p), n)
		}
		n++
	}
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for n < maxString {
		w := *(*uint64)(unsafe.Add(p, n))
		if (w-lo)&^w&hi != 0 {
			break
		}
		n += 8
	}
	for n < maxString && *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return unsafe.String((*byte)(p), n)
}

func tagName(tag int32) string {
	if tag > 0 && tag <= pg18MaxTag && pg18TagNames[tag] != "" {
		return pg18TagNames[tag]
	}
	return "NodeTag " + strconv.Itoa(int(tag))
}

// The reader's program for one tag, derived once from the layout table and
// sqlir.Specs; read-only afterwards.
type prog struct {
	name   string
	size   uint16
	kind   sqlir.Kind
	shape  uint8
	name1  uint16 // offset of the char * feeding Node.Name, or noField
	schema uint16
	int1   scalarRef
	int2   scalarRef
	flags  []uint16
	slots  []member
	rest   []member
}

const (
	shapeNode uint8 = iota
	shapeList
	shapeScalarList
	shapeValue
	shapeConst
)

const noField = 0xffff

// member is a node or list member of a struct.
type member struct {
	off  uint16
	list bool
}

// scalarRef reads an int or enum member as sqlir's neutral number.
type scalarRef struct {
	off  uint16
	kind fieldKind
	enum []int64 // fkEnum: C value -> neutral value (-1: not named by the spec)
}

func (s scalarRef) read(p unsafe.Pointer) int64 {
	if s.off == noField {
		return 0
	}
	switch s.kind {
	case fkInt32:
		return int64(*(*int32)(unsafe.Add(p, s.off)))
	case fkInt16:
		return int64(*(*int16)(unsafe.Add(p, s.off)))
	case fkEnum:
		v := *(*int32)(unsafe.Add(p, s.off))
		if v >= 0 && int(v) < len(s.enum) {
			return s.enum[v]
		}
		return -1
	}
	return 0
}

// Offsets the reader uses outside the generic programs, from the table.
var (
	tagList, tagIntList, tagOidList, tagXidList               int32 = T_List, T_IntList, T_OidList, T_XidList
	tagRawStmt                                                int32 = T_RawStmt
	tagInteger, tagFloat, tagBoolean, tagString, tagBitString int32 = T_Integer, T_Float, T_Boolean, T_String, T_BitString
	listLengthOff, listMaxLengthOff, listElementsOff                = offsetOf(T_List, "length"), offsetOf(T_List, "max_length"), offsetOf(T_List, "elements")
	rawStmtOff                                                      = offsetOf(T_RawStmt, "stmt")
	integerIvalOff, booleanOff, valueStrOff                         = offsetOf(T_Integer, "ival"), offsetOf(T_Boolean, "boolval"), offsetOf(T_String, "sval")
	aconstValOff, aconstIsnullOff                                   = offsetOf(T_A_Const, "val"), offsetOf(T_A_Const, "isnull")
	progs                                                           = buildProgs()
)

func offsetOf(tag int, name string) int {
	for _, f := range pg18Nodes[tag].fields {
		if f.name == name {
			return int(f.off)
		}
	}
	panic("pgtree: layout table has no " + pg18Nodes[tag].name + "." + name)
}

func buildProgs() *[pg18MaxTag + 1]prog {
	if offsetOf(T_Float, "fval") != valueStrOff || offsetOf(T_BitString, "bsval") != valueStrOff {
		panic("pgtree: Float, String and BitString keep their char * at different offsets")
	}
	byPG := map[string]*sqlir.Spec{}
	for i := range sqlir.Specs {
		byPG[sqlir.Specs[i].PG] = &sqlir.Specs[i]
	}
	var out [pg18MaxTag + 1]prog
	for tag := range pg18Nodes {
		l := &pg18Nodes[tag]
		if l.size == 0 {
			continue
		}
		pr := prog{name: l.name, size: l.size, kind: sqlir.Other, name1: noField, schema: noField,
			int1: scalarRef{off: noField}, int2: scalarRef{off: noField}}
		switch tag {
		case T_List:
			pr.kind, pr.shape = sqlir.List, shapeList
		case T_IntList, T_OidList, T_XidList:
			pr.shape = shapeScalarList
		}
		sp := byPG[l.name]
		if sp != nil && pr.shape == shapeNode {
			pr.kind = sp.Kind
			switch sp.Kind {
			case sqlir.AConst:
				pr.shape = shapeConst
			case sqlir.String, sqlir.Integer, sqlir.Float, sqlir.Boolean, sqlir.BitString:
				pr.shape = shapeValue
			}
		}
		find := func(name string) *field {
			for _, alt := range strings.Split(name, "|") {
				for i := range l.fields {
					if l.fields[i].name == alt {
						return &l.fields[i]
					}
				}
			}
			return nil
		}
		used := map[string]bool{}
		if sp != nil && pr.shape == shapeNode {
			if f := find(sp.Name); f != nil && f.kind == fkString {
				pr.name1 = f.off
			}
			if f := find(sp.Schema); f != nil && f.kind == fkString {
				pr.schema = f.off
			}
			pr.int1 = scalar(find(sp.Int), sp.Enum)
			pr.int2 = scalar(find(sp.Int2), sp.Enum2)
			for _, name := range sp.Flags {
				off := uint16(noField)
				if f := find(name); f != nil && f.kind == fkBool {
					off = f.off
				}
				pr.flags = append(pr.flags, off)
			}
			for _, name := range sp.Slots {
				m := member{off: noField}
				if f := find(name); f != nil && (f.kind == fkNode || f.kind == fkList) {
					m = member{off: f.off, list: f.kind == fkList}
					used[f.name] = true
				}
				pr.slots = append(pr.slots, m)
			}
		}
		if pr.shape == shapeNode {
			for _, f := range l.fields {
				if (f.kind == fkNode || f.kind == fkList) && !used[f.name] {
					pr.rest = append(pr.rest, member{off: f.off, list: f.kind == fkList})
				}
			}
		}
		out[tag] = pr
	}
	return &out
}

func scalar(f *field, names []string) scalarRef {
	if f == nil {
		return scalarRef{off: noField}
	}
	s := scalarRef{off: f.off, kind: f.kind}
	if f.kind == fkEnum {
		et := &pg18Enums[f.enum]
		maxV := int32(0)
		for _, v := range et.values {
			maxV = max(maxV, v.value)
		}
		if maxV > 1024 {
			return scalarRef{off: noField} // not a small dense enum: not one the rules read
		}
		s.enum = make([]int64, maxV+1)
		for i := range s.enum {
			s.enum[i] = -1
		}
		for _, v := range et.values {
			if v.value >= 0 {
				s.enum[v.value] = sqlir.EnumIndex(names, v.name)
			}
		}
	} else if f.kind != fkInt32 && f.kind != fkInt16 {
		return scalarRef{off: noField}
	}
	return s
}
