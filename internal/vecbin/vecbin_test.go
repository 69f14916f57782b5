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
