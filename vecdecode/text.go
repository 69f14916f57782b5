package vecdecode

import (
	"bytes"
	"math"
)

// VectorText decodes the text form of a vector ("[1,2.5,-3e-2]") into
// dst[:0] and returns the result. It does not allocate when cap(dst) is at
// least the number of elements.
//
// It accepts what pgvector's vector_in accepts: white space (space, \t, \n,
// \r, \v, \f) around the brackets and the elements, 1 to MaxDim elements
// each read as C's strtof reads them and rounded once to float32. NaN,
// infinities and numbers beyond float32's range are errors; numbers too
// small for float32 become 0 or a subnormal, as on the server. A non-nil
// error is an *Error; the returned slice is then not meaningful.
func VectorText(dst []float32, src []byte) ([]float32, error) {
	return denseText(Vector, dst, src)
}

// HalfvecText decodes the text form of a halfvec ("[1,2.5,-0.03]") into
// dst[:0]. Each element is read as for VectorText, rounded to float32 and
// then rounded again to binary16 (to nearest, ties to even), as pgvector
// does; the float32 values returned are those binary16 values, exactly.
// A finite number that rounds to a binary16 infinity (|x| >= 65520) is out
// of range.
func HalfvecText(dst []float32, src []byte) ([]float32, error) {
	return denseText(Halfvec, dst, src)
}

func denseText(t Type, dst []float32, src []byte) ([]float32, error) {
	dst = dst[:0]
	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '[' {
		return dst, errSyntax(t, src, i, detailStartBracket)
	}
	i = skipSpace(src, i+1)
	if i < len(src) && src[i] == ']' {
		return dst, errNoDims(t, i)
	}
	for {
		if len(dst) == MaxDim {
			return dst, errTooManyDims(t, i)
		}
		i = skipSpace(src, i)
		f, end, k := parseFloat(src, i)
		switch k {
		case numNone:
			return dst, errSyntax(t, src, i, "")
		case numOverflow:
			return dst, errOutOfRange(t, src[i:end], i)
		}
		if t == Halfvec {
			h := Float16Bits(f)
			if !halfIsFinite(h) {
				if w := math.Float32bits(f); w&0x7f800000 != 0x7f800000 {
					return dst, errOutOfRange(t, src[i:end], i)
				}
				return dst, errNotFinite(t, h&0x3ff != 0, i)
			}
			f = halfToFloat32(h)
		} else if w := math.Float32bits(f); w&0x7f800000 == 0x7f800000 {
			return dst, errNotFinite(t, w&0x7fffff != 0, i)
		}
		if len(dst) == cap(dst) {
			dst = grow(dst, src[end:])
		}
		dst = append(dst, f)
		i = skipSpace(src, end)
		if i < len(src) {
			if src[i] == ',' {
				i++
				continue
			}
			if src[i] == ']' {
				i++
				break
			}
		}
		return dst, errSyntax(t, src, i, "")
	}
	if i = skipSpace(src, i); i != len(src) {
		return dst, errSyntax(t, src, i, detailJunkBracket)
	}
	return dst, nil
}

// grow makes room for the elements still to come in rest (one per comma,
// plus one, at most MaxDim in all), so that decoding into a short or nil
// dst allocates once.
func grow(dst []float32, rest []byte) []float32 {
	n := len(dst) + 1 + bytes.Count(rest, []byte{','})
	n = min(max(n, 2*len(dst)), MaxDim)
	d := make([]float32, len(dst), n)
	copy(d, dst)
	return d
}

