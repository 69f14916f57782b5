package vecdecode

import (
	"encoding/binary"
	"math"
)

// decodeFloat4 converts len(out) big-endian float4s from in (which holds at
// least that many) into out. It returns the index of the first NaN or
// infinity, which the caller reports, or -1.
//
// Two elements per 64-bit load; the loop re-slices both sides so the
// compiler can drop the bounds checks.
func decodeFloat4(out []float32, in []byte) int {
	const expMask = 0x7f800000
	o, b := out, in[:4*len(out)]
	for len(o) >= 2 && len(b) >= 8 {
		x := binary.BigEndian.Uint64(b)
		hi, lo := uint32(x>>32), uint32(x)
		if hi&expMask == expMask || lo&expMask == expMask {
			break // the tail loop below finds which one
		}
		o[0], o[1] = math.Float32frombits(hi), math.Float32frombits(lo)
		o, b = o[2:], b[8:]
	}
	for len(o) >= 1 && len(b) >= 4 {
		w := binary.BigEndian.Uint32(b)
		if w&expMask == expMask {
			return len(out) - len(o)
		}
		o[0] = math.Float32frombits(w)
		o, b = o[1:], b[4:]
	}
	return -1
}

// decodeHalf converts len(out) big-endian binary16s from in (which holds at
// least that many) into out, exactly. It returns the index of the first NaN
// or infinity, which the caller reports, or -1.
func decodeHalf(out []float32, in []byte) int {
	const expMask = 0x7c00
	o, b := out, in[:2*len(out)]
	for len(o) >= 4 && len(b) >= 8 {
		x := binary.BigEndian.Uint64(b)
		h0, h1, h2, h3 := uint16(x>>48), uint16(x>>32), uint16(x>>16), uint16(x)
		if h0&expMask == expMask || h1&expMask == expMask || h2&expMask == expMask || h3&expMask == expMask {
			break // the tail loop below finds which one
		}
		o[0], o[1], o[2], o[3] = halfToFloat32(h0), halfToFloat32(h1), halfToFloat32(h2), halfToFloat32(h3)
		o, b = o[4:], b[8:]
	}
	for len(o) >= 1 && len(b) >= 2 {
		h := binary.BigEndian.Uint16(b)
		if h&expMask == expMask {
			return len(out) - len(o)
		}
		o[0] = halfToFloat32(h)
		o, b = o[1:], b[2:]
	}
	return -1
}
