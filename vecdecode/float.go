package vecdecode

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// numKind says how parseFloat ended, in the terms pgvector tests after C's
// strtof: whether anything was converted and whether errno became ERANGE.
type numKind uint8

const (
	numOK        numKind = iota
	numNone              // nothing converted: strtof would set *endptr to its argument
	numOverflow          // finite input beyond float32: ±Inf with ERANGE
	numUnderflow         // non-zero input that rounds to ±0, with ERANGE
)

// isSpace reports the white space PostgreSQL's scanner_isspace and pgvector
// skip: space, tab, newline, carriage return, vertical tab and form feed.
func isSpace(c byte) bool {
	return c == ' ' || c-'\t' <= '\r'-'\t' // \t \n \v \f \r are 9..13
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// pow10 holds the powers of ten that are exact in float64 (10^22 < 2^53·2^22).
var pow10 = [...]float64{
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// expCap bounds the exponents we accumulate. Any |exponent| beyond it, with
// at most len(input) digits around it, is far outside float32's range, and
// keeping it small keeps the arithmetic below from overflowing int.
const expCap = 100_000_000

// parseFloat reads the longest prefix of s[start:] that glibc's strtof reads
// in the C locale, with no leading white space (the callers skip it):
//
//	[+-] ( digits [. [digits]] | . digits ) [ (e|E) [+-] digits ]
//	[+-] 0 (x|X) ( hex [. [hex]] | . hex ) [ (p|P) [+-] digits ]
//	[+-] ( inf | infinity | nan | nan( [A-Za-z0-9_]* ) )   any case
//
// An exponent without digits is not part of the number ("1e" reads "1"), nor
// is "x" without a hex digit after it ("0x" reads "0"). The value is the
// input rounded once to the nearest float32, ties to even, as strtof does.
// It returns the value, the end of the prefix and how the conversion went.
func parseFloat(s []byte, start int) (float32, int, numKind) {
	i := start
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) {
		return 0, start, numNone
	}
	c := s[i]
	if c-'0' > 9 && c != '.' {
		return parseSpecial(s, start, i, neg)
	}
	if c == '0' && i+1 < len(s) && s[i+1]|0x20 == 'x' {
		f, end, k := parseHex(s, i+2)
		if k == numNone {
			// "0x" with no hex digit: strtof reads the "0" alone.
			f, end, k = 0, i+1, numOK
		}
		if neg {
			f = -f
		}
		return f, end, k
	}

	// Decimal. The hot loops only accumulate: with at most 19 digits in
	// all, mant is exact whatever leading zeros there are; longer inputs
	// take longDecimal, which reads the digits again.
	digStart := i
	var mant uint64
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	ndig := i - digStart
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		// Fractions are often eight digits or more: take eight at a time
		// while every byte is in '0'..'9' (high nibble 3, also after +6).
		for i+8 <= len(s) {
			v := binary.LittleEndian.Uint64(s[i:])
			if v&(v+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 {
				break
			}
			mant = mant*100000000 + eightDigits(v)
			i += 8
		}
		for ; i < len(s); i++ {
			d := s[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		frac = i - fracStart
		ndig += frac
	}
	if ndig == 0 {
		return 0, start, numNone // ".", "+.", "-.e5"
	}
	digEnd := i
	exp := 0
	if i < len(s) && s[i]|0x20 == 'e' {
		exp, i = exponent(s, i)
	}
	var f float32
	var k numKind
	if ndig <= 19 {
		f, k = decimalToFloat32(mant, exp-frac)
	} else {
		f, k = longDecimal(s[digStart:digEnd], exp)
	}
	if neg {
		f = -f
	}
	return f, i, k
}

// exponent reads the exponent whose marker ('e' of a decimal, 'p' of a hex
// float) is at s[i]: an optional sign and decimal digits, the magnitude
// capped at expCap. It returns the exponent and the end of it, or 0 and i
// when no digit follows: the marker is then not part of the number.
func exponent(s []byte, i int) (int, int) {
	j := i + 1
	neg := false
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		neg = s[j] == '-'
		j++
	}
	if j >= len(s) || s[j]-'0' > 9 {
		return 0, i
	}
	e := 0
	for ; j < len(s) && s[j]-'0' <= 9; j++ {
		if e < expCap {
			e = e*10 + int(s[j]-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, j
}

// eightDigits returns the value of the eight ASCII digits in v, the first
// in the lowest byte: pairs, then quads, then all eight, by multiplication.
func eightDigits(v uint64) uint64 {
	v -= 0x3030303030303030
	v = v*10 + v>>8 // each byte pair: 10·first + second, in its low byte
	const mask = 0x000000ff000000ff
	return (v&mask*(100+1000000<<32) + (v>>16)&mask*(1+10000<<32)) >> 32
}

// decimalToFloat32 rounds mant × 10^e to float32, once; mant < 10^19.
func decimalToFloat32(mant uint64, e int) (float32, numKind) {
	if mant == 0 {
		return 0, numOK
	}
	// Fast path, exact: mant < 2^53 and 10^|e| <= 10^22 are exact float64s,
	// so r is the value rounded once, to float64. Rounding r again to
	// float32 gives the correctly rounded value unless r is a float32
	// midpoint (low 29 of its 52 fraction bits exactly 1000...0): float32
	// midpoints are float64s, so r lies between the same two midpoints as
	// the exact value, and only landing on one can change the outcome.
	// r stays within [1e-22, 2^53·1e22] ⊂ float32's normal range.
	if mant < 1<<53 && e >= -22 && e <= 22 {
		r := float64(mant)
		if e >= 0 {
			r *= pow10[e]
		} else {
			r /= pow10[-e]
		}
		if math.Float64bits(r)&(1<<29-1) != 1<<28 {
			return float32(r), numOK
		}
	}
	nd := 1
	for x := mant; x >= 10; x /= 10 {
		nd++
	}
	return slowDecimal(nil, mant, nd, e+nd)
}

// longDecimal rounds a significand of more than 19 digits (digits: the
// digit text with any '.') times 10^exp to float32, once.
func longDecimal(digits []byte, exp int) (float32, numKind) {
	// The value is 0.d1d2...dn × 10^(dp+exp), d1 != 0; mant holds the
	// first (at most 19) significant digits.
	var mant uint64
	nd, dp := 0, 0
	frac := false
	for _, c := range digits {
		if c == '.' {
			frac = true
			continue
		}
		if nd == 0 && c == '0' {
			if frac {
				dp--
			}
			continue
		}
		if nd < 19 {
			mant = mant*10 + uint64(c-'0')
		}
		nd++
		if !frac {
			dp++
		}
	}
	if nd <= 19 {
		return decimalToFloat32(mant, dp+exp-nd)
	}
	return slowDecimal(digits, mant, nd, dp+exp)
}

// maxSlowDigits is how many significant digits slowDecimal keeps. Every
// float32 midpoint (the value where rounding changes) is q·2^j with
// q < 2^25 and j >= -150, so it has at most 8 + 150·log10(5) < 114
// significant decimal digits; the first 200 digits and a sticky digit for
// the rest therefore place the input on the same side of every midpoint as
// the full input, which is all rounding needs.
const maxSlowDigits = 200

// slowDecimal rounds 0.d1d2...dn × 10^k to float32 for the cases the fast
// path leaves: many digits, large exponents, double-rounding hazards. digits
// is the digit text (with any '.'), mant its first digits when nd <= 19.
// It rewrites the number as "D...De±X" with few digits and a small exponent
// and lets strconv.ParseFloat, which rounds once, do the work: that keeps
// Go's own syntax and exponent limits out of the picture.
func slowDecimal(digits []byte, mant uint64, nd, k int) (float32, numKind) {
	// 0.d... × 10^k lies in [10^(k-1), 10^k).
	if k >= 40 {
		return float32(math.Inf(1)), numOverflow // >= 1e39
	}
	if k <= -46 {
		return 0, numUnderflow // < 1e-46, below half the smallest subnormal
	}
	var buf [maxSlowDigits + 1 + 8]byte
	b := buf[:0]
	n := 0
	if nd <= 19 {
		b = strconv.AppendUint(b, mant, 10)
		n = nd
	} else {
		sticky := false
		for _, c := range digits {
			if c == '.' || (n == 0 && c == '0') {
				continue
			}
			if n < maxSlowDigits {
				b = append(b, c)
				n++
			} else if c != '0' {
				sticky = true
				break
			}
		}
		if sticky {
			b = append(b, '1')
			n++
		}
	}
	b = append(b, 'e')
	b = strconv.AppendInt(b, int64(k-n), 10)
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 32)
	switch {
	case err != nil || math.IsInf(v, 0):
		return float32(math.Inf(1)), numOverflow
	case v == 0:
		return 0, numUnderflow
	}
	return float32(v), numOK
}

// parseHex reads the hex significand, starting just after "0x", and its
// optional binary exponent, and rounds the value to float32 (ties to even).
// It returns numNone when no hex digit follows.
func parseHex(s []byte, i int) (float32, int, numKind) {
	var mant uint64 // the first significant bits, at most 64
	exp2 := 0       // value = mant × 2^exp2 (× more, via sticky)
	sticky := false
	sawDigit := false
	frac := false
	for ; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c-'0' <= 9:
			d = uint64(c - '0')
		case c|0x20-'a' <= 'f'-'a':
			d = uint64(c|0x20-'a') + 10
		case c == '.' && !frac:
			frac = true
			continue
		default:
			goto digitsDone
		}
		sawDigit = true
		switch {
		case mant>>60 == 0:
			mant = mant<<4 | d
			if frac {
				exp2 -= 4
			}
		default:
			// No room: the digit only matters as a sticky bit.
			sticky = sticky || d != 0
			if !frac {
				exp2 += 4
			}
		}
		if exp2 > expCap || exp2 < -expCap {
			exp2 = max(min(exp2, expCap), -expCap)
		}
	}
digitsDone:
	if !sawDigit {
		return 0, 0, numNone
	}
	if i < len(s) && s[i]|0x20 == 'p' {
		var e int
		e, i = exponent(s, i)
		exp2 += e
	}
	f, k := roundBinary(mant, exp2, sticky)
	return f, i, k
}

// roundBinary rounds mant × 2^exp2 to float32, ties to even; sticky says the
// true significand has non-zero bits below mant's.
func roundBinary(mant uint64, exp2 int, sticky bool) (float32, numKind) {
	if mant == 0 {
		return 0, numOK
	}
	lz := bits.LeadingZeros64(mant)
	mant <<= uint(lz)
	if sticky {
		mant |= 1 // mant had >= 61 bits, so lz <= 3 and bit 0 is below the cut
	}
	e := exp2 - lz + 63 // value = 1.xxx × 2^e
	if e > 127 {
		return float32(math.Inf(1)), numOverflow
	}
	shift := uint(40) // keep 24 of 64 bits
	if e < -126 {
		shift += uint(-126 - e)
		if shift > 64 {
			return 0, numUnderflow
		}
	}
	var m, rem, half uint64
	if shift == 64 {
		m, rem, half = 0, mant, 1<<63
	} else {
		m, rem, half = mant>>shift, mant&(1<<shift-1), 1<<(shift-1)
	}
	if rem > half || rem == half && m&1 == 1 {
		m++
	}
	if e < -126 {
		// Subnormal: m < 2^23 encodes itself; m == 2^23 after rounding up
		// encodes the smallest normal number, also as itself.
		if m == 0 {
			return 0, numUnderflow
		}
		return math.Float32frombits(uint32(m)), numOK
	}
	if m == 1<<24 {
		m >>= 1
		e++
		if e > 127 {
			return float32(math.Inf(1)), numOverflow
		}
	}
	return math.Float32frombits(uint32(e+127)<<23 | uint32(m)&(1<<23-1)), numOK
}

// parseSpecial reads inf, infinity and nan (any case), i being just after
// the optional sign at start.
func parseSpecial(s []byte, start, i int, neg bool) (float32, int, numKind) {
	switch {
	case hasPrefixFold(s[i:], "infinity"):
		i += 8
	case hasPrefixFold(s[i:], "inf"):
		i += 3
	case hasPrefixFold(s[i:], "nan"):
		i += 3
		if i < len(s) && s[i] == '(' {
			j := i + 1
			for j < len(s) && (s[j]-'0' <= 9 || s[j]|0x20-'a' <= 'z'-'a' || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				i = j + 1
			}
		}
		return float32(math.NaN()), i, numOK
	default:
		return 0, start, numNone
	}
	if neg {
		return float32(math.Inf(-1)), i, numOK
	}
	return float32(math.Inf(1)), i, numOK
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word w,
// ignoring case.
func hasPrefixFold(s []byte, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if s[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}
