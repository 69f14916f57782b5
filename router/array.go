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
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '[' { // dimension decoration
		for i < len(s) && s[i] != '=' {
			i++
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	if i >= len(s) || s[i] != '{' {
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
				for i < len(s) && isSpace(s[i]) {
					i++
				}
				if i != len(s) {
					return vAll, nil
				}
				return one, nil
			}
		default:
			var e []byte
			quoted := ch == '"'
			escaped := false
			j := i
			if quoted {
				j++
				for j < len(s) && s[j] != '"' {
					if s[j] == '\\' {
						escaped = true
						j++
					}
					j++
				}
				if j >= len(s) {
					return vAll, nil
				}
				e = s[i+1 : j]
				j++
			} else {
				// array_in trims the unescaped whitespace after an
				// unquoted element: a backslash-escaped space is kept.
				keep := i // s[i:keep] ends with the last escaped byte
				for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != '{' && s[j] != '"' {
					if s[j] == '\\' {
						escaped = true
						j++
						keep = j + 1
					}
					j++
				}
				if j > len(s) {
					return vAll, nil
				}
				e = s[i:j]
				for len(e) > keep-i && isSpace(e[len(e)-1]) {
					e = e[:len(e)-1]
				}
				if len(e) == 4 && (e[0]|0x20) == 'n' && (e[1]|0x20) == 'u' && (e[2]|0x20) == 'l' && (e[3]|0x20) == 'l' {
					i = j
					continue // NULL matches no row
				}
			}
			i = j
			if depth == 0 {
				return vAll, nil
			}
			if escaped {
				sc := c.scratch()
				sc.buf = sc.buf[:0]
				for k := 0; k < len(e); k++ {
					if e[k] == '\\' && k+1 < len(e) {
						k++
					}
					sc.buf = append(sc.buf, e[k])
				}
				e = sc.buf
			}
			same, err := c.elem(t, v, &one, e, false)
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
