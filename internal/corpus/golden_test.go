package corpus_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt with the router's decisions")

// golden routes every case with the router and renders one line per case:
// name, KIND, shard (or -), r|w, SQLSTATE (or -), separated by tabs.
func golden(t *testing.T) []byte {
	t.Helper()
	snap, err := router.Load(filepath.Join(corpus.ConfigDir(), "vecshard.toml"), router.WithText(sqltext.Parser{}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, c := range corpus.Cases() {
		params := make([]router.Param, len(c.Params))
		for i, p := range c.Params {
			if p.Null {
				continue // the router's NULL: no Data
			}
			params[i] = router.Param{Data: p.Data, Binary: p.Binary}
		}
		d := snap.Route(c.SQL, params, c.Shards)
		shard, rw, code := "-", "r", "-"
		if d.Kind == router.Shard {
			shard = fmt.Sprint(d.Shard)
		}
		if d.Write {
			rw = "w"
		}
		if d.Kind == router.Error {
			code = d.Code
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\t%s\t%s\n", c.Name, d.Kind, shard, rw, code)
	}
	return out.Bytes()
}

// TestGolden compares the router's decisions with testdata/golden.txt
// (go test -run TestGolden -update rewrites it).
func TestGolden(t *testing.T) {
	got := golden(t)
	path := filepath.Join(corpus.ConfigDir(), "golden.txt")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := map[string]string{}
	var order []string
	for _, l := range strings.Split(strings.TrimSuffix(string(want), "\n"), "\n") {
		name, _, _ := strings.Cut(l, "\t")
		wantLines[name] = l
		order = append(order, name)
	}
	gotLines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
		name, _, _ := strings.Cut(l, "\t")
		gotLines[name] = l
		if w, ok := wantLines[name]; !ok {
			t.Errorf("case not in golden.txt: %s", l)
		} else if w != l {
			t.Errorf("decision changed:\n  golden: %s\n  now:    %s", w, l)
		}
	}
	for _, name := range order {
		if _, ok := gotLines[name]; !ok {
			t.Errorf("golden.txt names a case the corpus lacks: %s", name)
		}
	}
	if !t.Failed() && !bytes.Equal(got, want) {
		t.Errorf("golden.txt is out of order; run go test -run TestGolden -update")
	}
}
