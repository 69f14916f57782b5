package pgtree_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/pgtree"
	"github.com/vecshard/vecshard/sqlir"
)

// BenchmarkRead reads the PostgreSQL 18 trees of the routing benchmark's
// statements (id lookup, similarity search, INSERT) into sqlir's encoding:
// the per-call cost the vtable ABI adds before the plan cache lookup.
func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("../plugin/vtable/testdata/bench18.json")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i, name := range []string{"search", "id-lookup", "uuid-lookup", "insert"} {
		a := pgtree.NewArena(nil)
		root, err := a.BuildJSON([]byte(lines[i]))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var bld sqlir.Builder
			b.ReportAllocs()
			for b.Loop() {
				bld.Reset()
				if err := pgtree.Read(&bld, root); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bld.Bytes())), "bytes")
		})
	}
}

// TestReadAllocs: reading a tree into a warm Builder allocates nothing.
func TestReadAllocs(t *testing.T) {
	data, err := os.ReadFile("../plugin/vtable/testdata/bench18.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		root, err := pgtree.NewArena(nil).BuildJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		var b sqlir.Builder
		read := func() {
			b.Reset()
			if err := pgtree.Read(&b, root); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if n := testing.AllocsPerRun(100, read); n != 0 {
			t.Errorf("%v allocations per Read", n)
		}
	}
}

// BenchmarkMemoRead is BenchmarkRead through a Memo: the tree PgDog passes
// again at every Bind, proven unchanged byte by byte.
func BenchmarkMemoRead(b *testing.B) {
	data, err := os.ReadFile("../plugin/vtable/testdata/bench18.json")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i, name := range []string{"search", "id-lookup", "uuid-lookup", "insert"} {
		root, err := pgtree.NewArena(nil).BuildJSON([]byte(lines[i]))
		if err != nil {
			b.Fatal(err)
		}
		m := pgtree.NewMemo[struct{}](64)
		b.Run(name, func(b *testing.B) {
			var bld sqlir.Builder
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Read(&bld, root); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
