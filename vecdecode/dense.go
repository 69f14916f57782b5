package vecdecode

import "unsafe"

// Dense decodes a vector or halfvec in text (binary false) or binary form
// into dst[:0]; it is VectorText, VectorBinary, HalfvecText or HalfvecBinary
// chosen by t and binary. For t == Sparsevec it returns an *Error with code
// 0A000 (feature_not_supported): use SparsevecText or SparsevecBinary.
func Dense(t Type, binary bool, dst []float32, src []byte) ([]float32, error) {
	switch {
	case t == Vector && !binary:
		return VectorText(dst, src)
	case t == Vector:
		return VectorBinary(dst, src)
	case t == Halfvec && !binary:
		return HalfvecText(dst, src)
	case t == Halfvec:
		return HalfvecBinary(dst, src)
	}
	return dst[:0], newError(t, 0, codeNotSupported, "vecdecode: Dense cannot decode type "+t.String())
}

// ParseVector decodes the text form of a vector into a new slice; it is
// VectorText for tools that hold a string.
func ParseVector(s string) ([]float32, error) {
	return VectorText(nil, bytesOf(s))
}

// ParseHalfvec decodes the text form of a halfvec into a new slice; it is
// HalfvecText for tools that hold a string.
func ParseHalfvec(s string) ([]float32, error) {
	return HalfvecText(nil, bytesOf(s))
}

// ParseSparsevec decodes the text form of a sparsevec into a new Sparse; it
// is SparsevecText for tools that hold a string.
func ParseSparsevec(s string) (Sparse, error) {
	var v Sparse
	err := SparsevecText(&v, bytesOf(s))
	return v, err
}

// bytesOf views s as bytes without copying. The decoders only read their
// input and keep no reference to it, so this is safe.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
