//go:build ignore

// gen writes sample.txt, the demo's training vectors: 2000 32-dimensional
// vectors in pgvector text form, one per line, drawn around 8 random
// directions (Gaussian noise, sigma 0.25 per coordinate) with a fixed seed,
// in shuffled order. Regenerate with: go run testdata/demo/gen.go
package main

import (
	"bufio"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
)

const (
	n, dim, clusters = 2000, 32, 8
	sigma            = 0.25
)

func main() {
	r := rand.New(rand.NewPCG(2025, 1))
	centers := make([][]float64, clusters)
	for c := range centers {
		v := make([]float64, dim)
		var norm float64
		for j := range v {
			v[j] = r.NormFloat64()
			norm += v[j] * v[j]
		}
		for j := range v {
			v[j] /= math.Sqrt(norm)
		}
		centers[c] = v
	}
	f, err := os.Create("testdata/demo/sample.txt")
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		c := centers[(i*7+r.IntN(clusters))%clusters]
		w.WriteByte('[')
		for j, x := range c {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteString(strconv.FormatFloat(float64(float32(x+sigma*r.NormFloat64()/math.Sqrt(dim))), 'g', 4, 32))
		}
		w.WriteString("]\n")
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
