// Package vecdecode decodes pgvector's vector, halfvec and sparsevec values
// from PostgreSQL's text and binary wire formats into float32 slices.
//
// The decoders accept exactly what a PostgreSQL server with pgvector 0.8
// accepts and produce bit-identical float32 values. Hot-path functions write
// into caller-owned memory and do not allocate.
package vecdecode

// Type names a pgvector type.
type Type uint8

// The pgvector types.
const (
	Vector Type = iota
	Halfvec
	Sparsevec
)

// String returns the SQL name of the type.
func (t Type) String() string {
	switch t {
	case Vector:
		return "vector"
	case Halfvec:
		return "halfvec"
	case Sparsevec:
		return "sparsevec"
	}
	return "unknown"
}

// MaxDim is the largest dimension of vector and halfvec, and the largest
// number of non-zero elements of sparsevec.
const MaxDim = 16000

// MaxSparseDim is the largest dimension of a sparsevec.
const MaxSparseDim = 1000000000

// Sparse is a caller-owned sparse vector: Dim dimensions, of which the ones
// at Indices (0-based, strictly increasing) hold Values.
type Sparse struct {
	Dim     int
	Indices []int32
	Values  []float32
}
