package vecdecode

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// bitsOf returns the float32 bit patterns of v, so that -0 and 0 differ.
func bitsOf(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, f := range v {
		b[i] = math.Float32bits(f)
	}
	return b
}

func sameBits(a []float32, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != b[i] {
			return false
		}
	}
	return true
}

// checkErr asserts err is an *Error with the code and message (the message
// may be given as a prefix ending in "...").
func checkErr(t *testing.T, name string, err error, code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v, want *Error %s %q", name, err, code, msg)
		return
	}
	ok := e.Msg == msg
	if p, cut := strings.CutSuffix(msg, "..."); cut {
		ok = strings.HasPrefix(e.Msg, p)
	}
	if e.Code != code || !ok {
		t.Errorf("%s: got %s %q, want %s %q", name, e.Code, e.Msg, code, msg)
	}
	if !strings.HasPrefix(e.Error(), e.Msg) {
		t.Errorf("%s: Error() %q does not start with the message", name, e.Error())
	}
}

const (
	f32One   = 0x3f800000
	f32Two   = 0x40000000
	f32Half  = 0x3f000000
	f32Negz  = 0x80000000
	f32Min   = 0x00000001 // smallest subnormal, 2^-149
	f32Max   = 0x7f7fffff
	f32Tenth = 0x3dcccccd // 0.1 rounded once
)

type denseCase struct {
	in   string
	want []uint32 // nil: an error is expected
	code string
	msg  string
}

