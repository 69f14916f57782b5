package centroids_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/centroids/internal/kernel"
	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
	"github.com/vecshard/vecshard/vecdecode"
)

// TestPlacementEverywhere is the property that placement is one function:
// for vectors near the borders between cells, the shard of Set.Nearest
// equals the route of INSERT and of WHERE embedding = v for vector,
// halfvec and sparsevec columns in text and binary format, the splitter's
// router.Snapshot.Place, and the trainer's kmeans.Assign, on both kernels.
func TestPlacementEverywhere(t *testing.T) {
	defer kernel.UseAsm(true)
	for _, m := range []centroids.Metric{centroids.Cosine, centroids.L2, centroids.InnerProduct} {
		r := rand.New(rand.NewPCG(uint64(m), 11))
		const dim, k, shards = 48, 40, 4
		f, qs := borderFile(r, m, dim, k, shards)
		dir := t.TempDir()
		b, err := f.Marshal()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "c.json"), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		var toml strings.Builder
		fmt.Fprintf(&toml, "shards = %d\nplan_cache_size = 100\n", shards)
		for _, typ := range []string{"vector", "halfvec", "sparsevec"} {
			fmt.Fprintf(&toml, "[[tables]]\nname = \"t_%s\"\nkey = \"vector\"\nvector_column = \"e\"\nvector_type = %q\ncentroids = \"c.json\"\nmetric = %q\nid_column = \"id\"\n", typ, typ, m)
		}
		cfg := filepath.Join(dir, "vecshard.toml")
		if err := os.WriteFile(cfg, []byte(toml.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		snap, err := router.Load(cfg, router.WithText(sqltext.Parser{}))
		if err != nil {
			t.Fatal(err)
		}
		set, err := centroids.New(f)
		if err != nil {
			t.Fatal(err)
		}
		x := kmeans.NewMatrix(len(qs), dim)
		for i, q := range qs {
			copy(x.Row(i), q)
		}
		cm := kmeans.NewMatrix(k, dim)
		for j, c := range f.Centroids {
			copy(cm.Row(j), c)
		}
		// The expected shards, on the assembly kernel (where there is one);
		// every entry point on every kernel must agree with them.
		kernel.UseAsm(true)
		want := make([]int, len(qs))
		wantHalf := make([]int, len(qs))
		for i, q := range qs {
			_, want[i] = set.Nearest(q)
			_, qh := forms(q)
			_, wantHalf[i] = set.Nearest(qh)
		}
		for _, asm := range []bool{true, false} {
			kernel.UseAsm(asm)
			assign, _ := kmeans.Assign(x, cm, m, 2)
			for i, q := range qs {
				if sh := f.ShardOf[assign[i]]; sh != want[i] {
					t.Fatalf("%v asm=%v query %d: kmeans.Assign's shard %d, want %d", m, asm, i, sh, want[i])
				}
				fs, _ := forms(q)
				for _, in := range fs {
					w := want[i]
					if in.typ == "halfvec" {
						w = wantHalf[i]
					}
					tab := snap.Table("", "t_"+in.typ)
					for _, sql := range []string{
						"INSERT INTO t_" + in.typ + " (id, e) VALUES (1, $1)",
						"SELECT id FROM t_" + in.typ + " WHERE e = $1",
					} {
						d := snap.Route(sql, []router.Param{in.p}, shards)
						if d.Kind != router.Shard || d.Shard != w {
							t.Fatalf("%v asm=%v query %d %s %s: %v shard %d (%s), want shard %d", m, asm, i, in.name, sql, d.Kind, d.Shard, d.Message, w)
						}
					}
					got, err := snap.Place(tab, in.p, shards)
					if err != nil || got != w {
						t.Fatalf("%v asm=%v query %d %s: Place %d, %v; want %d", m, asm, i, in.name, got, err, w)
					}
				}
			}
		}
	}
}

// borderFile returns a file of k centroids spread over shards (shard_of
// round robin from a random start) that come in pairs equal but for a few
// units in the last place of a few coordinates, and queries near them: the
// near ties that float32 sums in different orders decide differently.
func borderFile(r *rand.Rand, m centroids.Metric, dim, k, shards int) (*centroids.File, [][]float32) {
	f := &centroids.File{Metric: m, Dim: dim, Shards: shards, ShardOf: make([]int, k)}
	off := r.IntN(shards)
	for c := 0; c < k; c++ {
		f.ShardOf[c] = (c + off) % shards
		row := make([]float32, dim)
		if c%2 == 1 {
			copy(row, f.Centroids[c-1])
			for range 3 {
				j := r.IntN(dim)
				row[j] = math.Float32frombits(math.Float32bits(row[j]) + uint32(r.IntN(5)) - 2)
			}
		} else {
			for j := range row {
				row[j] = float32(r.NormFloat64())
			}
		}
		f.Centroids = append(f.Centroids, row)
	}
	var qs [][]float32
	for range 150 {
		a := 2 * r.IntN(k/2)
		q := make([]float32, dim)
		for j := range q {
			if r.IntN(3) > 0 { // a third zero: sparse forms differ from dense ones
				q[j] = f.Centroids[a][j] * float32(1+r.IntN(4)) * 1000
			}
		}
		qs = append(qs, q)
	}
	return f, qs
}

type form struct {
	name, typ string
	p         router.Param
}

// forms returns q as every parameter a client can send for it, and the
// halfvec forms of q rounded to binary16 with that rounded vector.
func forms(q []float32) (fs []form, qh []float32) {
	vb, _ := pgvector.NewVector(q).EncodeBinary(nil)
	qh = make([]float32, len(q))
	for j, v := range q {
		qh[j] = v / 1000
	}
	hb := vecbin.Halfvec(qh...)
	if !vecdecode.RoundHalf(qh) {
		panic(fmt.Sprintf("%v is beyond binary16", qh))
	}
	sp := pgvector.NewSparseVector(q)
	sb, _ := sp.EncodeBinary(nil)
	st, _ := sp.Value()
	return []form{
		{"vector text", "vector", router.Param{Data: []byte(pgvector.NewVector(q).String())}},
		{"vector binary", "vector", router.Param{Data: vb, Binary: true}},
		{"sparsevec text", "sparsevec", router.Param{Data: []byte(st.(string))}},
		{"sparsevec binary", "sparsevec", router.Param{Data: sb, Binary: true}},
		{"halfvec text", "halfvec", router.Param{Data: []byte(pgvector.NewHalfVector(qh).String())}},
		{"halfvec binary", "halfvec", router.Param{Data: hb, Binary: true}},
	}, qh
}
