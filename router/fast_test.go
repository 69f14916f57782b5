package router

import (
	"reflect"
	"testing"
)

// TestFastAgrees: for every routing case, and for the shapes the fast path
// takes or leaves (shards, errors, ALL, NULL and missing parameters, LIMIT
// NULL, probes > 1, a ranking after a condition), the fast path answers
// exactly what the general walk answers, message for message.
func TestFastAgrees(t *testing.T) {
	s := loadGood(t)
	cases := append([]routeCase(nil), routeCases...)
	for _, c := range []struct {
		sql string
		ps  [][]Param
	}{
		{"SELECT * FROM users WHERE id = $1", [][]Param{{i8(42)}, {txt("42")}, {txt("x")}, {null()}, {}, {i4(7)}, {bin("abc")}, {vecBin(1, 0, 0)}}},
		{"UPDATE users SET name = 'x' WHERE id = $1", [][]Param{{i8(1)}, {txt("nope")}, {null()}}},
		{"SELECT * FROM accounts WHERE uid = $1", [][]Param{{txt(uuid0)}, {uuidBin(uuid0)}, {txt("not-a-uuid")}}},
		{"SELECT * FROM items ORDER BY embedding <-> $1 LIMIT 5", [][]Param{{vecBin(1, 0, 0)}, {vecBin(0, 1, 0)}, {txt("[0,0,1]")}, {vecBin(1, 0)}, {txt("[1,2")}, {null()}, {halfBin(-1, 0, 0)}}},
		{"SELECT * FROM items ORDER BY embedding <-> $1 LIMIT $2", [][]Param{{vecBin(1, 0, 0), i8(3)}, {vecBin(1, 0, 0), null()}, {vecBin(1, 0)}, {vecBin(1, 0, 0)}}},
		{"SELECT * FROM public.docs ORDER BY embedding <=> $1 LIMIT 3", [][]Param{{vecBin(1, 0, 0)}, {vecBin(1, 1, 0)}, {vecBin(0.5, 0.5, 0.7)}, {txt("[1,1,1]")}}},
		{"SELECT * FROM items WHERE embedding = $1", [][]Param{{vecBin(1, 0, 0)}, {txt("[0,1,0]")}, {txt("[1,2")}}},
		{"SELECT * FROM items WHERE embedding = $1 ORDER BY embedding <-> $2 LIMIT 1", [][]Param{{vecBin(1, 0, 0), vecBin(0, 1, 0)}, {txt("[1,2"), vecBin(0, 1, 0)}, {null(), vecBin(0, 0, 1)}}},
		{"SELECT * FROM items WHERE embedding = $1::text ORDER BY embedding <-> $2 LIMIT 1", [][]Param{{txt("[1,0,0]"), vecBin(0, 1, 0)}, {txt("[1,2"), vecBin(0, 1, 0)}}},
		{"SELECT * FROM sparse_items ORDER BY embedding <-> $1 LIMIT 5", [][]Param{{sparseBin(3, map[int32]float32{0: 1})}, {txt("{1:1}/3")}, {txt("{1:1}/4")}}},
		{"DELETE FROM items WHERE embedding = $1", [][]Param{{vecBin(0, 0, 1)}, {vecBin(1, 0)}}},
	} {
		for _, p := range c.ps {
			for _, shards := range []int{4, 3, 1} {
				cases = append(cases, routeCase{name: c.sql, sql: c.sql, params: p, shards: shards})
			}
		}
	}
	fast := 0
	for _, c := range cases {
		shards := c.shards
		if shards == 0 {
			shards = 4
		}
		p := s.analyzeText(c.sql)
		got := s.decide(p, c.params, shards, nil)
		want := (&call{s: s, shards: shards}).full(p, c.params)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %v (%d shards): fast path %+v, general walk %+v", c.name, c.params, shards, got, want)
		}
		if p.fast != nil {
			fast++
		}
	}
	if fast < 50 {
		t.Errorf("only %d of %d cases have a fast plan", fast, len(cases))
	}
}
