// Package vecbin writes pgvector values in PostgreSQL's binary wire format,
// as a client binds them: for the tests, the corpus and the benchmarks, and
// for vecshard explain --binary. It is the inverse of vecdecode's binary
// decoders and is never linked into the plugins.
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
