package kmeans

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

func matrix(dim int, rows ...[]float32) Matrix {
	m := NewMatrix(len(rows), dim)
	for i, r := range rows {
		copy(m.Row(i), r)
	}
	return m
}

// TestEvalByHand: two shards on the plane, cosine.
//
//	train p0 (1,0) p1 (1,0.2) -> centroid (1,0), shard 0
//	      p2 (0.2,1) p3 (0,1) -> centroid (0,1), shard 1
//	query (1,0.5):  top-2 {p1, p0}, both on shard 0; nearest centroid shard 0 -> 2/2
//	query (1,1.05): top-2 {p2 (1.25), p1 (1.21)}; nearest centroid shard 1 -> 1/2
//	recall@2 with 1 probe = 3/4, with 2 probes = 1.
func TestEvalByHand(t *testing.T) {
	train := matrix(2, []float32{1, 0}, []float32{1, 0.2}, []float32{0.2, 1}, []float32{0, 1})
	queries := matrix(2, []float32{1, 0.5}, []float32{1, 1.05})
	cells := matrix(2, []float32{1, 0}, []float32{0, 1})
	r, err := centroids.New(FileOf(cells, centroids.Cosine, 2, []int{0, 1}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Eval(train, queries, r, 2, []int{1, 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Recall, []float64{0.75, 1}) {
		t.Errorf("recall = %v, want [0.75 1]", res.Recall)
	}
	if !reflect.DeepEqual(res.ShardSizes, []int{2, 2}) || res.Imbalance != 1 {
		t.Errorf("shards %v imbalance %v", res.ShardSizes, res.Imbalance)
	}
	got := ExactTopK(train, queries, 2, centroids.Cosine, 1)
	if want := []int32{1, 0, 2, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("top-2 = %v, want %v", got, want)
	}
	// Both centroids on one shard: everything is found with one probe.
	if r, err = centroids.New(FileOf(cells, centroids.Cosine, 1, []int{0, 0})); err != nil {
		t.Fatal(err)
	}
	res, _ = Eval(train, queries, r, 2, []int{1}, 0)
	if res.Recall[0] != 1 || res.Imbalance != 1 {
		t.Errorf("one shard: recall %v imbalance %v", res.Recall, res.Imbalance)
	}
	if _, err := Eval(train, queries, r, 2, []int{3}, 0); err == nil {
		t.Error("3 probes of 2 centroids succeeded")
	}
}

func TestExactTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	train := randMatrix(rng, 300, 19)
	queries := randMatrix(rng, 70, 19)
	for _, m := range []centroids.Metric{centroids.Cosine, centroids.L2, centroids.InnerProduct} {
		got := ExactTopK(train, queries, 5, m, 2)
		for q := 0; q < queries.Rows; q++ {
			idx := make([]int, train.Rows)
			score := make([]float64, train.Rows)
			for i := range idx {
				idx[i] = i
				x, y := queries.Row(q), train.Row(i)
				switch m {
				case centroids.Cosine:
					score[i] = dot64(x, y) / math.Sqrt(dot64(y, y))
				case centroids.L2:
					score[i] = -(dot64(y, y) - 2*dot64(x, y))
				default:
					score[i] = dot64(x, y)
				}
			}
			sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
			for r := 0; r < 5; r++ {
				if int(got[q*5+r]) != idx[r] {
					t.Fatalf("%v query %d: top-5 %v, want %v", m, q, got[q*5:q*5+5], idx[:5])
				}
			}
		}
	}
}
