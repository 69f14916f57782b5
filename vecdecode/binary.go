package vecdecode

import (
	"encoding/binary"
	"math"
)

// VectorBinary decodes the binary form of a vector (big-endian uint16 dim,
// uint16 unused = 0, dim float4) into dst[:0] and returns the result. It does
// not allocate when cap(dst) >= dim.
//
// It rejects what pgvector's vector_recv and the server's Bind handling
// reject, in the same order: a short header, dim outside 1..MaxDim (dim is
// unsigned: 0xffff is too many), unused != 0, a NaN or infinite element
// (checked in order, before a missing element is noticed), too few bytes,
// then bytes left over. A non-nil error is an *Error.
func VectorBinary(dst []float32, src []byte) ([]float32, error) {
	return denseBinary(Vector, dst, src)
}

// HalfvecBinary decodes the binary form of a halfvec (big-endian uint16
// dim, uint16 unused = 0, dim IEEE binary16) into dst[:0], converting each
// element to float32 exactly (subnormals included). Errors are as for
// VectorBinary.
func HalfvecBinary(dst []float32, src []byte) ([]float32, error) {
	return denseBinary(Halfvec, dst, src)
}

// denseBinary decodes a vector (float4 elements) or a halfvec (binary16
// elements), t saying which; the element size is the one difference.
func denseBinary(t Type, dst []float32, src []byte) ([]float32, error) {
	dst = dst[:0]
	dim, err := denseHeader(t, src)
	if err != nil {
		return dst, err
	}
	size := 4
	if t == Halfvec {
		size = 2
	}
	body := src[4:]
	if len(body) < size*dim {
		// The server reads element by element: report a bad element that is
		// there before the missing one.
		n := len(body) / size
		for j := 0; j < n; j++ {
			if err := elemNotFinite(t, body, j); err != nil {
				return dst, err
			}
		}
		return dst, errShort(t, 4+size*n)
	}
	if cap(dst) < dim {
		dst = make([]float32, 0, dim)
	}
	out := dst[:dim]
	var j int
	if t == Halfvec {
		j = decodeHalf(out, body)
	} else {
		j = decodeFloat4(out, body)
	}
	if j >= 0 {
		return dst, elemNotFinite(t, body, j)
	}
	if len(body) != size*dim {
		return dst, errExtra(t, 4+size*dim)
	}
	return out, nil
}

// elemNotFinite is the error for element j of a vector or halfvec body (at
// byte 4 + size*j of the value) when it is a NaN or an infinity, else nil.
func elemNotFinite(t Type, body []byte, j int) error {
	if t == Halfvec {
		if h := binary.BigEndian.Uint16(body[2*j:]); !halfIsFinite(h) {
			return errNotFinite(t, h&0x3ff != 0, 4+2*j)
		}
		return nil
	}
	if w := binary.BigEndian.Uint32(body[4*j:]); w&0x7f800000 == 0x7f800000 {
		return errNotFinite(t, w&0x7fffff != 0, 4+4*j)
	}
	return nil
}

// denseHeader reads and checks the 4-byte header of vector and halfvec.
func denseHeader(t Type, src []byte) (int, error) {
	if len(src) < 4 {
		return 0, errShort(t, len(src)&^1)
	}
	dim := int(binary.BigEndian.Uint16(src))
	unused := int(binary.BigEndian.Uint16(src[2:]))
	if dim < 1 {
		return 0, errNoDims(t, 0)
	}
	if dim > MaxDim {
		return 0, errTooManyDims(t, 0)
	}
	if unused != 0 {
		return 0, errUnused(t, unused, 2)
	}
	return dim, nil
}

