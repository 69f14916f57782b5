package vecbin_test

import (
	"slices"
	"testing"

	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/vecdecode"
)

// TestRoundTrip decodes what Vector and Halfvec write.
func TestRoundTrip(t *testing.T) {
	v := []float32{1, -2.5, 0, 0x1p-24, 65504}
	got, err := vecdecode.VectorBinary(nil, vecbin.Vector(v...))
	if err != nil || !slices.Equal(got, v) {
		t.Errorf("vector: %v, %v; want %v", got, err, v)
	}
	got, err = vecdecode.HalfvecBinary(nil, vecbin.Halfvec(v...))
	if err != nil || !slices.Equal(got, v) {
		t.Errorf("halfvec: %v, %v; want %v", got, err, v)
	}
	got, err = vecdecode.HalfvecBinary(nil, vecbin.Halfvec(0.1))
	if want := float32(0.0999755859375); err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("halfvec 0.1: %v, %v; want [%v]", got, err, want)
	}
}

// TestArray checks Int8Array's bytes against array_send's layout: a NULL
// element sets the has-null flag and is written as length -1.
func TestArray(t *testing.T) {
	minus1 := int64(-1)
	got := vecbin.Int8Array(nil, &minus1)
	want := []byte{
		0, 0, 0, 1, // ndim
		0, 0, 0, 1, // has null
		0, 0, 0, 20, // int8
		0, 0, 0, 2, // length
		0, 0, 0, 1, // lower bound
		0xff, 0xff, 0xff, 0xff, // NULL
		0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -1
	}
	if !slices.Equal(got, want) {
		t.Errorf("Int8Array(nil, -1) = % x, want % x", got, want)
	}
	if got := vecbin.Array(25, []byte("a"))[4:8]; !slices.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("Array without NULL: has-null flag % x", got)
	}
}
