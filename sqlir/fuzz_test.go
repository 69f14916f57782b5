package sqlir_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vecshard/vecshard/sqlir"
)

// encode writes decoded statements back through a Builder.
func encode(ns []*sqlir.Node) []byte {
	var b sqlir.Builder
	b.Count(len(ns))
	for _, n := range ns {
		encodeNode(&b, n)
	}
	return b.Bytes()
}

func encodeNode(b *sqlir.Builder, n *sqlir.Node) {
	switch {
	case n == nil:
		b.Nil()
	case n.Kind == sqlir.Unknown:
		b.Unknown(n.PG)
	default:
		b.Node(n.Kind, n.PG, n.Name, n.Schema, n.Int, n.Int2, n.Flags, len(n.Kids))
		for _, s := range n.Kids {
			b.Count(len(s))
			for _, k := range s {
				encodeNode(b, k)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range goldens {
		f.Add(tc.want)
	}
	f.Add([]byte{})
	f.Add(deepList(sqlir.MaxDepth + 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := sqlir.Decode(data)
		if err != nil {
			return
		}
		again := encode(ns)
		if bytes.Equal(again, data) {
			return
		}
		// Not canonical. At least the tree must survive a second round.
		ns2, err := sqlir.Decode(again)
		if err != nil {
			t.Fatalf("re-encoding %x gives %x, which does not decode: %v", data, again, err)
		}
		if !reflect.DeepEqual(ns, ns2) {
			t.Fatalf("re-encoding %x gives %x, another tree", data, again)
		}
		t.Fatalf("Decode accepts %x, a non-canonical encoding of what encodes as %x", data, again)
	})
}
