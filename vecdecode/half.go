package vecdecode

import "math"

// Float16Bits returns the IEEE 754 binary16 bits nearest to f, ties to
// even, as pgvector's Float4ToHalfUnchecked does (F16C's vcvtps2ph with
// rounding mode 0, _Float16 conversion, or its portable code, which agree),
// and as github.com/x448/float16's Fromfloat32, which pgvector-go's pgx
// codec uses for halfvec's binary format. Values below 2^-14 in magnitude
// become binary16 subnormals (or a signed zero below 2^-25, and at 2^-25
// exactly, the tie going to even zero); finite values of magnitude >= 65520
// become infinities; infinities stay infinities; NaN stays NaN, quieted,
// with the top 10 bits of its payload. It is the only float32 -> binary16
// encoder in this module: the decoders and every test that writes a halfvec
// use it.
func Float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(man>>13)
	}
	e := exp - 127 + 15 // binary16 biased exponent
	if e >= 31 {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero in binary16: count units of 2^-24.
		// f = 1.man × 2^(exp-127) = (man|2^23) × 2^(exp-150), so the
		// number of units is (man|2^23) >> (126-exp).
		shift := uint(14 - e)
		if shift > 24 || exp == 0 {
			return sign // below 2^-25 (or a float32 subnormal): rounds to 0
		}
		m := man | 1<<23
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && h&1 == 1 {
			h++ // may carry into the smallest normal, 0x0400: still right
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // a carry into the exponent is right, up to 0x7c00 = infinity
	}
	return sign | uint16(h)
}

// halfToFloat32 converts binary16 h to float32 exactly (every binary16 is a
// float32), including subnormals. Callers reject NaN and infinities first.
//
// A normal h moves over bit for bit: the fraction shifts left by 13 and the
// exponent bias grows from 15 to 127. For a subnormal (or zero), the same
// shift gives the float32 h × 2^-112, and multiplying by 2^112 is exact.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	m := uint32(h&0x7fff) << 13
	if h&0x7c00 != 0 {
		return math.Float32frombits(sign | (m + (127-15)<<23))
	}
	f := math.Float32frombits(m) * 0x1p112
	return math.Float32frombits(math.Float32bits(f) | sign)
}

// RoundHalf rounds each element of v in place to the nearest binary16
// value (ties to even), the value PostgreSQL stores when a vector is cast
// to halfvec. It reports false if an element is NaN, infinite or of
// magnitude >= 65520, which binary16 cannot hold (the server rejects such a
// cast); v then holds the rounded prefix and the rest unchanged.
func RoundHalf(v []float32) bool {
	for i, f := range v {
		h := Float16Bits(f)
		if !halfIsFinite(h) {
			return false
		}
		v[i] = halfToFloat32(h)
	}
	return true
}

// halfIsFinite reports whether binary16 h is neither NaN nor infinite.
func halfIsFinite(h uint16) bool { return h&0x7c00 != 0x7c00 }
