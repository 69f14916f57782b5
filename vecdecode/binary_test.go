package vecdecode

import (
	"encoding/binary"
	"math"
	"testing"
)

// be builds big-endian input from uint16/uint32/int32 pieces.
func be(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case uint16:
			b = binary.BigEndian.AppendUint16(b, p)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, p)
		case int32:
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		case float32:
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(p))
		case []byte:
			b = append(b, p...)
		default:
			panic("be: bad part")
		}
	}
	return b
}

type binCase struct {
	name   string
	in     []byte
	want   []uint32
	code   string
	msg    string
	offset int
}

var vectorBinaryCases = []binCase{
	{name: "ok", in: be(uint16(3), uint16(0), float32(1), float32(-2.5), uint32(f32Min)), want: []uint32{f32One, 0xc0200000, f32Min}},
	{name: "negzero", in: be(uint16(1), uint16(0), uint32(f32Negz)), want: []uint32{f32Negz}},
	{name: "empty", in: nil, code: CodeProtocol, msg: "insufficient data left in message"},
	{name: "short header", in: be(uint16(1), []byte{0}), code: CodeProtocol, msg: "insufficient data left in message", offset: 2},
	{name: "dim 0", in: be(uint16(0), uint16(0)), code: CodeData, msg: "vector must have at least 1 dimension"},
	{name: "dim 16001", in: be(uint16(16001), uint16(0)), code: CodeLimit, msg: "vector cannot have more than 16000 dimensions"},
	{name: "dim 0xffff", in: be(uint16(0xffff), uint16(0)), code: CodeLimit, msg: "vector cannot have more than 16000 dimensions"},
	{name: "dim checked before unused", in: be(uint16(0), uint16(3)), code: CodeData, msg: "vector must have at least 1 dimension"},
	{name: "unused 3", in: be(uint16(1), uint16(3), float32(1)), code: CodeData, msg: "expected unused to be 0, not 3", offset: 2},
	{name: "unused 0xffff", in: be(uint16(1), uint16(0xffff), float32(1)), code: CodeData, msg: "expected unused to be 0, not 65535", offset: 2},
	{name: "nan", in: be(uint16(2), uint16(0), float32(1), uint32(0x7fc00000)), code: CodeData, msg: "NaN not allowed in vector", offset: 8},
	{name: "neg nan", in: be(uint16(1), uint16(0), uint32(0xff800001)), code: CodeData, msg: "NaN not allowed in vector", offset: 4},
	{name: "inf", in: be(uint16(1), uint16(0), uint32(0xff800000)), code: CodeData, msg: "infinite value not allowed in vector", offset: 4},
	{name: "16000 claimed on 10 bytes", in: be(uint16(16000), uint16(0), float32(1), []byte{1, 2}), code: CodeProtocol, msg: "insufficient data left in message", offset: 8},
	{name: "short", in: be(uint16(3), uint16(0), float32(1), float32(2)), code: CodeProtocol, msg: "insufficient data left in message", offset: 12},
	{name: "nan before short", in: be(uint16(3), uint16(0), uint32(0x7f800001)), code: CodeData, msg: "NaN not allowed in vector", offset: 4},
	{name: "extra", in: be(uint16(1), uint16(0), float32(1), []byte{0}), code: CodeBinaryFormat, msg: "incorrect binary data format", offset: 8},
	{name: "inf before extra", in: be(uint16(1), uint16(0), uint32(0x7f800000), []byte{0}), code: CodeData, msg: "infinite value not allowed in vector", offset: 4},
}

func TestVectorBinary(t *testing.T) {
	for _, c := range vectorBinaryCases {
		got, err := VectorBinary(make([]float32, 1), c.in)
		checkBin(t, Vector, c, got, err)
	}
}

