package vecdecode

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	pgvector "github.com/pgvector/pgvector-go"
)

// randFloats returns n floats of mixed kinds: normal draws, tiny and huge
// magnitudes, subnormals, zeros.
func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r.IntN(8) {
		case 0:
			v[i] = math.Float32frombits(r.Uint32() & 0x807fffff) // subnormal or ±0
		case 1:
			for { // any finite float32
				f := math.Float32frombits(r.Uint32())
				if !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
					v[i] = f
					break
				}
			}
		default:
			v[i] = float32(r.NormFloat64())
		}
	}
	return v
}

var roundTripSizes = []int{1, 2, 3, 7, 16, 100, 384, 768, 1536, 3072, MaxDim}

func TestVectorRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var dst []float32
	for _, n := range roundTripSizes {
		v := randFloats(r, n)
		pv := pgvector.NewVector(v)
		text := pv.String()
		bin, _ := pv.EncodeBinary(nil)
		var err error
		if dst, err = VectorText(dst, []byte(text)); err != nil || !equalBits(dst, v) {
			t.Fatalf("n=%d: text round trip failed: %v", n, err)
		}
		if dst, err = VectorBinary(dst, bin); err != nil || !equalBits(dst, v) {
			t.Fatalf("n=%d: binary round trip failed: %v", n, err)
		}
		// And pgvector-go reads what we read.
		var back pgvector.Vector
		if err := back.Parse(text); err != nil || !equalBits(back.Slice(), dst) {
			t.Fatalf("n=%d: pgvector-go disagrees: %v", n, err)
		}
	}
}

func TestHalfvecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	var dst []float32
	for _, n := range roundTripSizes {
		// Values that are binary16 already round-trip exactly in both forms.
		v := make([]float32, n)
		for i := range v {
			h := uint16(r.Uint32())
			for !halfIsFinite(h) {
				h = uint16(r.Uint32())
			}
			v[i] = halfRef(h)
		}
		text := pgvector.NewHalfVector(v).String()
		var err error
		if dst, err = HalfvecText(dst, []byte(text)); err != nil || !equalBits(dst, v) {
			t.Fatalf("n=%d: text round trip failed: %v", n, err)
		}
		bin := binary.BigEndian.AppendUint16(nil, uint16(n))
		bin = binary.BigEndian.AppendUint16(bin, 0)
		for _, f := range v {
			bin = binary.BigEndian.AppendUint16(bin, Float16Bits(f))
		}
		if dst, err = HalfvecBinary(dst, bin); err != nil || !equalBits(dst, v) {
			t.Fatalf("n=%d: binary round trip failed: %v", n, err)
		}
		// Arbitrary float32 text: each element is the binary16 rounding.
		w := randFloats(r, n)
		for i := range w {
			if math.Abs(float64(w[i])) >= 65520 {
				w[i] = 1
			}
		}
		if dst, err = HalfvecText(dst, []byte(pgvector.NewHalfVector(w).String())); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for i := range w {
			if math.Float32bits(dst[i]) != math.Float32bits(halfRef(halfRoundRef(w[i]))) {
				t.Fatalf("n=%d: %v became %v", n, w[i], dst[i])
			}
		}
	}
}

func TestSparsevecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var s Sparse
	for _, n := range roundTripSizes {
		dense := make([]float32, n)
		for _, i := range r.Perm(n)[:max(1, n/10)] {
			dense[i] = randFloats(r, 1)[0]
		}
		sv := pgvector.NewSparseVector(dense)
		check := func(form string, err error) {
			t.Helper()
			if err != nil || s.Dim != n || !equalInt32(s.Indices, sv.Indices()) || !equalBits(s.Values, sv.Values()) {
				t.Fatalf("n=%d %s: %v (%d %d)", n, form, err, len(s.Indices), len(sv.Indices()))
			}
		}
		check("text", SparsevecText(&s, []byte(sv.String())))
		bin, _ := sv.EncodeBinary(nil)
		check("binary", SparsevecBinary(&s, bin))
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestParseFloatAgainstStrconv compares the hand-written number reader with
// strconv.ParseFloat(s, 32), which rounds once, on decimal inputs both read:
// shortest forms, long forms, exact float32 midpoints and their neighbours
// (where a double rounding would show), subnormals.
func TestParseFloatAgainstStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for i := 0; i < n; i++ {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		var s string
		switch i % 5 {
		case 0:
			s = strconv.FormatFloat(float64(f), 'f', -1, 32)
		case 1:
			s = strconv.FormatFloat(float64(f), 'e', r.IntN(25), 64)
		case 2, 3:
			s = midpoint(f, i%2 == 0, r.IntN(3))
		case 4:
			s = strconv.FormatFloat(float64(math.Float32frombits(r.Uint32()&0x80ffffff)), 'e', r.IntN(20), 64)
		}
		want, err := strconv.ParseFloat(s, 32)
		got, end, k := parseFloat([]byte(s), 0)
		if end != len(s) {
			t.Fatalf("%q: read %d bytes", s, end)
		}
		if err != nil { // out of range
			if k != numOverflow {
				t.Fatalf("%q: kind %d, want overflow", s, k)
			}
			continue
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("%q: got %08x, want %08x", s, math.Float32bits(got), math.Float32bits(float32(want)))
		}
	}
}