// SparsevecText decodes the text form of a sparsevec ("{1:1.5,3:2}/5",
// indices 1-based) into s, reusing the capacity of s.Indices and s.Values;
// it does not allocate when both have room for the number of elements.
//
// It follows pgvector's sparsevec_in: white space is allowed around every
// token; indices are read as C's strtol reads them; values as strtof reads
// them, where (unlike vector) a non-zero value that rounds to zero is an
// out-of-range error; zero values are dropped before indices are checked;
// the rest are sorted by index, and an index outside 1..dim or given twice
// is an error. On return s holds 0-based, strictly increasing indices.
// A non-nil error is an *Error; s is then not meaningful. For the index
// errors, found only once the whole value is read, Offset is where the
// dimension starts.
func SparsevecText(s *Sparse, src []byte) error {
	const t = Sparsevec
	s.Dim = 0
	s.Indices, s.Values = s.Indices[:0], s.Values[:0]
	// The server sizes its work area by counting commas before anything
	// else, and fails on that count alone.
	maxNnz := 1 + bytes.Count(src, []byte{','})
	if maxNnz > MaxDim {
		return errTooManyNonZero(0)
	}
	if cap(s.Indices) < maxNnz {
		s.Indices = make([]int32, 0, maxNnz)
	}
	if cap(s.Values) < maxNnz {
		s.Values = make([]float32, 0, maxNnz)
	}
	idx, val := s.Indices[:0], s.Values[:0]

	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return errSyntax(t, src, i, detailStartBrace)
	}
	i = skipSpace(src, i+1)
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for {
			i = skipSpace(src, i)
			index, end, ok := parseLong(src, i)
			if !ok {
				return errSyntax(t, src, i, "")
			}
			// Clamp as pgvector does, then make 0-based.
			index = min(max(index, math.MinInt32+1), math.MaxInt32) - 1
			i = skipSpace(src, end)
			if i >= len(src) || src[i] != ':' {
				return errSyntax(t, src, i, "")
			}
			i = skipSpace(src, i+1)
			f, end, k := parseFloat(src, i)
			switch k {
			case numNone:
				return errSyntax(t, src, i, "")
			case numOverflow, numUnderflow:
				return errOutOfRange(t, src[i:end], i)
			}
			if w := math.Float32bits(f); w&0x7f800000 == 0x7f800000 {
				return errNotFinite(t, w&0x7fffff != 0, i)
			}
			if f != 0 {
				idx = append(idx, int32(index))
				val = append(val, f)
			}
			i = skipSpace(src, end)
			if i < len(src) {
				if src[i] == ',' {
					i++
					continue
				}
				if src[i] == '}' {
					i++
					break
				}
			}
			return errSyntax(t, src, i, "")
		}
	}
	i = skipSpace(src, i)
	if i >= len(src) || src[i] != '/' {
		return errSyntax(t, src, i, detailUnexpectedEnd)
	}
	i = skipSpace(src, i+1)
	dimOff := i
	dim, end, ok := parseLong(src, i)
	if !ok {
		return errSyntax(t, src, i, "")
	}
	dim = min(max(dim, math.MinInt32), math.MaxInt32)
	if i = skipSpace(src, end); i != len(src) {
		return errSyntax(t, src, i, detailJunkSparse)
	}
	if dim < 1 {
		return errNoDims(t, dimOff)
	}
	if dim > MaxSparseDim {
		return errTooManyDims(t, dimOff)
	}
	sortSparse(idx, val)
	// The server checks the sorted elements in order: bounds first, then
	// duplicates of the previous index.
	for j, x := range idx {
		if x < 0 || int64(x) >= dim {
			return newError(t, dimOff, CodeData, "sparsevec index out of bounds")
		}
		if j > 0 && x == idx[j-1] {
			return newError(t, dimOff, CodeData, "sparsevec indices must not contain duplicates")
		}
	}
	s.Dim, s.Indices, s.Values = int(dim), idx, val
	return nil
}

// parseLong reads the longest prefix of s[i:] that C's strtol reads in base
// 10 with no leading white space: [+-] digits. Values beyond ±2^40 saturate,
// which the callers' clamping to int32 makes harmless.
func parseLong(s []byte, i int) (int64, int, bool) {
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || s[i]-'0' > 9 {
		return 0, i, false
	}
	var v int64
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		if v < 1<<40 {
			v = v*10 + int64(s[i]-'0')
		}
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// sortSparse sorts idx ascending, moving val along. Input is almost always
// sorted already, which one pass detects; otherwise heapsort: in place,
// O(n log n), no allocation.
func sortSparse(idx []int32, val []float32) {
	sorted := true
	for j := 1; j < len(idx); j++ {
		if idx[j] < idx[j-1] {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	n := len(idx)
	for root := n/2 - 1; root >= 0; root-- {
		siftDown(idx, val, root, n)
	}
	for end := n - 1; end > 0; end-- {
		idx[0], idx[end] = idx[end], idx[0]
		val[0], val[end] = val[end], val[0]
		siftDown(idx, val, 0, end)
	}
}

func siftDown(idx []int32, val []float32, root, n int) {
	for {
		child := 2*root + 1
		if child >= n {
			return
		}
		if child+1 < n && idx[child+1] > idx[child] {
			child++
		}
		if idx[root] >= idx[child] {
			return
		}
		idx[root], idx[child] = idx[child], idx[root]
		val[root], val[child] = val[child], val[root]
		root = child
	}
}
