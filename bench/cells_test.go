package bench

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// fmnistTest is Fashion-MNIST's test set: the held-out queries.
const fmnistTest = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

var fmnistQueries = sync.OnceValues(func() (kmeans.Matrix, error) {
	r, err := vecio.Open(fmnistTest, vecio.Options{})
	if err != nil {
		return kmeans.Matrix{}, err
	}
	defer r.Close()
	x, _, err := vecio.Collect(r, 0, 1, false)
	return x, err
})

func loadQueries(b *testing.B) kmeans.Matrix {
	if _, err := os.Stat(fmnistTest); err != nil {
		b.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	q, err := fmnistQueries()
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// cellFile turns trained cells and their shards into a centroid file.
func cellFile(res *kmeans.Result, dim, shards int, shardOf []int) *centroids.File {
	f := &centroids.File{Metric: centroids.Cosine, Dim: dim, Shards: shards, ShardOf: shardOf}
	for j := 0; j < res.Centroids.Rows; j++ {
		f.Centroids = append(f.Centroids, res.Centroids.Row(j))
	}
	return f
}

// BenchmarkCells trains M x S fine cells on Fashion-MNIST's 60,000 training
// images (cosine, two-level, 20 iterations per level and 5 refining, seed
// 1), groups them into S shards within
// the balance window and reports recall@10 at probes 1, 2 and 4 on the
// 10,000 test images and the imbalance (max/mean rows per shard) of the
// training rows and of the test rows, beside k-means with k = S (the
// layout PgDog's built-in vector sharding trains). The time is training
// plus grouping.
func BenchmarkCells(b *testing.B) {
	type layout struct {
		shards, m int
		balance   float64
	}
	for _, l := range []layout{{16, 0, 0}, {16, 32, 1.05}, {16, 32, 1.2}, {64, 0, 0}, {64, 16, 1.05}, {64, 16, 1.2}} {
		name := fmt.Sprintf("shards%d-kmeans", l.shards)
		if l.m > 0 {
			name = fmt.Sprintf("shards%d-cells%d-balance%.2f", l.shards, l.m, l.balance)
		}
		b.Run(name, func(b *testing.B) {
			x, q := loadFMNIST(b), loadQueries(b)
			var f *centroids.File
			var phases string
			for b.Loop() {
				t := time.Now()
				k := l.shards * max(1, l.m)
				var res *kmeans.Result
				var err error
				if l.m > 0 {
					// As train-centroids --cells-per-shard does (--refine 5).
					res, err = kmeans.TrainCells(x, kmeans.Config{K: k, Shards: l.shards, Metric: centroids.Cosine, Iters: 20, Seed: 1}, 5)
				} else {
					res, err = kmeans.Train(x, kmeans.Config{K: k, Metric: centroids.Cosine, Iters: 20, Seed: 1})
				}
				if err != nil {
					b.Fatal(err)
				}
				train := time.Since(t)
				if l.m == 0 {
					f = cellFile(res, x.Dim, l.shards, nil)
					continue
				}
				set, err := centroids.New(cellFile(res, x.Dim, k, nil))
				if err != nil {
					b.Fatal(err)
				}
				g, err := kmeans.Group(x, set, kmeans.GroupConfig{Shards: l.shards, Balance: l.balance, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				f = cellFile(res, x.Dim, l.shards, g.ShardOf)
				phases = fmt.Sprintf("train %.1fs place %.1fs graph %.1fs group %.1fs internal %.3f", train.Seconds(),
					g.PlaceTime.Seconds(), g.GraphTime.Seconds(), g.GroupTime.Seconds(), g.Internal)
			}
			b.StopTimer()
			if phases != "" {
				b.Log(phases)
			}
			reportLayout(b, x, q, f)
		})
	}
}

// reportLayout evaluates f on the training rows and the test queries.
func reportLayout(b *testing.B, x, q kmeans.Matrix, f *centroids.File) {
	r, err := centroids.New(f)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := kmeans.Eval(x, q, r, 10, []int{1, 2, 4}, 0)
	if err != nil {
		b.Fatal(err)
	}
	held, err := kmeans.Eval(q, q, r, 1, []int{1}, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ev.Recall[0], "recall-p1")
	b.ReportMetric(ev.Recall[1], "recall-p2")
	b.ReportMetric(ev.Recall[2], "recall-p4")
	b.ReportMetric(ev.Imbalance, "imbalance-train")
	b.ReportMetric(held.Imbalance, "imbalance-test")
	b.ReportMetric(float64(minInt(ev.ShardSizes)), "min-shard-rows")
}

func minInt(v []int) int {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// BenchmarkReshard adds one shard to a 16-shard layout of 512 fine cells
// (cosine, two-level training, seed 1, window 1.05) by moving whole cells, and
// reports the rows moved (as a fraction, and against 1/17, the least any
// balanced 17-shard layout moves), recall@10 at one probe before and after
// on the test images, and the new imbalance. The time is the reshard
// alone (placement, neighbour graph and annealing).
func BenchmarkReshard(b *testing.B) {
	x, q := loadFMNIST(b), loadQueries(b)
	const shards, m = 16, 32
	res, err := kmeans.TrainCells(x, kmeans.Config{K: shards * m, Shards: shards, Metric: centroids.Cosine, Iters: 20, Seed: 1}, 5)
	if err != nil {
		b.Fatal(err)
	}
	set, err := centroids.New(kmeans.FileOf(res.Centroids, centroids.Cosine, shards*m, nil))
	if err != nil {
		b.Fatal(err)
	}
	g, err := kmeans.Group(x, set, kmeans.GroupConfig{Shards: shards, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	old := kmeans.FileOf(res.Centroids, centroids.Cosine, shards, g.ShardOf)
	var r *kmeans.Resharding
	b.ResetTimer()
	for b.Loop() {
		if r, err = kmeans.Reshard(x, old, kmeans.ReshardConfig{Shards: shards + 1, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	frac := float64(r.Moved) / float64(x.Rows)
	b.ReportMetric(frac, "moved")
	b.ReportMetric(frac*float64(shards+1), "moved/minimum")
	b.ReportMetric(kmeans.Imbalance(r.Loads), "imbalance-train")
	b.ReportMetric(float64(minInt(r.Loads)), "min-shard-rows")
	before := evalRecall(b, x, q, old)
	after := evalRecall(b, x, q, kmeans.FileOf(res.Centroids, centroids.Cosine, shards+1, r.ShardOf))
	b.ReportMetric(before, "recall-p1-before")
	b.ReportMetric(after, "recall-p1")
}

func evalRecall(b *testing.B, x, q kmeans.Matrix, f *centroids.File) float64 {
	set, err := centroids.New(f)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := kmeans.Eval(x, q, set, 10, []int{1}, 0)
	if err != nil {
		b.Fatal(err)
	}
	return ev.Recall[0]
}
