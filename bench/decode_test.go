package bench

import (
	"math"
	"math/rand/v2"
	"testing"

	pgvector "github.com/pgvector/pgvector-go"
	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/vecdecode"
)

// decodeInput is one benchmark input: a pgvector value in one wire format.
type decodeInput struct {
	name string // <type>-<format>-<dim>
	typ  vecdecode.Type
	bin  bool
	data []byte
}

const (
	decodeDim       = 1536
	decodeSparseNNZ = 64
)

// decodeInputs builds the inputs from seeded normal draws: text as
// pgvector-go's String() writes it (shortest float32 form), binary as its
// EncodeBinary writes it (halfvec binary, which pgvector-go's core package
// lacks, as pgvector's halfvec_send writes it).
func decodeInputs() []decodeInput {
	r := rand.New(rand.NewPCG(42, 1536))
	v := make([]float32, decodeDim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	vectorBin, _ := pgvector.NewVector(v).EncodeBinary(nil)

	halfText := pgvector.NewHalfVector(v).String()
	h, err := vecdecode.HalfvecText(nil, []byte(halfText)) // the binary16 values
	if err != nil {
		panic(err)
	}
	halfBin := vecbin.Halfvec(h...)

	dense := make([]float32, decodeDim)
	for _, i := range r.Perm(decodeDim)[:decodeSparseNNZ] {
		dense[i] = float32(r.NormFloat64())
	}
	sv := pgvector.NewSparseVector(dense)
	sparseBin, _ := sv.EncodeBinary(nil)

	return []decodeInput{
		{"vector-text-1536", vecdecode.Vector, false, []byte(pgvector.NewVector(v).String())},
		{"vector-binary-1536", vecdecode.Vector, true, vectorBin},
		{"halfvec-text-1536", vecdecode.Halfvec, false, []byte(halfText)},
		{"halfvec-binary-1536", vecdecode.Halfvec, true, halfBin},
		{"sparsevec-text-1536", vecdecode.Sparsevec, false, []byte(sv.String())},
		{"sparsevec-binary-1536", vecdecode.Sparsevec, true, sparseBin},
	}
}

// BenchmarkDecode measures vecdecode's decoders into reused memory.
func BenchmarkDecode(b *testing.B) {
	for _, in := range decodeInputs() {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			if in.typ == vecdecode.Sparsevec {
				var s vecdecode.Sparse
				decode := vecdecode.SparsevecText
				if in.bin {
					decode = vecdecode.SparsevecBinary
				}
				for b.Loop() {
					if err := decode(&s, in.data); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			dst := make([]float32, 0, decodeDim)
			for b.Loop() {
				var err error
				if dst, err = vecdecode.Dense(in.typ, in.bin, dst, in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodePgvectorGo measures pgvector-go's own Parse and
// DecodeBinary on the same inputs. halfvec-binary is missing: pgvector-go
// decodes it only in its pgx subpackage, which needs a module
// (github.com/x448/float16) this repository does not depend on.
func BenchmarkDecodePgvectorGo(b *testing.B) {
	for _, in := range decodeInputs() {
		var decode func() error
		s := string(in.data)
		switch in.name {
		case "vector-text-1536":
			var v pgvector.Vector
			decode = func() error { return v.Parse(s) }
		case "vector-binary-1536":
			var v pgvector.Vector
			decode = func() error { return v.DecodeBinary(in.data) }
		case "halfvec-text-1536":
			var v pgvector.HalfVector
			decode = func() error { return v.Parse(s) }
		case "sparsevec-text-1536":
			var v pgvector.SparseVector
			decode = func() error { return v.Parse(s) }
		case "sparsevec-binary-1536":
			var v pgvector.SparseVector
			decode = func() error { return v.DecodeBinary(in.data) }
		default:
			continue
		}
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if err := decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeInputs checks that the benchmarks' decoders agree with
// pgvector-go on the benchmark inputs, so the comparison is like for like.
func TestDecodeInputs(t *testing.T) {
	for _, in := range decodeInputs() {
		var want []float32
		var got []float32
		switch in.name {
		case "vector-text-1536":
			var v pgvector.Vector
			_ = v.Parse(string(in.data))
			want = v.Slice()
		case "vector-binary-1536":
			var v pgvector.Vector
			_ = v.DecodeBinary(in.data)
			want = v.Slice()
		case "halfvec-text-1536", "halfvec-binary-1536":
			// pgvector-go keeps float32 precision; the server (and we) round
			// to binary16. Compare with the text decoder's binary16 values.
			want, _ = vecdecode.HalfvecText(nil, decodeInputs()[2].data)
		case "sparsevec-text-1536", "sparsevec-binary-1536":
			var v pgvector.SparseVector
			if in.bin {
				_ = v.DecodeBinary(in.data)
			} else {
				_ = v.Parse(string(in.data))
			}
			var s vecdecode.Sparse
			decode := vecdecode.SparsevecText
			if in.bin {
				decode = vecdecode.SparsevecBinary
			}
			if err := decode(&s, in.data); err != nil || s.Dim != decodeDim || len(s.Indices) != decodeSparseNNZ {
				t.Fatalf("%s: %v", in.name, err)
			}
			want, got = v.Values(), s.Values
			for i, x := range v.Indices() {
				if s.Indices[i] != x {
					t.Fatalf("%s: index %d is %d, want %d", in.name, i, s.Indices[i], x)
				}
			}
		}
		if got == nil {
			var err error
			if got, err = vecdecode.Dense(in.typ, in.bin, nil, in.data); err != nil {
				t.Fatalf("%s: %v", in.name, err)
			}
		}
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s: %d elements, want %d", in.name, len(got), len(want))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %v, want %v", in.name, i, got[i], want[i])
			}
		}
	}
}