func checkBin(t *testing.T, typ Type, c binCase, got []float32, err error) {
	t.Helper()
	if c.code == "" {
		if err != nil || !sameBits(got, c.want) {
			t.Errorf("%v %s: %08x, %v; want %08x", typ, c.name, bitsOf(got), err, c.want)
		}
		return
	}
	checkErr(t, typ.String()+" "+c.name, err, c.code, c.msg)
	if e, ok := err.(*Error); ok && (e.Offset != c.offset || e.Type != typ) {
		t.Errorf("%v %s: offset %d type %v, want %d", typ, c.name, e.Offset, e.Type, c.offset)
	}
}

var halfvecBinaryCases = []binCase{
	// 1, -2, 65504, smallest subnormal 2^-24, largest subnormal, smallest normal, -0.
	{name: "ok", in: be(uint16(7), uint16(0), uint16(0x3c00), uint16(0xc000), uint16(0x7bff), uint16(0x0001), uint16(0x03ff), uint16(0x0400), uint16(0x8000)),
		want: []uint32{f32One, 0xc0000000, 0x477fe000, 0x33800000, 0x387fc000, 0x38800000, f32Negz}},
	{name: "dim 0", in: be(uint16(0), uint16(0)), code: CodeData, msg: "halfvec must have at least 1 dimension"},
	{name: "dim 0xffff", in: be(uint16(0xffff), uint16(0)), code: CodeLimit, msg: "halfvec cannot have more than 16000 dimensions"},
	{name: "unused", in: be(uint16(1), uint16(3), uint16(0)), code: CodeData, msg: "expected unused to be 0, not 3", offset: 2},
	{name: "nan", in: be(uint16(1), uint16(0), uint16(0x7e00)), code: CodeData, msg: "NaN not allowed in halfvec", offset: 4},
	{name: "nan low bit", in: be(uint16(1), uint16(0), uint16(0xfc01)), code: CodeData, msg: "NaN not allowed in halfvec", offset: 4},
	{name: "inf", in: be(uint16(2), uint16(0), uint16(0), uint16(0xfc00)), code: CodeData, msg: "infinite value not allowed in halfvec", offset: 6},
	{name: "short", in: be(uint16(2), uint16(0), uint16(0), []byte{1}), code: CodeProtocol, msg: "insufficient data left in message", offset: 6},
	{name: "extra", in: be(uint16(1), uint16(0), uint16(0), []byte{1}), code: CodeBinaryFormat, msg: "incorrect binary data format", offset: 6},
}

func TestHalfvecBinary(t *testing.T) {
	for _, c := range halfvecBinaryCases {
		got, err := HalfvecBinary(nil, c.in)
		checkBin(t, Halfvec, c, got, err)
	}
}

type sparseBinCase struct {
	name   string
	in     []byte
	dim    int
	idx    []int32
	val    []uint32
	code   string
	msg    string
	offset int
}

