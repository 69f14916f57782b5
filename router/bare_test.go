package router

import (
	"fmt"
	"github.com/vecshard/vecshard/sqltext"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bare8 are the centroids of testdata/bare8.json (PgDog's bare array form,
// k = 8): as in PgDog's built-in vector sharding, centroid i goes to shard
// i % n under a pooler of n shards.
var bare8 = [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {1, 1, 1}, {-1, -1, -1}}

// loadBare writes a configuration (header, then tables for bare8.json with
// probes 1 and 2, and for the 4-shard object file c3k4.json) and loads it.
func loadBare(t *testing.T, header string) *Snapshot {
	t.Helper()
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := fmt.Sprintf(`%s
[[tables]]
name = "b8"
key = "vector"
vector_column = "v"
centroids = %q

[[tables]]
name = "b8p2"
key = "vector"
vector_column = "v"
centroids = %[2]q
probes = 2

[[tables]]
name = "items"
key = "vector"
vector_column = "embedding"
centroids = %[3]q
`, header, abs("bare8.json"), abs("c3k4.json"))
	path := filepath.Join(t.TempDir(), "vecshard.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path, WithText(sqltext.Parser{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func vecText(v []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, x)
	}
	b.WriteByte(']')
	return b.String()
}

// TestBareModulo: a bare file with no configured shard count maps centroid
// i to shard i % (the host's shards), for any k, per call; the same
// Snapshot serves 4 and 3 host shards.
func TestBareModulo(t *testing.T) {
	s := loadBare(t, "")
	if b := s.Table("", "b8"); !b.Set.Bare() || b.Set.K() != 8 {
		t.Fatalf("b8: bare %v, k %d", b.Set.Bare(), b.Set.K())
	}
	r := New(s)
	for _, shards := range []int{4, 3} {
		for i, c := range bare8 {
			w := sh(i % shards)
			name := fmt.Sprintf("%d shards/centroid %d", shards, i)
			for pass := 0; pass < 2; pass++ { // analysed, then cached
				checkDecision(t, name+"/param", r.Route("SELECT * FROM b8 ORDER BY v <=> $1 LIMIT 3", ps(vecBin(c...)), shards), w)
				checkDecision(t, name+"/literal", r.Route("SELECT * FROM b8 ORDER BY v <=> '"+vecText(c)+"' LIMIT 3", nil, shards), w)
				checkDecision(t, name+"/insert", r.Route("INSERT INTO b8 (v) VALUES ($1)", ps(txt(vecText(c))), shards), shW(i%shards))
				checkDecision(t, name+"/insert-literal", r.Route("INSERT INTO b8 (v) VALUES ('"+vecText(c)+"')", nil, shards), shW(i%shards))
			}
			if got, err := s.Place(s.Table("", "b8"), vecBin(c...), shards); err != nil || got != i%shards {
				t.Errorf("%s: Place = %d, %v; want %d", name, got, err, i%shards)
			}
			d, ex := r.Explain("SELECT * FROM b8 ORDER BY v <=> $1 LIMIT 3", ps(vecBin(c...)), shards)
			checkDecision(t, name+"/explain", d, w)
			if v := ex.Targets[0].Values[0]; len(v.Centroids) != 1 || v.Centroids[0] != i || v.Shard != i%shards {
				t.Errorf("%s: explain %+v", name, v)
			}
		}
		// probes 2: the top two centroids' shards under this host count.
		// (1, 0.3, 0.3): cos 0.92 with c0, 0.85 with c6, 0.28 with c1, c2.
		// 4 shards: c0 -> 0, c6 -> 2, so ALL; 3 shards: both on shard 0.
		w := allR()
		if shards == 3 {
			w = sh(0)
		}
		for pass := 0; pass < 2; pass++ {
			name := fmt.Sprintf("%d shards/probes", shards)
			checkDecision(t, name+"/param", r.Route("SELECT * FROM b8p2 ORDER BY v <=> $1 LIMIT 3", ps(txt("[1,0.3,0.3]")), shards), w)
			checkDecision(t, name+"/literal", r.Route("SELECT * FROM b8p2 ORDER BY v <=> '[1,0.3,0.3]' LIMIT 3", nil, shards), w)
		}
	}
	// The vecshard-centroids/1 file still names its shard count: under
	// 3 host shards its table is refused, the bare tables route.
	checkDecision(t, "object/4", r.Route("SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(0, 0, 1)), 4), sh(2))
	checkDecision(t, "object/3", r.Route("SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(0, 0, 1)), 3), fails("F0000", "are for 4 shards but the pooler has 3 shards"))
	if _, err := s.Place(s.Table("", "items"), vecBin(0, 0, 1), 3); err == nil || !strings.Contains(err.Error(), "are for 4 shards") {
		t.Errorf("Place on the object file under 3 shards: %v", err)
	}
}

// TestBareConfiguredShards: with shards = N in the configuration a bare
// file of any k loads; the host must then have N shards.
func TestBareConfiguredShards(t *testing.T) {
	r := New(loadBare(t, "shards = 4"))
	checkDecision(t, "4", r.Route("SELECT * FROM b8 ORDER BY v <=> $1 LIMIT 5", ps(vecBin(1, 1, 1)), 4), sh(6%4))
	checkDecision(t, "3", r.Route("SELECT * FROM b8 ORDER BY v <=> $1 LIMIT 5", ps(vecBin(1, 1, 1)), 3), fails("F0000", "configures shards = 4 but the pooler has 3 shards"))
}
