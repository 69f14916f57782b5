package bench

import (
	"testing"

	"github.com/vecshard/vecshard/idkey"
)

// idkeySink keeps the compiler from discarding the work under measurement.
var idkeySink int

// BenchmarkIDKey measures one id value from the wire to its shard among 8:
// decode, key (fmix64 or XXH64) and jump hash. This is the whole per-call
// cost of an id-keyed statement once its plan is cached.
func BenchmarkIDKey(b *testing.B) {
	cases := []struct {
		name   string
		t      idkey.Type
		binary bool
		src    []byte
	}{
		{"bigint-text", idkey.Bigint, false, []byte("1234567890123")},
		{"bigint-binary", idkey.Bigint, true, []byte{0, 0, 1, 0x1f, 0x71, 0xfb, 0x04, 0xcb}},
		{"uuid-text", idkey.UUID, false, []byte("550e8400-e29b-41d4-a716-446655440000")},
		{"uuid-binary", idkey.UUID, true, []byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00}},
		{"text", idkey.Text, false, []byte("user-7f3a9c21@example.com")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.src)))
			for b.Loop() {
				k, err := idkey.Key(c.t, c.binary, c.src)
				if err != nil {
					b.Fatal(err)
				}
				idkeySink = idkey.Shard(k, 8)
			}
		})
	}
}