// midpoint returns the exact decimal of the midpoint between |f| and the
// next float32 up, or that plus (nudge 1) or minus (nudge 2) a little.
func midpoint(f float32, short bool, nudge int) string {
	f = float32(math.Abs(float64(f)))
	g := math.Nextafter32(f, float32(math.Inf(1)))
	if math.IsInf(float64(g), 0) {
		return "1"
	}
	m := new(big.Float).SetPrec(300).SetFloat64(float64(f))
	m.Add(m, new(big.Float).SetPrec(300).SetFloat64(float64(g)))
	m.Quo(m, big.NewFloat(2))
	digits := 200
	if short {
		digits = 40
	}
	s := m.Text('e', digits)
	mant, exp := s, ""
	for i := range s {
		if s[i] == 'e' {
			mant, exp = s[:i], s[i:]
			break
		}
	}
	for len(mant) > 1 && mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
	}
	switch nudge {
	case 1:
		mant += "00000000001"
	case 2:
		if mant[len(mant)-1] == '5' {
			mant = mant[:len(mant)-1] + "49999999999"
		}
	}
	return mant + exp
}

func TestParseFloatRanges(t *testing.T) {
	for _, c := range []struct {
		in   string
		bits uint32
		end  int
		kind numKind
	}{
		{"1e", f32One, 1, numOK},
		{"1.5e+x", 0x3fc00000, 3, numOK},
		{"0x", 0, 1, numOK},
		{"-0xg", f32Negz, 2, numOK},
		{"0x1p", f32One, 3, numOK},
		{"0x1.8p1junk", 0x40400000, 7, numOK},
		{"infinity", 0x7f800000, 8, numOK},
		{"-infinit", 0xff800000, 4, numOK},
		{"nan(ab_9)x", 0x7fc00000, 9, numOK},
		{"nan(ab", 0x7fc00000, 3, numOK},
		{"nan(a b)", 0x7fc00000, 3, numOK},
		{"e5", 0, 0, numNone},
		{"+", 0, 0, numNone},
		{"-.", 0, 0, numNone},
		{"0x1p-149", f32Min, 8, numOK},
		{"0x1p-150", 0, 8, numUnderflow},
		{"0x1.8p-150", f32Min, 10, numOK},
		{"0x1.000001p-150", f32Min, 15, numOK}, // glibc 2.36 gets this wrong (0)
		{"0x1.fffffep127", f32Max, 14, numOK},
		{"0x1.ffffffp127", 0x7f800000, 14, numOverflow},
		{"0x1.fffffefffffffffffffp127", f32Max, 27, numOK},
		{"1e-46", 0, 5, numUnderflow},
		{"-1e-46", f32Negz, 6, numUnderflow},
		{"0e-999", 0, 6, numOK},
		{"1e40", 0x7f800000, 4, numOverflow},
		{"-1e40", 0xff800000, 5, numOverflow},
	} {
		f, end, k := parseFloat([]byte(c.in), 0)
		bits := math.Float32bits(f)
		if math.IsNaN(float64(f)) {
			bits = 0x7fc00000
		}
		if bits != c.bits || end != c.end || k != c.kind {
			t.Errorf("parseFloat(%q) = %08x, %d, %d; want %08x, %d, %d", c.in, bits, end, k, c.bits, c.end, c.kind)
		}
	}
}

