package vecdecode

import (
	"math"
	"testing"
)

func TestRoundHalf(t *testing.T) {
	v := []float32{0.81978, 1, 0, -0.1, 65504, 65519, 1e-8, 0x1p-24}
	want := []float32{0.81982421875, 1, 0, -0.0999755859375, 65504, 65504, 0, 0x1p-24}
	if !RoundHalf(v) {
		t.Fatalf("RoundHalf(%v) reported overflow", v)
	}
	for i := range v {
		if v[i] != want[i] {
			t.Errorf("element %d: %v, want %v", i, v[i], want[i])
		}
	}
	for _, f := range []float32{65520, -1e6, float32(math.Inf(1)), float32(math.NaN())} {
		if RoundHalf([]float32{1, f}) {
			t.Errorf("RoundHalf accepted %v", f)
		}
	}
}
