package corpus

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/vecshard/vecshard/internal/vecbin"
)

// PostgreSQL type OIDs used in binary arrays.
const (
	oidInt2 = 21
	oidInt4 = 23
	oidText = 25
	oidUUID = 2950
)

// T is a text-format parameter.
func txt(s string) Param { return Param{Data: []byte(s)} }

// B is a binary-format parameter.
func bin(data []byte) Param { return Param{Data: data, Binary: true} }

// Null is SQL NULL.
func null() Param { return Param{Null: true} }

// empty is a non-NULL text parameter with no bytes.
func empty() Param { return Param{Data: []byte{}} }

// emptyBin is a non-NULL binary parameter with no bytes.
func emptyBin() Param { return Param{Data: []byte{}, Binary: true} }

// vecText is a vector in pgvector's text format: [1,2.5,-3].
func vecText(v ...float32) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, f := range v {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatFloat(float64(f), 'g', -1, 32))
	}
	sb.WriteByte(']')
	return sb.String()
}

// vecBin is a vector in pgvector's binary format.
func vecBin(v ...float32) Param { return bin(vecbin.Vector(v...)) }

// halfBin is a halfvec in binary format, each value rounded to binary16.
func halfBin(v ...float32) Param { return bin(vecbin.Halfvec(v...)) }

// sparseBin is a sparsevec in binary format: int32 dim, int32 nnz, int32 0,
// the 0-based indices, then the values.
func sparseBin(dim int32, idx []int32, vals []float32) Param {
	b := binary.BigEndian.AppendUint32(nil, uint32(dim))
	b = binary.BigEndian.AppendUint32(b, uint32(len(idx)))
	b = binary.BigEndian.AppendUint32(b, 0)
	for _, i := range idx {
		b = binary.BigEndian.AppendUint32(b, uint32(i))
	}
	for _, f := range vals {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(f))
	}
	return bin(b)
}

// i2, i4 and Int8 are binary integers.
func i2(v int16) Param { return bin(binary.BigEndian.AppendUint16(nil, uint16(v))) }

// i4 is a binary int4.
func i4(v int32) Param { return bin(binary.BigEndian.AppendUint32(nil, uint32(v))) }

// i8 is a binary int8.
func i8(v int64) Param { return bin(binary.BigEndian.AppendUint64(nil, uint64(v))) }

// uuidBytes is the 16 bytes of a uuid written as 32 hex digits with any
// hyphens or braces.
func uuidBytes(s string) []byte {
	var out []byte
	var hi byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			continue
		}
		if n%2 == 0 {
			hi = d
		} else {
			out = append(out, hi<<4|d)
		}
		n++
	}
	if len(out) != 16 {
		panic("corpus: not a uuid: " + s)
	}
	return out
}

// uuidBin is a binary uuid.
func uuidBin(s string) Param { return bin(uuidBytes(s)) }

// arrayBin is a binary one-dimensional array with element type oid; a nil
// element is NULL.
func arrayBin(oid uint32, elems ...[]byte) Param { return bin(vecbin.Array(oid, elems...)) }

// int8Array is a binary int8[]; nil is a NULL element.
func int8Array(vals ...*int64) Param { return bin(vecbin.Int8Array(vals...)) }

// int4Array is a binary int4[].
func int4Array(vals ...int32) Param {
	var elems [][]byte
	for _, v := range vals {
		elems = append(elems, binary.BigEndian.AppendUint32(nil, uint32(v)))
	}
	return arrayBin(oidInt4, elems...)
}

// textArray is a binary text[].
func textArray(vals ...string) Param {
	var elems [][]byte
	for _, v := range vals {
		elems = append(elems, []byte(v))
	}
	return arrayBin(oidText, elems...)
}

// uuidArray is a binary uuid[].
func uuidArray(vals ...string) Param {
	var elems [][]byte
	for _, v := range vals {
		elems = append(elems, uuidBytes(v))
	}
	return arrayBin(oidUUID, elems...)
}

func i64(v int64) *int64 { return &v }
