package bench

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/config"
	"github.com/vecshard/vecshard/internal/routefixture"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
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
	const shards = routefixture.Shards
	fx, err := routefixture.Write(b.TempDir(), cacheSize)
	if err != nil {
		b.Fatal(err)
	}
	s, err := router.Load(fx.Config, router.WithText(sqltext.Parser{}))
	if err != nil {
		b.Fatal(err)
	}
	// The text form a client sends: shortest float32 form.
	var sb strings.Builder
	sb.WriteString("[")
	for i, x := range fx.Query {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	sb.WriteString("]")
	qtext := []byte(sb.String())

	cases := []routeCase{
		{"vector-binary-1536-k64", routefixture.SearchQuery, []router.Param{{Data: fx.QueryBin, Binary: true}}},
		{"vector-text-1536-k64", routefixture.SearchQuery, []router.Param{{Data: qtext}}},
		{"insert-vector-binary-1536-k64", routefixture.InsertQuery,
			[]router.Param{{Data: fx.IDBin, Binary: true}, {Data: []byte("a title")}, {Data: fx.QueryBin, Binary: true}}},
		{"id-bigint-binary", routefixture.UserQuery, []router.Param{{Data: fx.IDBin, Binary: true}}},
		{"id-uuid-text", routefixture.AccountQuery, []router.Param{{Data: fx.UUIDText}}},
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
func BenchmarkRoute(b *testing.B) { benchRoute(b, config.DefaultPlanCacheSize) }

// BenchmarkRouteFirstSeen: the plan cache disabled, so every call parses
// the statement with pg_query and analyses it: the cost of a statement the
// router sees for the first time.
func BenchmarkRouteFirstSeen(b *testing.B) { benchRoute(b, 0) }

// benchRoute times one Route call per statement with a plan cache of
// cacheSize entries (0: off).
func benchRoute(b *testing.B, cacheSize int) {
	s, cases := routeSetup(b, cacheSize)
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
	s, cases := routeSetup(b, config.DefaultPlanCacheSize)
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
	s, cases := routeSetup(b, config.DefaultPlanCacheSize)
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