// SparsevecBinary decodes the binary form of a sparsevec (big-endian int32
// dim, int32 nnz, int32 unused = 0, nnz int32 0-based indices, nnz float4
// values) into s, reusing the capacity of s.Indices and s.Values; it does not
// allocate when both have room for nnz elements.
//
// It rejects what pgvector's sparsevec_recv rejects, in its order: dim
// outside 1..MaxSparseDim, nnz < 0, nnz > MaxDim or nnz > dim, unused != 0;
// then each index in turn (outside 0..dim-1, decreasing, repeated), then
// each value (NaN, infinite, zero); a value missing is noticed only when
// reached, bytes left over last. Nothing is allocated before the header is
// checked, so a header claiming 16000 elements on a short input costs
// nothing. A non-nil error is an *Error; s is then not meaningful.
func SparsevecBinary(s *Sparse, src []byte) error {
	const t = Sparsevec
	s.Dim = 0
	s.Indices, s.Values = s.Indices[:0], s.Values[:0]
	if len(src) < 12 {
		return errShort(t, len(src)&^3)
	}
	dim := int32(binary.BigEndian.Uint32(src))
	nnz := int32(binary.BigEndian.Uint32(src[4:]))
	unused := int32(binary.BigEndian.Uint32(src[8:]))
	switch {
	case dim < 1:
		return errNoDims(t, 0)
	case dim > MaxSparseDim:
		return errTooManyDims(t, 0)
	case nnz < 0:
		return newError(t, 4, CodeData, "sparsevec cannot have negative number of elements")
	case nnz > MaxDim:
		return errTooManyNonZero(4)
	case nnz > dim:
		return newError(t, 4, CodeLimit, "sparsevec cannot have more elements than dimensions")
	case unused != 0:
		return errUnused(t, int(unused), 8)
	}
	n := int(nnz)
	body := src[12:]
	if len(body) != 8*n {
		return sparseLengthError(dim, n, body)
	}
	// The length is right, so the input backs every element: decode and
	// check in one pass, indices first, as the server does.
	if cap(s.Indices) < n {
		s.Indices = make([]int32, 0, n)
	}
	if cap(s.Values) < n {
		s.Values = make([]float32, 0, n)
	}
	idx, val := s.Indices[:n], s.Values[:n]
	prev := int32(-1)
	for j := range idx {
		x := int32(binary.BigEndian.Uint32(body[4*j:]))
		if x <= prev || x >= dim {
			return sparseIndexError(x, prev, 12+4*j)
		}
		idx[j], prev = x, x
	}
	vals := body[4*n:]
	for j := range val {
		w := binary.BigEndian.Uint32(vals[4*j:])
		if w&0x7f800000 == 0x7f800000 || w&0x7fffffff == 0 {
			return sparseValueError(w, 12+4*n+4*j)
		}
		val[j] = math.Float32frombits(w)
	}
	s.Dim, s.Indices, s.Values = int(dim), idx, val
	return nil
}

// sparseIndexError reports index x, which follows prev (-1 for the first)
// and is negative, >= dim, or <= prev, in the server's order of checks:
// bounds first (x > prev here means x >= dim), then order, then duplicates.
func sparseIndexError(x, prev int32, off int) error {
	const t = Sparsevec
	switch {
	case x < 0 || x > prev:
		return newError(t, off, CodeData, "sparsevec index out of bounds")
	case x < prev:
		return newError(t, off, CodeData, "sparsevec indices must be in ascending order")
	}
	return newError(t, off, CodeData, "sparsevec indices must not contain duplicates")
}

// sparseValueError reports float4 bits w that are NaN, infinite or zero.
func sparseValueError(w uint32, off int) error {
	if w&0x7f800000 == 0x7f800000 {
		return errNotFinite(Sparsevec, w&0x7fffff != 0, off)
	}
	return newError(Sparsevec, off, CodeData, "binary representation of sparsevec cannot contain zero values")
}

// sparseLengthError finds the error the server reports for a sparsevec body
// of the wrong length: a bad index or value it reads before running out, or
// else the missing or extra bytes. It allocates nothing.
func sparseLengthError(dim int32, n int, body []byte) error {
	const t = Sparsevec
	avail := min(n, len(body)/4)
	prev := int32(-1)
	for j := 0; j < avail; j++ {
		x := int32(binary.BigEndian.Uint32(body[4*j:]))
		if x <= prev || x >= dim {
			return sparseIndexError(x, prev, 12+4*j)
		}
		prev = x
	}
	if avail < n {
		return errShort(t, 12+4*avail)
	}
	vals := body[4*n:]
	avail = min(n, len(vals)/4)
	for j := 0; j < avail; j++ {
		w := binary.BigEndian.Uint32(vals[4*j:])
		if w&0x7f800000 == 0x7f800000 || w&0x7fffffff == 0 {
			return sparseValueError(w, 12+4*n+4*j)
		}
	}
	if avail < n {
		return errShort(t, 12+4*n+4*avail)
	}
	return errExtra(t, 12+8*n)
}
