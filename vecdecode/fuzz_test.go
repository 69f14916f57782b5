package vecdecode

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"testing"

	pgvector "github.com/pgvector/pgvector-go"
)

// The fuzz targets check that no input panics, that every error is an
// *Error, that output agrees with its header, and that a decoded value
// survives a round trip through pgvector-go's encoder. The text targets
// also compare plain decimal elements with strconv.ParseFloat, which rounds
// once as strtof does. Seeds: f.Add below and testdata/fuzz/<FuzzName>/.

func FuzzVectorText(f *testing.F) {
	for _, c := range vectorTextCases {
		if len(c.in) < 200 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := VectorText(nil, src)
		if err != nil {
			mustBeError(t, err)
			return
		}
		if len(got) < 1 || len(got) > MaxDim {
			t.Fatalf("decoded %d elements", len(got))
		}
		again, err := VectorText(nil, []byte(pgvector.NewVector(got).String()))
		if err != nil || !equalBits(again, got) {
			t.Fatalf("pgvector-go round trip: %v", err)
		}
		checkPlainDecimals(t, src, got, func(f float32) float32 { return f })
	})
}

func FuzzHalfvecText(f *testing.F) {
	for _, c := range halfvecTextCases {
		if len(c.in) < 200 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := HalfvecText(nil, src)
		if err != nil {
			mustBeError(t, err)
			return
		}
		if len(got) < 1 || len(got) > MaxDim {
			t.Fatalf("decoded %d elements", len(got))
		}
		for _, x := range got {
			if halfToFloat32(Float16Bits(x)) != x {
				t.Fatalf("%v is not a binary16 value", x)
			}
		}
		again, err := HalfvecText(nil, []byte(pgvector.NewHalfVector(got).String()))
		if err != nil || !equalBits(again, got) {
			t.Fatalf("pgvector-go round trip: %v", err)
		}
		checkPlainDecimals(t, src, got, func(f float32) float32 { return halfRef(halfRoundRef(f)) })
	})
}

func FuzzSparsevecText(f *testing.F) {
	for _, c := range sparsevecTextCases {
		if len(c.in) < 200 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var s Sparse
		if err := SparsevecText(&s, src); err != nil {
			mustBeError(t, err)
			return
		}
		checkSparse(t, &s)
		m := make(map[int32]float32, len(s.Indices))
		for i, x := range s.Indices {
			m[x] = s.Values[i]
		}
		sv := pgvector.NewSparseVectorFromMap(m, int32(s.Dim))
		var again Sparse
		if err := SparsevecText(&again, []byte(sv.String())); err != nil || again.Dim != s.Dim ||
			!equalInt32(again.Indices, s.Indices) || !equalBits(again.Values, s.Values) {
			t.Fatalf("pgvector-go round trip: %v", err)
		}
	})
}

func FuzzVectorBinary(f *testing.F) {
	for _, c := range vectorBinaryCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := VectorBinary(nil, src)
		if err != nil {
			mustBeError(t, err)
			return
		}
		if dim := int(src[0])<<8 | int(src[1]); len(got) != dim || len(src) != 4+4*dim {
			t.Fatalf("decoded %d elements from %d bytes", len(got), len(src))
		}
		again, _ := pgvector.NewVector(got).EncodeBinary(nil)
		if !bytes.Equal(again, src) {
			t.Fatalf("pgvector-go re-encodes differently")
		}
	})
}

func FuzzHalfvecBinary(f *testing.F) {
	for _, c := range halfvecBinaryCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := HalfvecBinary(nil, src)
		if err != nil {
			mustBeError(t, err)
			return
		}
		if dim := int(src[0])<<8 | int(src[1]); len(got) != dim || len(src) != 4+2*dim {
			t.Fatalf("decoded %d elements from %d bytes", len(got), len(src))
		}
		for i, x := range got {
			h := uint16(src[4+2*i])<<8 | uint16(src[5+2*i])
			if math.Float32bits(x) != math.Float32bits(halfRef(h)) {
				t.Fatalf("element %d: %04x decoded as %v", i, h, x)
			}
		}
	})
}

func FuzzSparsevecBinary(f *testing.F) {
	for _, c := range sparsevecBinaryCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var s Sparse
		if err := SparsevecBinary(&s, src); err != nil {
			mustBeError(t, err)
			return
		}
		checkSparse(t, &s)
		if len(src) != 12+8*len(s.Indices) {
			t.Fatalf("decoded %d elements from %d bytes", len(s.Indices), len(src))
		}
		m := make(map[int32]float32, len(s.Indices))
		for i, x := range s.Indices {
			m[x] = s.Values[i]
		}
		again, _ := pgvector.NewSparseVectorFromMap(m, int32(s.Dim)).EncodeBinary(nil)
		if !bytes.Equal(again, src) {
			t.Fatalf("pgvector-go re-encodes differently")
		}
	})
}

func mustBeError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Msg == "" || len(e.Code) != 5 || e.Offset < 0 {
		t.Fatalf("bad error %#v", err)
	}
}

func checkSparse(t *testing.T, s *Sparse) {
	t.Helper()
	if s.Dim < 1 || s.Dim > MaxSparseDim || len(s.Indices) != len(s.Values) || len(s.Indices) > MaxDim {
		t.Fatalf("bad sparse header: dim %d, %d indices, %d values", s.Dim, len(s.Indices), len(s.Values))
	}
	for i, x := range s.Indices {
		if x < 0 || int(x) >= s.Dim || i > 0 && x <= s.Indices[i-1] {
			t.Fatalf("bad index %d at %d", x, i)
		}
		if v := s.Values[i]; v == 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("bad value %v at %d", v, i)
		}
	}
}

// checkPlainDecimals splits src, which decoded to got, at its commas and
// compares each element that is a plain decimal number with
// strconv.ParseFloat(element, 32), passed through round.
func checkPlainDecimals(t *testing.T, src []byte, got []float32, round func(float32) float32) {
	t.Helper()
	body := bytes.TrimFunc(src, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	body = body[1 : len(body)-1] // the brackets
	for i, el := range bytes.Split(body, []byte{','}) {
		el = bytes.TrimFunc(el, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
		if !plainDecimal(el) || len(el) > 1000 {
			continue
		}
		want, err := strconv.ParseFloat(string(el), 32)
		if err != nil {
			t.Fatalf("element %q: decoded as %v, strconv says %v", el, got[i], err)
		}
		if w := round(float32(want)); math.Float32bits(w) != math.Float32bits(got[i]) {
			t.Fatalf("element %q: decoded as %v, want %v", el, got[i], w)
		}
	}
}

// plainDecimal reports whether s is [+-](digits[.digits]|.digits)[e[+-]digits]
// with a short exponent, the syntax strconv and strtof read alike.
func plainDecimal(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := 0
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			n++
		}
		if n == 0 || n > 4 {
			return false
		}
	}
	return i == len(s)
}
