package router

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/sqltext"
)

// FuzzRoute feeds arbitrary SQL and parameter bytes. The router must not
// panic, and every decision must be one of the kinds with a shard in range
// and, for errors, a SQLSTATE and a message.
//
// The configuration follows the fuzzed shard count (fuzzConfigs): against
// a config fixed at 4 shards most counts would stop at the shard-count
// check. The high bit of shards selects a config of another count, so
// that check is still reached.
func FuzzRoute(f *testing.F) {
	for _, c := range routeCases {
		var p0, p1 []byte
		bin := false
		if len(c.params) > 0 {
			p0, bin = c.params[0].Data, c.params[0].Binary
		}
		if len(c.params) > 1 {
			p1 = c.params[1].Data
		}
		n := c.shards
		if n == 0 {
			n = 4
		}
		f.Add(c.sql, p0, p1, bin, uint8(n-1))
	}
	routers := fuzzConfigs(f)
	f.Fuzz(func(t *testing.T, sql string, p0, p1 []byte, bin bool, shards uint8) {
		n := int(shards%8) + 1
		r := routers[n]
		if shards&0x80 != 0 {
			r = routers[n%8+1] // configured for another count
		}
		params := []Param{{Data: p0, Binary: bin}, {Data: p1, Binary: !bin}}
		for np := 0; np <= 2; np++ {
			d := r.Route(sql, params[:np], n)
			check(t, d, n)
			d2, _ := r.Explain(sql, params[:np], n)
			if d2 != d {
				t.Fatalf("Explain %+v, Route %+v", d2, d)
			}
		}
	})
}

// fuzzConfigs returns, for each shard count n in 1..8, a router whose
// config is testdata/good.toml with shards = n and every centroid file
// rewritten as a bare array (which fits any count), keeping its metric.
func fuzzConfigs(tb testing.TB) map[int]*Router {
	tb.Helper()
	good, err := os.ReadFile("testdata/good.toml")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	text := string(good)
	files, _ := filepath.Glob("testdata/*.json")
	for _, path := range files {
		cf, err := centroids.Load(path)
		if err != nil {
			tb.Fatal(err)
		}
		name := filepath.Base(path)
		cf.Shards, cf.ShardOf = 0, nil
		b, err := cf.MarshalBare()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			tb.Fatal(err)
		}
		line := fmt.Sprintf("centroids = %q", name)
		if cf.Metric != centroids.Cosine && strings.Contains(text, line+"\n") && !strings.Contains(text, line+"\nmetric") {
			text = strings.ReplaceAll(text, line+"\n", line+"\nmetric = \""+cf.Metric.String()+"\"\n")
		}
	}
	routers := map[int]*Router{}
	for n := 1; n <= 8; n++ {
		path := filepath.Join(dir, fmt.Sprintf("good%d.toml", n))
		cfg := strings.Replace(text, "shards = 4\n", fmt.Sprintf("shards = %d\n", n), 1)
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			tb.Fatal(err)
		}
		s, err := Load(path, WithText(sqltext.Parser{}))
		if err != nil {
			tb.Fatal(err)
		}
		routers[n] = New(s)
	}
	return routers
}

// TestFuzzConfigs: each fuzz config routes a search under its own shard
// count (the old fuzz config refused every count but 4).
func TestFuzzConfigs(t *testing.T) {
	for n, r := range fuzzConfigs(t) {
		d := r.Route("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", []Param{vecBin(0, 0, 1)}, n)
		if d.Kind != Shard || d.Shard != 2%n {
			t.Errorf("%d shards: %+v, want shard %d", n, d, 2%n)
		}
	}
}

func check(t *testing.T, d Decision, shards int) {
	switch d.Kind {
	case NoDecision, All:
	case Shard:
		if d.Shard < 0 || d.Shard >= shards {
			t.Fatalf("shard %d of %d", d.Shard, shards)
		}
	case Error:
		if len(d.Code) != 5 || d.Message == "" {
			t.Fatalf("error without code or message: %+v", d)
		}
	default:
		t.Fatalf("kind %d", d.Kind)
	}
}