var sparsevecBinaryCases = []sparseBinCase{
	{name: "ok", in: be(int32(5), int32(2), int32(0), int32(0), int32(4), float32(1), float32(-2)), dim: 5, idx: []int32{0, 4}, val: []uint32{f32One, 0xc0000000}},
	{name: "empty", in: be(int32(1), int32(0), int32(0)), dim: 1},
	{name: "short header", in: be(int32(5), int32(0)), code: CodeProtocol, msg: "insufficient data left in message", offset: 8},
	{name: "dim 0", in: be(int32(0), int32(0), int32(0)), code: CodeData, msg: "sparsevec must have at least 1 dimension"},
	{name: "dim negative", in: be(uint32(0x80000000), int32(0), int32(0)), code: CodeData, msg: "sparsevec must have at least 1 dimension"},
	{name: "dim too big", in: be(int32(1000000001), int32(0), int32(0)), code: CodeLimit, msg: "sparsevec cannot have more than 1000000000 dimensions"},
	{name: "nnz negative", in: be(int32(5), int32(-1), int32(0)), code: CodeData, msg: "sparsevec cannot have negative number of elements", offset: 4},
	{name: "nnz 16001", in: be(int32(100000), int32(16001), int32(0)), code: CodeLimit, msg: "sparsevec cannot have more than 16000 non-zero elements", offset: 4},
	{name: "nnz > dim", in: be(int32(2), int32(3), int32(0)), code: CodeLimit, msg: "sparsevec cannot have more elements than dimensions", offset: 4},
	{name: "unused", in: be(int32(2), int32(0), int32(-3)), code: CodeData, msg: "expected unused to be 0, not -3", offset: 8},
	{name: "index negative", in: be(int32(5), int32(1), int32(0), int32(-1), float32(1)), code: CodeData, msg: "sparsevec index out of bounds", offset: 12},
	{name: "index = dim", in: be(int32(5), int32(1), int32(0), int32(5), float32(1)), code: CodeData, msg: "sparsevec index out of bounds", offset: 12},
	{name: "descending", in: be(int32(5), int32(2), int32(0), int32(3), int32(1), float32(1), float32(1)), code: CodeData, msg: "sparsevec indices must be in ascending order", offset: 16},
	{name: "duplicate", in: be(int32(5), int32(2), int32(0), int32(3), int32(3), float32(1), float32(1)), code: CodeData, msg: "sparsevec indices must not contain duplicates", offset: 16},
	{name: "zero value", in: be(int32(5), int32(2), int32(0), int32(1), int32(3), float32(1), uint32(f32Negz)), code: CodeData, msg: "binary representation of sparsevec cannot contain zero values", offset: 24},
	{name: "nan value", in: be(int32(5), int32(1), int32(0), int32(1), uint32(0x7fc00000)), code: CodeData, msg: "NaN not allowed in sparsevec", offset: 16},
	{name: "inf value", in: be(int32(5), int32(1), int32(0), int32(1), uint32(0x7f800000)), code: CodeData, msg: "infinite value not allowed in sparsevec", offset: 16},
	{name: "16000 claimed, short", in: be(int32(16000), int32(16000), int32(0), int32(1)), code: CodeProtocol, msg: "insufficient data left in message", offset: 16},
	{name: "bad index before short", in: be(int32(5), int32(3), int32(0), int32(7)), code: CodeData, msg: "sparsevec index out of bounds", offset: 12},
	{name: "values short", in: be(int32(5), int32(2), int32(0), int32(1), int32(2), float32(1)), code: CodeProtocol, msg: "insufficient data left in message", offset: 24},
	{name: "extra", in: be(int32(5), int32(1), int32(0), int32(1), float32(1), []byte{0}), code: CodeBinaryFormat, msg: "incorrect binary data format", offset: 20},
}

func TestSparsevecBinary(t *testing.T) {
	for _, c := range sparsevecBinaryCases {
		var s Sparse
		err := SparsevecBinary(&s, c.in)
		if c.code != "" {
			checkErr(t, "sparsevec "+c.name, err, c.code, c.msg)
			if e, ok := err.(*Error); ok && e.Offset != c.offset {
				t.Errorf("sparsevec %s: offset %d, want %d", c.name, e.Offset, c.offset)
			}
			continue
		}
		if err != nil || s.Dim != c.dim || !equalInt32(s.Indices, c.idx) || !sameBits(s.Values, c.val) {
			t.Errorf("sparsevec %s: %d %v %08x, %v", c.name, s.Dim, s.Indices, bitsOf(s.Values), err)
		}
	}
}

func TestDense(t *testing.T) {
	for _, c := range []struct {
		t      Type
		binary bool
		in     []byte
	}{
		{Vector, false, []byte("[1,-2]")},
		{Vector, true, be(uint16(2), uint16(0), float32(1), float32(-2))},
		{Halfvec, false, []byte("[1,-2]")},
		{Halfvec, true, be(uint16(2), uint16(0), uint16(0x3c00), uint16(0xc000))},
	} {
		got, err := Dense(c.t, c.binary, nil, c.in)
		if err != nil || len(got) != 2 || got[0] != 1 || got[1] != -2 {
			t.Errorf("Dense(%v, %v): %v, %v", c.t, c.binary, got, err)
		}
	}
	if _, err := Dense(Sparsevec, false, nil, []byte("{}/1")); err == nil {
		t.Error("Dense(Sparsevec) did not fail")
	}
}
