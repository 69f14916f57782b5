package bench

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// fmnistTrain is Fashion-MNIST's training set as Debian's
// dataset-fashion-mnist package installs it.
const fmnistTrain = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

var fmnist = sync.OnceValues(func() (kmeans.Matrix, error) {
	r, err := vecio.Open(fmnistTrain, vecio.Options{})
	if err != nil {
		return kmeans.Matrix{}, err
	}
	defer r.Close()
	x, _, err := vecio.Collect(r, 0, 1, false)
	return x, err
})

func loadFMNIST(b *testing.B) kmeans.Matrix {
	if _, err := os.Stat(fmnistTrain); err != nil {
		b.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	x, err := fmnist()
	if err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkTrain trains cosine k-means (k = shards, 20 iterations, seed 1)
// on the 60,000 x 784 Fashion-MNIST images, reading excluded. It reports
// the objective (sum of 1 - cosine to the nearest centroid) and the
// imbalance (max/mean points per shard, routed by nearest centroid).
func BenchmarkTrain(b *testing.B) {
	for _, k := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("fmnist-k%d", k), func(b *testing.B) {
			x := loadFMNIST(b)
			var res *kmeans.Result
			b.ResetTimer()
			for b.Loop() {
				var err error
				res, err = kmeans.Train(x, kmeans.Config{K: k, Metric: centroids.Cosine, Iters: 20, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.RoutedObjective, "objective")
			b.ReportMetric(kmeans.Imbalance(res.ShardSizes), "imbalance")
		})
	}
}

// BenchmarkReadFMNIST reads and decompresses the IDX .gz file.
func BenchmarkReadFMNIST(b *testing.B) {
	if _, err := os.Stat(fmnistTrain); err != nil {
		b.Skipf("Fashion-MNIST not installed: %v", err)
	}
	for b.Loop() {
		r, err := vecio.Open(fmnistTrain, vecio.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := vecio.Collect(r, 0, 1, false); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
