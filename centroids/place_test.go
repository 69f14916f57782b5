package centroids

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vecshard/vecshard/centroids/internal/kernel"
)

// exactReference is the placement by definition: the largest exact score
// (Set.exact) over every centroid, ties to the lowest index.
func exactReference(s *Set, q []float32) int {
	best, bv := 0, s.exact(q, 0)
	for c := 1; c < s.K(); c++ {
		if x := s.exact(q, c); x > bv {
			best, bv = c, x
		}
	}
	return best
}

// exactTopReference ranks every centroid by exact score.
func exactTopReference(s *Set, q []float32, p int) []int {
	order := make([]int, s.K())
	for i := range order {
		order[i] = i
	}
	ex := make([]float64, s.K())
	for i := range ex {
		ex[i] = s.exact(q, i)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ex[a] > ex[b]:
			return -1
		case ex[a] < ex[b]:
			return 1
		}
		return 0
	})
	return order[:min(p, len(order))]
}

// nearTies returns a file whose centroids come in groups that are equal up
// to a flip of the last bits of a few coordinates, and queries that lie
// on (or within rounding of) the bisectors between them: the cases where
// float32 kernels that sum in different orders disagree.
func nearTies(r *rand.Rand, m Metric, k, dim int) (*File, [][]float32) {
	f := &File{Metric: m, Dim: dim, Shards: 4}
	base := make([]float32, dim)
	for j := range base {
		base[j] = float32(r.NormFloat64())
	}
	for c := 0; c < k; c++ {
		row := slices.Clone(base)
		if c > 0 {
			for range 3 {
				j := r.IntN(dim)
				row[j] = math.Float32frombits(math.Float32bits(row[j]) + uint32(r.IntN(5)) - 2)
			}
			if c%4 == 3 { // some clearly different centroids too
				for j := range row {
					row[j] += float32(r.NormFloat64())
				}
			}
		}
		f.Centroids = append(f.Centroids, row)
	}
	var qs [][]float32
	for range 200 {
		q := make([]float32, dim)
		for j := range q {
			switch r.IntN(4) {
			case 0: // sparse coordinates
			case 1:
				q[j] = base[j] * float32(1+r.IntN(3))
			default:
				q[j] = float32(r.NormFloat64()) * 1e3
			}
		}
		qs = append(qs, q)
	}
	return f, qs
}

// TestPlacementIsExact pins the placement: Nearest, NearestSparse, TopP
// and TopPSparse equal the exact reference on near ties, on both kernels
// and for dense and sparse forms of every query.
func TestPlacementIsExact(t *testing.T) {
	for _, m := range []Metric{Cosine, L2, InnerProduct} {
		for _, dim := range []int{1, 7, 64, 333, 1536} {
			r := rand.New(rand.NewPCG(uint64(dim), uint64(m)))
			f, qs := nearTies(r, m, 24, dim)
			s := mustNew(t, f)
			want := make([]int, len(qs))
			wantTop := make([][]int, len(qs))
			for i, q := range qs {
				want[i] = exactReference(s, q)
				wantTop[i] = exactTopReference(s, q, 3)
			}
			fallback := 0
			paths(t, func(t *testing.T) {
				for i, q := range qs {
					idx, val := sparse(q)
					got, _ := s.Nearest(q)
					gs, _ := s.NearestSparse(idx, val)
					top := s.TopP(q, 3, nil)
					tops := s.TopPSparse(idx, val, 3, nil)
					if got != want[i] || gs != want[i] || !slices.Equal(top, wantTop[i]) || !slices.Equal(tops, wantTop[i]) {
						t.Fatalf("%v dim %d query %d: Nearest %d, NearestSparse %d, TopP %v, TopPSparse %v; exact %d, %v",
							m, dim, i, got, gs, top, tops, want[i], wantTop[i])
					}
					var buf [block]float32
					sc := buf[:min(block, s.K())]
					s.denseScores(sc, 0, q)
					if f32 := argmax(sc); f32 != want[i] {
						fallback++
					}
				}
			})
			t.Logf("%v dim %d: float32 argmax differs from the exact placement on %d query runs", m, dim, fallback)
		}
	}
}

func argmax(sc []float32) int {
	b := 0
	for j, v := range sc {
		if v > sc[b] {
			b = j
		}
	}
	return b
}

