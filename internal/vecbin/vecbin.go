// Package vecbin writes pgvector values in PostgreSQL's binary wire format,
// as a client binds them: for the tests, the corpus and the benchmarks, and
// for vecshard explain --binary. It is the inverse of vecdecode's binary
// decoders and is never linked into the plugins. Array and Int8Array write
// the arrays of keys the same tests bind for = ANY($1).
package vecbin

import (
	"encoding/binary"

	"github.com/pgvector/pgvector-go"
	"github.com/vecshard/vecshard/vecdecode"
)

// Vector is v in vector's binary format, big-endian: uint16 dim, uint16 0,
// dim × float4. pgvector-go writes it.
func Vector(v ...float32) []byte {
	b, err := pgvector.NewVector(v).EncodeBinary(nil)
	if err != nil { // pgvector-go 0.3's encoder never fails
		panic(err)
	}
	return b
}

// Halfvec is v in halfvec's binary format, big-endian: uint16 dim,
// uint16 0, dim × IEEE binary16, each element rounded by
// vecdecode.Float16Bits (to nearest, ties to even), the bytes pgvector-go's
// pgx codec sends. pgvector-go's core package has no binary halfvec encoder.
func Halfvec(v ...float32) []byte {
	b := make([]byte, 0, 4+2*len(v))
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	b = binary.BigEndian.AppendUint16(b, 0)
	for _, f := range v {
		b = binary.BigEndian.AppendUint16(b, vecdecode.Float16Bits(f))
	}
	return b
}

// Array is a one-dimensional array in PostgreSQL's binary format (as
// array_send writes it): int32 ndim = 1, int32 has-null flag, element type
// oid, int32 length, int32 lower bound = 1, then each element as an int32
// byte length and its bytes, a nil element as length -1 (NULL).
func Array(oid uint32, elems ...[]byte) []byte {
	hasNull := uint32(0)
	for _, e := range elems {
		if e == nil {
			hasNull = 1
		}
	}
	b := binary.BigEndian.AppendUint32(nil, 1) // ndim
	b = binary.BigEndian.AppendUint32(b, hasNull)
	b = binary.BigEndian.AppendUint32(b, oid)
	b = binary.BigEndian.AppendUint32(b, uint32(len(elems)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, e := range elems {
		if e == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// Int8Array is an int8[] (element type oid 20) as Array writes it; a nil
// element is NULL.
func Int8Array(vals ...*int64) []byte {
	elems := make([][]byte, len(vals))
	for i, v := range vals {
		if v != nil {
			elems[i] = binary.BigEndian.AppendUint64(nil, uint64(*v))
		}
	}
	return Array(20, elems...)
}
