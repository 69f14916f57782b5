package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/vecdecode"
)

// routeCase is one statement shape of BenchmarkRoute*: the query text and
// its bound parameters, as the plugin passes them.
type routeCase struct {
	name   string
	query  string
	params []router.Param
}

// routeSetup writes a random 1536-dimensional, 64-centroid cosine centroid
// file (4 shards) and a configuration with a vector table and two id tables
// into a temporary directory, and returns the loaded snapshot (with the
// given plan cache size; 0 disables the cache) and the benchmark cases.
func routeSetup(b *testing.B, cacheSize int) (*router.Snapshot, []routeCase) {
	b.Helper()
	const d, k, shards = 1536, 64, 4
	r := rand.New(rand.NewPCG(1536, 64))
	vec := func() []float32 {
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return v
	}
	f := &centroids.File{Metric: centroids.Cosine, Dim: d, Shards: shards}
	for range k {
		f.Centroids = append(f.Centroids, vec())
	}
	dir := b.TempDir()
	if err := centroids.Save(filepath.Join(dir, "centroids.json"), f); err != nil {
		b.Fatal(err)
	}
	conf := fmt.Sprintf(`shards = %d
plan_cache_size = %d

[[tables]]
name = "items"
key = "vector"
vector_column = "embedding"
centroids = "centroids.json"
metric = "cosine"
id_column = "id"

[[tables]]
name = "users"
key = "id"
id_column = "id"
id_type = "bigint"

[[tables]]
name = "accounts"
key = "id"
id_column = "uid"
id_type = "uuid"
`, shards, cacheSize)
	path := filepath.Join(dir, "vecshard.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := router.Load(path)
	if err != nil {
		b.Fatal(err)
	}

	q := pgvector.NewVector(vec())
	qbin, err := q.EncodeBinary(nil)
	if err != nil {
		b.Fatal(err)
	}
	// The text form a client sends: shortest float32 form.
	var sb strings.Builder
	sb.WriteString("[")
	for i, x := range q.Slice() {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	sb.WriteString("]")
	qtext := []byte(sb.String())

	id := binary.BigEndian.AppendUint64(nil, 1234567890123)
	cases := []routeCase{
		{"vector-binary-1536-k64", "SELECT id, title FROM items ORDER BY embedding <=> $1 LIMIT 10",
			[]router.Param{{Data: qbin, Binary: true}}},
		{"vector-text-1536-k64", "SELECT id, title FROM items ORDER BY embedding <=> $1 LIMIT 10",
			[]router.Param{{Data: qtext}}},
		{"insert-vector-binary-1536-k64", "INSERT INTO items (id, title, embedding) VALUES ($1, $2, $3)",
			[]router.Param{{Data: id, Binary: true}, {Data: []byte("a title")}, {Data: qbin, Binary: true}}},
		{"id-bigint-binary", "SELECT * FROM users WHERE id = $1",
			[]router.Param{{Data: id, Binary: true}}},
		{"id-uuid-text", "SELECT * FROM accounts WHERE uid = $1",
			[]router.Param{{Data: []byte("550e8400-e29b-41d4-a716-446655440000")}}},
	}
	for _, c := range cases {
		if d := s.Route(c.query, c.params, shards); d.Kind != router.Shard {
			b.Fatalf("%s: %+v", c.name, d)
		}
	}
	return s, cases
}

var sinkDecision router.Decision

// BenchmarkRoute: one Route call with its plan cached (the steady state of
// prepared statements): cache lookup, value decode, shard.
func BenchmarkRoute(b *testing.B) {
	s, cases := routeSetup(b, router.DefaultPlanCacheSize)
	r := router.New(s)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDecision = r.Route(c.query, c.params, 4)
			}
		})
	}
}

// BenchmarkRouteFirstSeen: the plan cache disabled, so every call parses
// the statement with pg_query and analyses it: the cost of a statement the
// router sees for the first time.
func BenchmarkRouteFirstSeen(b *testing.B) {
	s, cases := routeSetup(b, 0)
	r := router.New(s)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDecision = r.Route(c.query, c.params, 4)
			}
		})
	}
}

// BenchmarkRouteParallel: BenchmarkRoute from GOMAXPROCS goroutines on the
// same statement, the plugin's situation under PgDog's worker threads.
func BenchmarkRouteParallel(b *testing.B) {
	s, cases := routeSetup(b, router.DefaultPlanCacheSize)
	r := router.New(s)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				d := router.Decision{Kind: router.Shard}
				for pb.Next() {
					d = r.Route(c.query, c.params, 4)
				}
				if d.Kind != router.Shard {
					b.Errorf("%+v", d)
				}
			})
		})
	}
}

// BenchmarkRouteFloor: the work a cached vector route cannot avoid, on the
// same data as BenchmarkRoute: decode the bound vector and find its nearest
// centroid. BenchmarkRoute/<name> divided by BenchmarkRouteFloor/<name> is
// the router's overhead factor, measured in one run.
func BenchmarkRouteFloor(b *testing.B) {
	s, cases := routeSetup(b, router.DefaultPlanCacheSize)
	set := s.Table("", "items").Set
	dst := make([]float32, 0, vecdecode.MaxDim)
	for _, c := range cases[:3] {
		p := c.params[len(c.params)-1]
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				dst, err = vecdecode.Dense(vecdecode.Vector, p.Binary, dst[:0], p.Data)
				if err != nil {
					b.Fatal(err)
				}
				_, sinkDecision.Shard = set.Nearest(dst)
			}
		})
	}
}