// TestPlacementKernelsAgree compares the two kernels directly on random
// data with many near ties: the same centroid every time.
func TestPlacementKernelsAgree(t *testing.T) {
	if !kernel.UseAsm(true) {
		t.Skip("no assembly kernel on this machine")
	}
	defer kernel.UseAsm(true)
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range []Metric{Cosine, L2, InnerProduct} {
		f, qs := nearTies(r, m, 40, 768)
		s := mustNew(t, f)
		for i, q := range qs {
			kernel.UseAsm(true)
			a, _ := s.Nearest(q)
			ta := s.TopP(q, 4, nil)
			kernel.UseAsm(false)
			g, _ := s.Nearest(q)
			tg := s.TopP(q, 4, nil)
			if a != g || !slices.Equal(ta, tg) {
				t.Fatalf("%v query %d: asm %d %v, go %d %v", m, i, a, ta, g, tg)
			}
		}
	}
}

// TestPlacementNonFinite: NaN and infinite queries get a valid centroid,
// the same on both kernels.
func TestPlacementNonFinite(t *testing.T) {
	f := &File{Metric: L2, Dim: 3, Shards: 2, Centroids: [][]float32{{1, 2, 3}, {3, 2, 1}, {0, 0, 0}}}
	s := mustNew(t, f)
	for _, q := range [][]float32{
		{float32(math.NaN()), 0, 0}, {float32(math.Inf(1)), 0, 0}, {math.MaxFloat32, math.MaxFloat32, -math.MaxFloat32},
	} {
		var got []int
		paths(t, func(t *testing.T) {
			c, _ := s.Nearest(q)
			if c < 0 || c >= s.K() {
				t.Fatalf("Nearest(%v) = %d", q, c)
			}
			got = append(got, c)
			if tp := s.TopP(q, 2, nil); len(tp) != 2 {
				t.Fatalf("TopP(%v) = %v", q, tp)
			}
		})
		for _, c := range got {
			if c != got[0] {
				t.Fatalf("Nearest(%v): kernels disagree: %v", q, got)
			}
		}
	}
}

// FuzzPlacement: for any centroids and query built from the fuzzer's
// bytes (float32 bit patterns, so near ties, huge and tiny values all
// occur), Nearest and TopP agree with the exact reference on both kernels
// and for the sparse form, and never panic.
func FuzzPlacement(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}, uint8(2), uint8(0))
	f.Add(make([]byte, 64), uint8(3), uint8(1))
	// Subnormal queries against nearly equal centroids.
	sub := []byte{0, 0, 128, 63, 1, 0, 128, 63, 0, 0, 128, 63, 0, 0, 128, 63, 3, 0, 0, 0, 5, 0, 0, 0}
	f.Add(sub, uint8(1), uint8(2))
	f.Add(sub, uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, dimb, mb uint8) {
		dim := int(dimb%9) + 1
		m := Metric(int(mb) % 3)
		vals := make([]float32, len(data)/4)
		for i := range vals {
			v := math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				v = 0
			}
			vals[i] = v
		}
		k := len(vals)/dim - 1
		if k < 1 {
			return
		}
		fl := &File{Metric: m, Dim: dim, Shards: 1}
		for c := 0; c < k; c++ {
			fl.Centroids = append(fl.Centroids, vals[c*dim:(c+1)*dim])
		}
		s, err := New(fl)
		if err != nil {
			return
		}
		q := vals[k*dim : (k+1)*dim]
		want := exactReference(s, q)
		wantTop := exactTopReference(s, q, 2)
		idx, val := sparse(q)
		defer kernel.UseAsm(true)
		for _, asm := range []bool{true, false} {
			kernel.UseAsm(asm)
			got, _ := s.Nearest(q)
			gs, _ := s.NearestSparse(idx, val)
			top := s.TopP(q, 2, nil)
			tops := s.TopPSparse(idx, val, 2, nil)
			if got != want || gs != want || !slices.Equal(top, wantTop) || !slices.Equal(tops, wantTop) {
				t.Fatalf("asm=%v: Nearest %d NearestSparse %d TopP %v TopPSparse %v, exact %d %v", asm, got, gs, top, tops, want, wantTop)
			}
		}
	})
}
