package router

import (
	"encoding/binary"

	"github.com/vecshard/vecshard/idkey"
)

// Element type OIDs of binary arrays the router can read.
const (
	oidName    = 19
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidBpchar  = 1042
	oidVarchar = 1043
	oidUUID    = 2950
)

// array is the shard of key = ANY(v), v an array value: the one shard all
// non-NULL elements map to, else vAll. Only id tables; a vector key in an
// array routes to all shards. An array the router cannot read also routes to
// all shards: the server then accepts or rejects it.
func (c *call) array(ps []Param, t *Table, v *valueSrc) (int, *Decision) {
	var data []byte
	bin := false
	switch v.kind {
	case srcLit:
		data = v.lit
	case srcParam:
		if v.param >= len(ps) {
			if len(ps) == 0 {
				c.unbound = true
				return vAll, nil
			}
			return c.value(ps, t, v, false) // reports the missing parameter
		}
		p := ps[v.param]
		data, bin = p.Data, p.Binary
	default:
		return vAll, nil
	}
	if t.Key != KeyID || len(data) == 0 || !castsKeep(t, v, false) {
		return vAll, nil
	}
	if bin {
		return c.binaryArray(t, v, data)
	}
	return c.textArray(t, v, data)
}

// elem folds one element's shard into one (vAll before the first).
func (c *call) elem(t *Table, v *valueSrc, one *int, e []byte, bin bool) (bool, *Decision) {
	key, err := idkey.Key(t.IDType, bin, e)
	if err != nil {
		return false, decodeError(err, t, v)
	}
	sh := idkey.Shard(key, c.shards)
	if c.ex != nil {
		c.explainValue(ValueExplanation{Source: v.text, Binary: bin, Type: t.IDType.String(), JumpKey: key, Shard: sh})
	}
	if *one < 0 {
		*one = sh
		return true, nil
	}
	return sh == *one, nil
}

// binaryArray reads PostgreSQL's array send format: int32 ndim, int32
// has-nulls flag, uint32 element type, ndim x (int32 size, int32 lower
// bound), then each element as int32 length (-1: NULL) and its bytes.
func (c *call) binaryArray(t *Table, v *valueSrc, b []byte) (int, *Decision) {
	if len(b) < 12 {
		return vAll, nil
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	oid := binary.BigEndian.Uint32(b[8:])
	if ndim <= 0 || ndim > 6 || len(b) < 12+8*int(ndim) {
		return vAll, nil
	}
	bin := true
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		bin = t.IDType == idkey.Bigint
		if !bin {
			return vAll, nil
		}
	case oidUUID:
		if t.IDType != idkey.UUID {
			return vAll, nil
		}
	case oidText, oidVarchar, oidBpchar, oidName:
		bin = false // binary text is its bytes
	default:
		return vAll, nil
	}
	n := 1
	for d := 0; d < int(ndim); d++ {
		size := int32(binary.BigEndian.Uint32(b[12+8*d:]))
		if size < 0 || size > 1<<24 {
			return vAll, nil
		}
		n *= int(size)
		if n > 1<<24 {
			return vAll, nil
		}
	}
	b = b[12+8*int(ndim):]
	one := vAll
	for i := 0; i < n; i++ {
		if len(b) < 4 {
			return vAll, nil
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l < 0 {
			continue // NULL matches no row
		}
		if int(l) > len(b) {
			return vAll, nil
		}
		same, err := c.elem(t, v, &one, b[:l], bin)
		if err != nil {
			return 0, err
		}
		if !same {
			return vAll, nil
		}
		b = b[l:]
	}
	return one, nil
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// textArray reads an array literal such as {1,2,3}, {"a b",NULL} or
// [1:2]={5,6}. Nesting is flattened.
func (c *call) textArray(t *Table, v *valueSrc, s []byte) (int, *Decision) {
	i, ok := arrayOpen(s)
	if !ok {
		return vAll, nil
	}
	one := vAll
	depth := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case isSpace(ch) || ch == ',':
			i++
		case ch == '{':
			depth++
			i++
		case ch == '}':
			depth--
			i++
			if depth == 0 {
				if skipSpace(s, i) != len(s) {
					return vAll, nil
				}
				return one, nil
			}
		default:
			var e textElem
			if ch == '"' {
				e, i, ok = quotedElem(s, i)
			} else {
				e, i, ok = unquotedElem(s, i)
			}
			if !ok {
				return vAll, nil
			}
			if e.null {
				continue // NULL matches no row
			}
			if depth == 0 {
				return vAll, nil
			}
			same, err := c.elem(t, v, &one, c.unescape(e), false)
			if err != nil {
				return 0, err
			}
			if !same {
				return vAll, nil
			}
		}
	}
	return vAll, nil
}

// skipSpace is the index of the first non-space byte of s at or after i.
func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// arrayOpen is the index of the '{' that opens the array literal s, after
// leading space and a dimension decoration such as [1:2]=; ok is false
// when s does not open with one.
func arrayOpen(s []byte) (i int, ok bool) {
	i = skipSpace(s, 0)
	if i < len(s) && s[i] == '[' { // dimension decoration
		for i < len(s) && s[i] != '=' {
			i++
		}
		i = skipSpace(s, i+1)
	}
	return i, i < len(s) && s[i] == '{'
}

// textElem is one element of an array literal, as it stands in the text.
type textElem struct {
	b       []byte // the element, its backslash escapes still in
	escaped bool   // b has a backslash escape
	null    bool   // an unquoted NULL
}

// quotedElem reads the quoted element that opens at s[i] and returns the
// index after its closing quote; ok is false when it is unterminated.
func quotedElem(s []byte, i int) (e textElem, next int, ok bool) {
	j := i + 1
	for j < len(s) && s[j] != '"' {
		if s[j] == '\\' {
			e.escaped = true
			j++
		}
		j++
	}
	if j >= len(s) {
		return e, j, false
	}
	e.b = s[i+1 : j]
	return e, j + 1, true
}

// unquotedElem reads the unquoted element that starts at s[i], up to the
// next delimiter, and returns the index of that delimiter; ok is false
// when a trailing backslash escapes nothing.
func unquotedElem(s []byte, i int) (e textElem, next int, ok bool) {
	j := i
	// array_in trims the unescaped whitespace after an
	// unquoted element: a backslash-escaped space is kept.
	keep := i // s[i:keep] ends with the last escaped byte
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != '{' && s[j] != '"' {
		if s[j] == '\\' {
			e.escaped = true
			j++
			keep = j + 1
		}
		j++
	}
	if j > len(s) {
		return e, j, false
	}
	b := s[i:j]
	for len(b) > keep-i && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	e.b = b
	e.null = len(b) == 4 && (b[0]|0x20) == 'n' && (b[1]|0x20) == 'u' && (b[2]|0x20) == 'l' && (b[3]|0x20) == 'l'
	return e, j, true
}

// unescape is e without its backslash escapes: e.b itself when it has
// none, else a copy in the call's scratch buffer (reused, so no
// allocation once it has grown).
func (c *call) unescape(e textElem) []byte {
	if !e.escaped {
		return e.b
	}
	sc := c.scratch()
	sc.buf = sc.buf[:0]
	for k := 0; k < len(e.b); k++ {
		if e.b[k] == '\\' && k+1 < len(e.b) {
			k++
		}
		sc.buf = append(sc.buf, e.b[k])
	}
	return sc.buf
}