var vectorTextCases = []denseCase{
	{in: "[1,2.5,-3e-2]", want: []uint32{f32One, 0x40200000, 0xbcf5c28f}},
	{in: "[1]", want: []uint32{f32One}},
	// White space: space, \t, \n, \r, \v, \f around every token.
	{in: "[ 1 , 2 ]", want: []uint32{f32One, f32Two}},
	{in: " \t\n\r\v\f[\t\n\r\v\f1\v,\f2\r]\n\t \v\f", want: []uint32{f32One, f32Two}},
	// strtof number syntax.
	{in: "[+1,.5,5.,1E2,1e+2,1.e1,-.5]", want: []uint32{f32One, f32Half, 0x40a00000, 0x42c80000, 0x42c80000, 0x41200000, 0xbf000000}},
	{in: "[0x10,0x1p-3,0X1P+1,0x.8,0x1.,-0x1.8p1,0x00000000000000000001p0]", want: []uint32{0x41800000, 0x3e000000, f32Two, f32Half, f32One, 0xc0400000, f32One}},
	{in: "[0,-0,0e99999999999,-0.000]", want: []uint32{0, f32Negz, 0, f32Negz}},
	{in: "[0.1,000.1000,1e-1,0.1e0,100e-3]", want: []uint32{f32Tenth, f32Tenth, f32Tenth, f32Tenth, f32Tenth}},
	// Round once from decimal: 0.30000001192092896 is float32(0.3) exactly.
	{in: "[0.30000001192092896,3.4028235e38,-3.4028235e38]", want: []uint32{0x3e99999a, f32Max, 0x80000000 | f32Max}},
	// Midpoint between 1 and the next float32 (1+2^-24): ties to even (1);
	// a hair above rounds up.
	{in: "[1.000000059604644775390625,1.000000059604644775390626]", want: []uint32{f32One, 0x3f800001}},
	// Just below 3.40282356779733661637539395458142568448e38, the midpoint
	// between the largest float32 and 2^128 (from which on it overflows).
	{in: "[3.4028235677973366e38]", want: []uint32{f32Max}},
	// Underflow is silent: 0 or a subnormal.
	{in: "[1e-46,1e-45,-1e-46,1e-99999]", want: []uint32{0, f32Min, f32Negz, 0}},
	{in: "[1.1754942e-38,1.4e-45,7.006492321624086e-46]", want: []uint32{0x007fffff, f32Min, f32Min}},
	// Many digits, exact rounding.
	{in: "[" + "1" + strings.Repeat("0", 300) + "e-300]", want: []uint32{f32One}},
	{in: "[0." + strings.Repeat("0", 400) + "1e401]", want: []uint32{f32One}},
	{in: "[16777217,16777217.000000000000000000001]", want: []uint32{0x4b800000, 0x4b800001}},

	// Errors, in the server's words.
	{in: "[]", code: CodeData, msg: "vector must have at least 1 dimension"},
	{in: " [ \n ] ", code: CodeData, msg: "vector must have at least 1 dimension"},
	{in: "[nan]", code: CodeData, msg: "NaN not allowed in vector"},
	{in: "[1,NaN(123_abc)]", code: CodeData, msg: "NaN not allowed in vector"},
	{in: "[-NAN]", code: CodeData, msg: "NaN not allowed in vector"},
	{in: "[nanx]", code: CodeData, msg: "NaN not allowed in vector"}, // checked before what follows
	{in: "[inf]", code: CodeData, msg: "infinite value not allowed in vector"},
	{in: "[-Infinity]", code: CodeData, msg: "infinite value not allowed in vector"},
	{in: "[+INFINIT]", code: CodeData, msg: "infinite value not allowed in vector"},
	{in: "[1e39]", code: CodeOutOfRange, msg: `"1e39" is out of range for type vector`},
	{in: "[3.4028236e38]", code: CodeOutOfRange, msg: `"3.4028236e38" is out of range for type vector`},
	{in: "[-1e99999999999999999999]", code: CodeOutOfRange, msg: `"-1e99999999999999999999" is out of range for type vector`},
	{in: "[0x1p128]", code: CodeOutOfRange, msg: `"0x1p128" is out of range for type vector`},
	{in: "[1e39x]", code: CodeOutOfRange, msg: `"1e39" is out of range for type vector`},
	{in: "", code: CodeSyntax, msg: `invalid input syntax for type vector: ""`},
	{in: "1,2", code: CodeSyntax, msg: `invalid input syntax for type vector: "1,2"`},
	{in: "{1,2}", code: CodeSyntax, msg: `invalid input syntax for type vector: "{1,2}"`},
	{in: "[1,2", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1,2"`},
	{in: "[1,]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1,]"`},
	{in: "[,1]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[,1]"`},
	{in: "[1 2]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1 2]"`},
	{in: "[1,,2]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1,,2]"`},
	{in: "[1]x", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1]x"`},
	{in: "[1] ]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1] ]"`},
	{in: "[1e]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1e]"`},
	{in: "[1e+]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1e+]"`},
	{in: "[0x]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[0x]"`},
	{in: "[0x.p1]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[0x.p1]"`},
	{in: "[0x1p]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[0x1p]"`},
	{in: "[0x_1p0]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[0x_1p0]"`},
	{in: "[1_000]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[1_000]"`},
	{in: "[.]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[.]"`},
	{in: "[+]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[+]"`},
	{in: "[in]", code: CodeSyntax, msg: `invalid input syntax for type vector: "[in]"`},
	{in: "[1\x00]", code: CodeSyntax, msg: "invalid input syntax for type vector: ..."},
	{in: "[\u00a01]", code: CodeSyntax, msg: "invalid input syntax for type vector: ..."},
	{in: "[" + strings.Repeat("1,", MaxDim) + "1]", code: CodeLimit, msg: "vector cannot have more than 16000 dimensions"},
	{in: "[" + strings.Repeat("1,", MaxDim) + "x", code: CodeLimit, msg: "vector cannot have more than 16000 dimensions"},
}

// checkDense decodes every case with decode, named fn in failures.
func checkDense(t *testing.T, fn string, decode func([]float32, []byte) ([]float32, error), cases []denseCase) {
	t.Helper()
	for _, c := range cases {
		got, err := decode(nil, []byte(c.in))
		name := shortName(c.in)
		if c.want == nil {
			checkErr(t, name, err, c.code, c.msg)
			continue
		}
		if err != nil || !sameBits(got, c.want) {
			t.Errorf("%s(%q) = %08x, %v; want %08x", fn, name, bitsOf(got), err, c.want)
		}
	}
}

// shortName is the input in as a failure names it: its first 60 bytes.
func shortName(in string) string {
	if len(in) > 60 {
		return in[:60] + "..."
	}
	return in
}

func TestVectorText(t *testing.T) {
	checkDense(t, "VectorText", VectorText, vectorTextCases)
	// 16000 elements is the limit, not beyond it.
	got, err := VectorText(nil, []byte("["+strings.Repeat("1,", MaxDim-1)+"1]"))
	if err != nil || len(got) != MaxDim {
		t.Errorf("16000 elements: len %d, %v", len(got), err)
	}
}

func TestTextErrorDetails(t *testing.T) {
	cases := []struct {
		fn             func([]byte) error
		in             string
		offset         int
		detail, errstr string
	}{
		{vecText, "  x", 2, `Vector contents must start with "[".`, `invalid input syntax for type vector: "  x" (vector input, byte 2)`},
		{vecText, "[1] x", 4, "Junk after closing right brace.", ""},
		{vecText, "[1, 2, 1e39]", 7, "", `"1e39" is out of range for type vector (vector input, byte 7)`},
		{vecText, "[1,x]", 3, "", ""},
		{halfText, "[1,1e5]", 3, "", `"1e5" is out of range for type halfvec (halfvec input, byte 3)`},
		{sparseText, "[1]", 0, `Vector contents must start with "{".`, ""},
		{sparseText, "{1:1}", 5, "Unexpected end of input.", ""},
		{sparseText, "{1:1}/3 x", 8, "Junk after closing.", ""},
	}
	for _, c := range cases {
		var e *Error
		if !errors.As(c.fn([]byte(c.in)), &e) {
			t.Errorf("%q: no *Error", c.in)
			continue
		}
		if e.Offset != c.offset || e.Detail != c.detail || c.errstr != "" && e.Error() != c.errstr {
			t.Errorf("%q: offset %d detail %q Error() %q; want %d %q %q", c.in, e.Offset, e.Detail, e.Error(), c.offset, c.detail, c.errstr)
		}
	}
}

func vecText(b []byte) error  { _, err := VectorText(nil, b); return err }
func halfText(b []byte) error { _, err := HalfvecText(nil, b); return err }
func sparseText(b []byte) error {
	var s Sparse
	return SparsevecText(&s, b)
}

var halfvecTextCases = []denseCase{
	{in: "[1,2.5,-0.03]", want: []uint32{f32One, 0x40200000, 0xbcf5c000}},
	// Two roundings: to float32, then to binary16, ties to even.
	{in: "[1.0004883]", want: []uint32{f32One}},
	{in: "[1.00048828125,1.0014648,1.0004884]", want: []uint32{f32One, 0x3f804000, 0x3f802000}}, // 1.0014648 rounds down if rounded once
	{in: "[65519.99,65504,-65519]", want: []uint32{0x477fe000, 0x477fe000, 0xc77fe000}},
	// binary16 subnormals and underflow: 2^-24 is the smallest, 2^-25 ties to 0.
	{in: "[5.960464477539063e-08,2.98023223876953125e-08,2.9802326e-08,1e-46,-1e-10]", want: []uint32{0x33800000, 0, 0x33800000, 0, f32Negz}},
	{in: "[ 0x1p-14 , 0x1.ffcp15 ]", want: []uint32{0x38800000, 0x477fe000}},

	{in: "[65520]", code: CodeOutOfRange, msg: `"65520" is out of range for type halfvec`},
	{in: "[-1e5]", code: CodeOutOfRange, msg: `"-1e5" is out of range for type halfvec`},
	{in: "[1e39]", code: CodeOutOfRange, msg: `"1e39" is out of range for type halfvec`},
	{in: "[nan]", code: CodeData, msg: "NaN not allowed in halfvec"},
	{in: "[-inf]", code: CodeData, msg: "infinite value not allowed in halfvec"},
	{in: "[]", code: CodeData, msg: "halfvec must have at least 1 dimension"},
	{in: "[1,a]", code: CodeSyntax, msg: `invalid input syntax for type halfvec: "[1,a]"`},
	{in: "[" + strings.Repeat("0,", MaxDim) + "0]", code: CodeLimit, msg: "halfvec cannot have more than 16000 dimensions"},
}

func TestHalfvecText(t *testing.T) {
	checkDense(t, "HalfvecText", HalfvecText, halfvecTextCases)
}

type sparseCase struct {
	in   string
	dim  int
	idx  []int32
	val  []uint32
	code string // "" : success
	msg  string
}

var sparsevecTextCases = []sparseCase{
	{in: "{1:1.5,3:2}/5", dim: 5, idx: []int32{0, 2}, val: []uint32{0x3fc00000, f32Two}},
	{in: " { 1 : 1 , 3\t:\n2 } / 5 ", dim: 5, idx: []int32{0, 2}, val: []uint32{f32One, f32Two}},
	{in: "{}/3", dim: 3},
	{in: "{ }/1", dim: 1},
	{in: "{3:1,1:2,2:3}/3", dim: 3, idx: []int32{0, 1, 2}, val: []uint32{f32Two, 0x40400000, f32One}},
	{in: "{1:0,2:-0,3:1}/3", dim: 3, idx: []int32{2}, val: []uint32{f32One}},
	// Zero values are dropped before indices are checked.
	{in: "{0:0,9:0,1:1,1:0}/3", dim: 3, idx: []int32{0}, val: []uint32{f32One}},
	{in: "{+1:1,0002:0x1p1}/+3", dim: 3, idx: []int32{0, 1}, val: []uint32{f32One, f32Two}},
	{in: "{1:1e-45}/1", dim: 1, idx: []int32{0}, val: []uint32{f32Min}},
	{in: "{1000000000:1}/1000000000", dim: 1000000000, idx: []int32{999999999}, val: []uint32{f32One}},

	{in: "{0:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{4:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{-1:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{99999999999999999999:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{-99999999999999999999:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{1:1,1:2}/3", code: CodeData, msg: "sparsevec indices must not contain duplicates"},
	// Sorted first: the out-of-bounds 5 comes after the duplicate 2s.
	{in: "{5:1,2:1,2:3}/3", code: CodeData, msg: "sparsevec indices must not contain duplicates"},
	{in: "{2:1,2:3,0:1}/3", code: CodeData, msg: "sparsevec index out of bounds"},
	{in: "{1:1}/0", code: CodeData, msg: "sparsevec must have at least 1 dimension"},
	{in: "{}/-5", code: CodeData, msg: "sparsevec must have at least 1 dimension"},
	{in: "{1:1}/1000000001", code: CodeLimit, msg: "sparsevec cannot have more than 1000000000 dimensions"},
	{in: "{1:1}/99999999999999999999", code: CodeLimit, msg: "sparsevec cannot have more than 1000000000 dimensions"},
	{in: "{1:1e-46}/3", code: CodeOutOfRange, msg: `"1e-46" is out of range for type sparsevec`},
	{in: "{1:0x1p-200}/3", code: CodeOutOfRange, msg: `"0x1p-200" is out of range for type sparsevec`},
	{in: "{1:1e39}/3", code: CodeOutOfRange, msg: `"1e39" is out of range for type sparsevec`},
	{in: "{1:nan}/3", code: CodeData, msg: "NaN not allowed in sparsevec"},
	{in: "{1:-inf}/3", code: CodeData, msg: "infinite value not allowed in sparsevec"},
	{in: "{1:1}", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1}"`},
	{in: "{1:1}/", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1}/"`},
	{in: "{1:1}/3x", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1}/3x"`},
	{in: "{1:1}/0x3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1}/0x3"`},
	{in: "{1:1}/3.0", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1}/3.0"`},
	{in: "{1.0:1}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1.0:1}/3"`},
	{in: "{1:1,}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:1,}/3"`},
	{in: "{:1}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{:1}/3"`},
	{in: "{1}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1}/3"`},
	{in: "{1:}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{1:}/3"`},
	{in: "{- 1:1}/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "{- 1:1}/3"`},
	{in: "[1:1]/3", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: "[1:1]/3"`},
	{in: "", code: CodeSyntax, msg: `invalid input syntax for type sparsevec: ""`},
	// The comma count alone decides "too many", before any parsing.
	{in: "{1:1}/3" + strings.Repeat(",", MaxDim), code: CodeLimit, msg: "sparsevec cannot have more than 16000 non-zero elements"},
	{in: "{" + strings.Repeat("1:0,", MaxDim) + "1:0}/3", code: CodeLimit, msg: "sparsevec cannot have more than 16000 non-zero elements"},
}

func TestSparsevecText(t *testing.T) {
	var s Sparse
	for _, c := range sparsevecTextCases {
		err := SparsevecText(&s, []byte(c.in))
		name := shortName(c.in)
		if c.code != "" {
			checkErr(t, name, err, c.code, c.msg)
			continue
		}
		if err != nil || s.Dim != c.dim || !equalInt32(s.Indices, c.idx) || !sameBits(s.Values, c.val) {
			t.Errorf("SparsevecText(%q) = %d %v %08x, %v; want %d %v %08x", name, s.Dim, s.Indices, bitsOf(s.Values), err, c.dim, c.idx, c.val)
		}
	}
	// 16000 elements (15999 commas) is allowed.
	var b strings.Builder
	b.WriteString("{")
	for i := MaxDim; i >= 1; i-- { // descending: exercises the sort
		if i != MaxDim {
			b.WriteByte(',')
		}
		b.WriteString(itoa(i) + ":" + itoa(i))
	}
	b.WriteString("}/16000")
	if err := SparsevecText(&s, []byte(b.String())); err != nil || len(s.Indices) != MaxDim {
		t.Fatalf("16000 elements: %d, %v", len(s.Indices), err)
	}
	for i, x := range s.Indices {
		if x != int32(i) || s.Values[i] != float32(i+1) {
			t.Fatalf("16000 elements: element %d is %d:%v", i, x, s.Values[i])
		}
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

func TestSortSparse(t *testing.T) {
	idx := []int32{5, 3, 9, 1, 3, 0, 7, 2, 8, 6, 4}
	val := make([]float32, len(idx))
	for i, x := range idx {
		val[i] = float32(x) + 0.5
	}
	sortSparse(idx, val)
	for i := range idx {
		if i > 0 && idx[i] < idx[i-1] || val[i] != float32(idx[i])+0.5 {
			t.Fatalf("sortSparse: %v %v", idx, val)
		}
	}
}
