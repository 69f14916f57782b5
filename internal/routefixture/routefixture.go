// Package routefixture writes the routing benchmark's configuration, so that
// the Go-level benchmarks (bench/) and the C-ABI load test (e2e/) route the
// very same statements against the very same centroids.
package routefixture

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/vecdecode"
)

// The fixture's shape: Dim-dimensional cosine centroids, K of them, on Shards shards.
const (
	Dim    = 1536
	K      = 64
	Shards = 4
)

// Queries of the benchmark, by their fixed benchmark names.
const (
	SearchQuery  = "SELECT id, title FROM items ORDER BY embedding <=> $1 LIMIT 10"
	InsertQuery  = "INSERT INTO items (id, title, embedding) VALUES ($1, $2, $3)"
	UserQuery    = "SELECT * FROM users WHERE id = $1"
	AccountQuery = "SELECT * FROM accounts WHERE uid = $1"
)

// Fixture is a written configuration and the parameter values the benchmarks bind.
type Fixture struct {
	Config   string    // path of vecshard.toml
	Query    []float32 // a query vector drawn like the centroids (standard normal)
	QueryBin []byte    // Query in pgvector's binary format (pgvector-go EncodeBinary)
	IDBin    []byte    // bigint 1234567890123 as a binary int8
	UUIDText []byte    // a uuid in text format
}

// Write writes centroids.json (seeded standard-normal rows) and vecshard.toml
// with the tables items (vector), users (bigint id) and accounts (uuid id)
// into dir. planCache < 0 leaves plan_cache_size at its default; 0 turns the
// plan cache off.
func Write(dir string, planCache int) (*Fixture, error) {
	r := rand.New(rand.NewPCG(Dim, K))
	vec := func() []float32 {
		v := make([]float32, Dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		return v
	}
	f := &centroids.File{Metric: centroids.Cosine, Dim: Dim, Shards: Shards}
	for range K {
		f.Centroids = append(f.Centroids, vec())
	}
	b, err := f.Marshal()
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "centroids.json"), b, 0o644)
	}
	if err != nil {
		return nil, err
	}
	cache := ""
	if planCache >= 0 {
		cache = fmt.Sprintf("plan_cache_size = %d\n", planCache)
	}
	conf := fmt.Sprintf(`shards = %d
%s
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
`, Shards, cache)
	fx := &Fixture{
		Config:   filepath.Join(dir, "vecshard.toml"),
		Query:    vec(),
		IDBin:    binary.BigEndian.AppendUint64(nil, 1234567890123),
		UUIDText: []byte("550e8400-e29b-41d4-a716-446655440000"),
	}
	if err := os.WriteFile(fx.Config, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if fx.QueryBin, err = pgvector.NewVector(fx.Query).EncodeBinary(nil); err != nil {
		return nil, err
	}
	return fx, nil
}

// Baseline returns what a vector route of the fixture cannot avoid, as one
// call: decoding QueryBin and the nearest-centroid search over the
// fixture's centroids. The routing benchmarks quote their vector routes
// against it, measured in the same run.
func (fx *Fixture) Baseline() (func() error, error) {
	f, err := centroids.Load(filepath.Join(filepath.Dir(fx.Config), "centroids.json"))
	if err != nil {
		return nil, err
	}
	set, err := centroids.New(f)
	if err != nil {
		return nil, err
	}
	buf := make([]float32, 0, vecdecode.MaxDim)
	return func() error {
		v, err := vecdecode.VectorBinary(buf[:0], fx.QueryBin)
		if err != nil {
			return err
		}
		set.Nearest(v)
		return nil
	}, nil
}
