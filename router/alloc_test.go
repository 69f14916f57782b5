package router

import (
	"testing"

	"github.com/vecshard/vecshard/sqlir"
	"github.com/vecshard/vecshard/sqltext"
)

// The cached routing path allocates nothing (ROUTING.md, Speed).
func TestRouteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	r := New(loadGood(t))
	uuidText := txt(uuid0)
	cases := []struct {
		name, sql string
		params    []Param
	}{
		{"vector-binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3))},
		{"vector-text", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[1,2,3]"))},
		{"vector-literal", "SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5", nil},
		{"halfvec-probes", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(halfBin(1, 0.1, 0))},
		{"sparse-text", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", ps(txt("{3:1}/3"))},
		{"insert-vector", "INSERT INTO items (id, embedding) VALUES ($1, $2)", ps(i8(1), vecBin(1, 2, 3))},
		{"insert-rows", "INSERT INTO users (id) VALUES ($1), ($2)", ps(i8(1), txt("1"))},
		{"id-binary", "SELECT * FROM users WHERE id = $1", ps(i8(42))},
		{"id-uuid-text", "SELECT * FROM accounts WHERE uid = $1", ps(uuidText)},
		{"id-any-binary", "SELECT * FROM users WHERE id = ANY($1)", ps(int8Array(p64(1), p64(1)))},
		{"id-any-text", "SELECT * FROM users WHERE id = ANY($1)", ps(txt(`{1,"1"}`))},
		{"id-in", "SELECT * FROM users WHERE id IN ($1, $2)", ps(i8(1), i8(42))},
		{"hint", "/* pgdog_shard: 2 */ SELECT * FROM items", nil},
		{"none", "SELECT 1", nil},
		{"all", "SELECT * FROM items", nil},
	}
	for _, c := range cases {
		d := r.Route(c.sql, c.params, 4)
		if d.Kind == Error {
			t.Fatalf("%s: %+v", c.name, d)
		}
		if n := testing.AllocsPerRun(200, func() { r.Route(c.sql, c.params, 4) }); n != 0 {
			t.Errorf("%s: %v allocations per cached Route", c.name, n)
		}
	}
}

// TestRouteParamsOnStack: params does not escape, so a caller may build its
// []Param per call on the stack (as the plugin does from the host's C
// array) without a heap allocation.
func TestRouteParamsOnStack(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	r := New(loadGood(t))
	v := vecBin(1, 2, 3).Data
	q := "INSERT INTO items (id, embedding) VALUES ($1, $2)"
	id := i8(7).Data
	route := func() Decision {
		var arr [2]Param // escapes to the heap if Route's params escapes
		arr[0] = Param{Data: id, Binary: true}
		arr[1] = Param{Data: v, Binary: true}
		return r.Route(q, arr[:], 4)
	}
	if d := route(); d.Kind != Shard || d.Shard != 2 {
		t.Fatalf("%+v", d)
	}
	if n := testing.AllocsPerRun(200, func() { route() }); n != 0 {
		t.Errorf("%v allocations per Route with a per-call []Param", n)
	}
}

// TestRouteTreeAllocs: the cached parse-tree path (RouteTree, the vtable
// ABI) allocates nothing either; the trees come from the text front end.
func TestRouteTreeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	s := loadGood(t)
	for _, c := range []struct {
		name, sql string
		params    []Param
	}{
		{"vector-binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3))},
		{"vector-literal", "SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5", nil},
		{"insert-vector", "INSERT INTO items (id, embedding) VALUES ($1, $2)", ps(i8(1), vecBin(1, 2, 3))},
		{"id-binary", "SELECT * FROM users WHERE id = $1", ps(i8(42))},
		{"id-uuid-text", "SELECT * FROM accounts WHERE uid = $1", ps(txt(uuid0))},
		{"none", "SELECT 1", nil},
	} {
		var b sqlir.Builder
		if err := (sqltext.Parser{}).Parse(&b, c.sql); err != nil {
			t.Fatal(err)
		}
		tree := b.Bytes()
		if d := s.RouteTree(tree, c.params, 4); d.Kind == Error {
			t.Fatalf("%s: %+v", c.name, d)
		}
		if n := testing.AllocsPerRun(200, func() { s.RouteTree(tree, c.params, 4) }); n != 0 {
			t.Errorf("%s: %v allocations per cached RouteTree", c.name, n)
		}
	}
}
