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

// golden routes every case with the router under PgDog v0.1.54's merge
// rules (what the vtable library routes by) and renders one line per case:
// name, KIND, shard (or -), r|w, SQLSTATE (or -), separated by tabs.
func golden(t *testing.T) []byte {
	t.Helper()
	return render(t, decisions(t, router.WithHost(router.PgDog)))
}

// decisions routes every case with the corpus configuration loaded with
// opts (and the text front end).
func decisions(t *testing.T, opts ...router.Option) []router.Decision {
	t.Helper()
	snap, err := router.Load(filepath.Join(corpus.ConfigDir(), "vecshard.toml"), append([]router.Option{router.WithText(sqltext.Parser{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var ds []router.Decision
	for _, c := range corpus.Cases() {
		params := make([]router.Param, len(c.Params))
		for i, p := range c.Params {
			if p.Null {
				continue // the router's NULL: no Data
			}
			params[i] = router.Param{Data: p.Data, Binary: p.Binary}
		}
		ds = append(ds, snap.Route(c.SQL, params, c.Shards))
	}
	return ds
}

// render writes the golden lines of the corpus's decisions ds.
func render(t *testing.T, ds []router.Decision) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, c := range corpus.Cases() {
		d := ds[i]
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

// TestGoldenUnknownPooler: without a pooler's merge rules (the January
// 2025 C ABI library) the router answers every case as under PgDog's,
// except that a ranking PgDog cannot merge goes to ALL: the ranking
// policy only ever replaces an ALL.
func TestGoldenUnknownPooler(t *testing.T) {
	pgdog := decisions(t, router.WithHost(router.PgDog))
	changed := 0
	for i, d := range decisions(t) {
		p := pgdog[i]
		p.Warning = ""
		if d == p {
			continue
		}
		changed++
		if d.Kind != router.All || p.Kind == router.All {
			t.Errorf("%s: unknown pooler %+v, PgDog %+v", corpus.Cases()[i].Name, d, p)
		}
	}
	if changed == 0 {
		t.Error("no case is answered differently under PgDog's rules")
	}
	t.Logf("%d cases answered differently under PgDog's merge rules", changed)
}
