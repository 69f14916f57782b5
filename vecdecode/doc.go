// Package vecdecode decodes pgvector's vector, halfvec and sparsevec values
// from PostgreSQL's text and binary wire formats into float32 slices.
//
// The decoders accept exactly what a PostgreSQL server with pgvector 0.8
// accepts and produce bit-identical float32 values. Hot-path functions write
// into caller-owned memory and do not allocate.
//
// # Formats
//
// Binary (big-endian):
//
//	vector     uint16 dim, uint16 unused (0), dim × float4
//	halfvec    uint16 dim, uint16 unused (0), dim × IEEE binary16
//	sparsevec  int32 dim, int32 nnz, int32 unused (0), nnz × int32 index
//	           (0-based, strictly increasing, < dim), nnz × float4 (non-zero)
//
// Text: "[1,2.5,-3e-2]" for vector and halfvec, "{1:1.5,3:2}/5" for
// sparsevec (indices 1-based, any order, zeros dropped). White space (space,
// \t, \n, \r, \v, \f) may surround every token. Numbers are read as glibc's
// strtof reads them in the C locale (signs, ".5", "5.", exponents, hex
// floats such as "0x1p-3", inf, infinity, nan, nan(chars), any case) and
// rounded once to float32, ties to even; halfvec then rounds that float32 to
// binary16, ties to even, as pgvector does.
//
// Limits: vector and halfvec have 1..MaxDim elements; sparsevec has
// 1..MaxSparseDim dimensions and at most MaxDim non-zero elements. NaN and
// infinities are rejected everywhere; a finite number beyond float32 (or,
// for halfvec, binary16) is out of range; a number too small for float32
// becomes zero or a subnormal in vector and halfvec but is out of range in
// sparsevec. Limits are checked before anything is allocated, and no
// decoder reads past its input whatever its header claims.
//
// # Errors
//
// Every error is an *Error carrying the message and SQLSTATE the server
// would send for the same input, and the byte offset where decoding failed.
// Where the input has several faults, the one reported is the one the server
// reports: the decoders check in the server's order.
//
// One known difference: glibc 2.36 (Debian 12) rounds some hexadecimal
// inputs that land among float32 subnormals wrongly (it reads
// "0x1.000001p-150" as 0 where the correctly rounded value is 2^-149);
// vecdecode rounds them correctly.
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
// at Indices (0-based, strictly increasing) hold Values (non-zero, finite).
type Sparse struct {
	Dim     int
	Indices []int32
	Values  []float32
}
