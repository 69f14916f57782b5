package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `goos: linux
# BenchmarkShards setup: S=4 rows=10000 queries=100: servers 5s; total 40s
BenchmarkShards/S=4/path=routed/ef=40/conns=8-2   	 100	 2397660 ns/op	 2.0 p50-ms	 4.0 p99-ms	 400 queries/s	 0.96 recall@10	 1.000 shards/query
BenchmarkShards/S=4/path=routed/ef=40/conns=8-2   	 100	 2397660 ns/op	 4.0 p50-ms	 6.0 p99-ms	 600 queries/s	 0.96 recall@10	 1.000 shards/query
BenchmarkShards/S=4/path=fanout/ef=40/conns=8-2   	 100	 2397660 ns/op	 3.0 p50-ms	 5.0 p99-ms	 125 queries/s	 0.99 recall@10	 4.000 shards/query
BenchmarkShards/S=4/path=reference/ef=40/conns=8-2	 100	 2397660 ns/op	 1.0 p50-ms	 2.0 p99-ms	 900 queries/s	 0.98 recall@10	 1.000 shards/query
BenchmarkShards/S=4/path=routed/ef=40/conns=1     	 100	 2397660 ns/op	 1.0 p50-ms	 2.0 p99-ms	 300 queries/s	 0.96 recall@10	 1.000 shards/query
PASS
`

// TestParse averages repeated runs, strips the GOMAXPROCS suffix and
// prints the target ratios; the plot is written.
func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4", len(res))
	}
	r := res[0]
	if r.path != "routed" || r.conns != 1 || r.runs != 1 {
		t.Errorf("first result %+v, want routed conns=1", r.key)
	}
	r = res[1]
	if r.path != "routed" || r.conns != 8 || r.runs != 2 || r.units["queries/s"] != 500 || r.units["p50-ms"] != 3 {
		t.Errorf("routed conns=8: %+v %v", r.key, r.units)
	}
	var b strings.Builder
	writeTable(&b, res)
	if !strings.Contains(b.String(), "| 4 | 40 | 8 | 4.00 | 1.00 S | 0.9796 |") {
		t.Errorf("table:\n%s", b.String())
	}
	out := filepath.Join(t.TempDir(), "p.png")
	if err := writePlot(out, res, 8); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("plot: %v", err)
	}
}
