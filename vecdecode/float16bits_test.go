package vecdecode_test

import (
	"math"
	"testing"

	"github.com/vecshard/vecshard/vecdecode"
)

// TestFloat16BitsRoundTrip holds the encoder to the decoder: every one of
// the 65536 binary16 bit patterns survives decode (HalfvecBinary) then
// encode, and infinities and quiet NaNs, which the decoder rejects, come
// back from their float32 forms with the same bits.
func TestFloat16BitsRoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		u := uint16(h)
		if u&0x7c00 == 0x7c00 { // Inf or NaN: widen by hand
			f := math.Float32frombits(uint32(u&0x8000)<<16 | 0x7f800000 | uint32(u&0x3ff)<<13)
			if want := u | btoi(u&0x3ff != 0)*0x200; vecdecode.Float16Bits(f) != want {
				t.Fatalf("Float16Bits(%#08x) = %#04x, want %#04x", math.Float32bits(f), vecdecode.Float16Bits(f), want)
			}
			continue
		}
		v, err := vecdecode.HalfvecBinary(nil, []byte{0, 1, 0, 0, byte(u >> 8), byte(u)})
		if err != nil {
			t.Fatalf("%#04x: %v", u, err)
		}
		if got := vecdecode.Float16Bits(v[0]); got != u {
			t.Fatalf("Float16Bits(%g) = %#04x, want %#04x", v[0], got, u)
		}
	}
}

func btoi(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}