// halfRef converts binary16 to float32 by arithmetic, independently of
// halfToFloat32's bit trick.
func halfRef(h uint16) float32 {
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	var v float64
	if e == 0 {
		v = math.Ldexp(m, -24)
	} else {
		v = math.Ldexp(1024+m, e-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return float32(v)
}

// halfRoundRef rounds f to binary16 by comparing with the two neighbouring
// binary16 values (exact in float64), ties to the even one.
func halfRoundRef(f float32) uint16 {
	x := math.Abs(float64(f))
	var sign uint16
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	// Largest h with halfRef(h) <= x.
	lo := uint16(0)
	for h := uint16(0x4000); h > 0; h >>= 1 {
		if c := lo | h; c <= 0x7c00 && float64(halfRef(c)) <= x {
			lo = c
		}
	}
	if lo == 0x7c00 || float64(halfRef(lo)) == x {
		return sign | lo
	}
	hi := lo + 1
	dlo, dhi := x-float64(halfRef(lo)), float64(halfRef(hi))-x
	if hi == 0x7c00 {
		dhi = 65536 - x // binary16 infinity stands for 2^16 when rounding
	}
	if dlo < dhi || dlo == dhi && lo&1 == 0 {
		return sign | lo
	}
	return sign | hi
}

func TestHalfConversions(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if !halfIsFinite(uint16(h)) {
			continue
		}
		f := halfToFloat32(uint16(h))
		if math.Float32bits(f) != math.Float32bits(halfRef(uint16(h))) {
			t.Fatalf("halfToFloat32(%04x) = %v, want %v", h, f, halfRef(uint16(h)))
		}
		if back := Float16Bits(f); back != uint16(h) {
			t.Fatalf("Float16Bits(halfToFloat32(%04x)) = %04x", h, back)
		}
		// Around the midpoint to the next binary16 up: ties to even, and the
		// float32 neighbours of the midpoint go their own way.
		if h&0x7fff == 0x7bff {
			continue
		}
		next := halfRef(uint16(h) + 1)
		if h&0x8000 != 0 && h&0x7fff == 0 {
			continue
		}
		mid := float32((float64(f) + float64(next)) / 2)
		for _, x := range []float32{mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, float32(math.Inf(1))), math.Nextafter32(mid, float32(math.Inf(-1)))} {
			if got, want := Float16Bits(x), halfRoundRef(x); got != want {
				t.Fatalf("Float16Bits(%v) = %04x, want %04x", x, got, want)
			}
		}
	}
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00}, {-65520, 0xfc00}, {1e10, 0x7c00},
		{float32(math.Inf(1)), 0x7c00}, {1.0004883, 0x3c00}, {0x1p-25, 0}, {0x1.000002p-25, 1},
		{0x1p-149, 0}, {-0x1p-26, 0x8000}, {0x1.ffcp-15, 0x0400}, {0x1.ff8p-15, 0x03ff},
	} {
		if got := Float16Bits(c.f); got != c.h {
			t.Errorf("Float16Bits(%v) = %04x, want %04x", c.f, got, c.h)
		}
	}
	if h := Float16Bits(float32(math.NaN())); halfIsFinite(h) || h&0x3ff == 0 {
		t.Errorf("Float16Bits(NaN) = %04x", h)
	}
}

func TestAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	v := randFloats(r, 1536)
	pv := pgvector.NewVector(v)
	vtext := []byte(pv.String())
	vbin, _ := pv.EncodeBinary(nil)
	hv := make([]float32, 100)
	for i := range hv {
		hv[i] = float32(r.NormFloat64())
	}
	htext := []byte(pgvector.NewHalfVector(hv).String())
	hbin := be(uint16(3), uint16(0), uint16(0x3c00), uint16(0x0001), uint16(0xc000))
	dense := make([]float32, 64)
	dense[3], dense[40] = 1.5, -2
	sv := pgvector.NewSparseVector(dense)
	stext := []byte(sv.String())
	sbin, _ := sv.EncodeBinary(nil)
	slow := []byte("[1.00000005960464477539062500000001,1e-40,0x1.8p-3]")
	dst := make([]float32, 0, 1536)
	var s Sparse
	_ = SparsevecText(&s, stext)
	for _, c := range []struct {
		name string
		fn   func() int // returns the number of elements decoded
		want int
	}{
		{"VectorText", func() int { dst, _ = VectorText(dst, vtext); return len(dst) }, 1536},
		{"VectorBinary", func() int { dst, _ = VectorBinary(dst, vbin); return len(dst) }, 1536},
		{"HalfvecText", func() int { dst, _ = HalfvecText(dst, htext); return len(dst) }, 100},
		{"HalfvecBinary", func() int { dst, _ = HalfvecBinary(dst, hbin); return len(dst) }, 3},
		{"SparsevecText", func() int { _ = SparsevecText(&s, stext); return len(s.Values) }, 2},
		{"SparsevecBinary", func() int { _ = SparsevecBinary(&s, sbin); return len(s.Values) }, 2},
		{"slow path", func() int { dst, _ = VectorText(dst, slow); return len(dst) }, 3},
	} {
		if n := c.fn(); n != c.want {
			t.Errorf("%s decoded %d elements, want %d", c.name, n, c.want)
		}
		if a := testing.AllocsPerRun(100, func() { c.fn() }); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", c.name, a)
		}
	}
}

func TestEightDigits(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for i := 0; i < 10000; i++ {
		n := r.Uint64N(100000000)
		s := []byte(strconv.FormatUint(n+100000000, 10)[1:]) // eight digits, leading zeros kept
		if got := eightDigits(binary.LittleEndian.Uint64(s)); got != n {
			t.Fatalf("eightDigits(%s) = %d", s, got)
		}
	}
	// The eight-at-a-time loop must stop at any non-digit in the window.
	for _, c := range []struct {
		in, num string // num: the prefix parseFloat must read
	}{
		{"0.1234567,", "0.1234567"},
		{"0.12345678,1", "0.12345678"},
		{"0.1234567e1", "0.1234567e1"},
		{"0.123456789012345678", "0.123456789012345678"},
		{"0.12345678/", "0.12345678"},
		{"0.1234567:8", "0.1234567"},
		{"-12.1234567890123456789", "-12.1234567890123456789"},
	} {
		want, _ := strconv.ParseFloat(c.num, 32)
		got, end, _ := parseFloat([]byte(c.in), 0)
		if got != float32(want) || end != len(c.num) {
			t.Errorf("parseFloat(%q) = %v, %d; want %v, %d", c.in, got, end, float32(want), len(c.num))
		}
	}
}
