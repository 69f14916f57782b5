package router

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/vecdecode"
)

func TestExplainVector(t *testing.T) {
	r := New(loadGood(t))
	q := "SELECT id FROM items i ORDER BY i.embedding <=> $1 LIMIT 5"
	d, ex := r.Explain(q, ps(vecBin(1, 2, 3)), 4)
	if d.Kind != Shard || d.Shard != 2 || ex.Cached || ex.Statement != "SELECT" || ex.Write || ex.Decision != "SHARD" {
		t.Fatalf("%+v %+v", d, ex)
	}
	want := []TargetExplanation{{Table: "items", Ref: "items i", Role: "read", Key: "vector", Column: "embedding",
		Match: "ORDER BY <=>", Shard: 2,
		Values: []ValueExplanation{{Source: "$1", Binary: true, Type: "vector", Dim: 3, Centroids: []int{2},
			Scores: []float32{float32(3 / math.Sqrt(14))}, Shard: 2}}}} // cos((1,2,3), +z)
	if !reflect.DeepEqual(ex.Targets, want) {
		t.Errorf("targets\n%+v\nwant\n%+v", ex.Targets, want)
	}
	if _, ex := r.Explain(q, ps(vecBin(1, 2, 3)), 4); !ex.Cached {
		t.Error("second explain did not use the cached plan")
	}
	// probes 2: both top centroids listed.
	_, ex = r.Explain("SELECT id FROM docs ORDER BY emb <=> '[0.3,1,0]' LIMIT 5", nil, 4)
	if v := ex.Targets[0].Values[0]; !reflect.DeepEqual(v.Centroids, []int{2, 1}) || v.Shard != -1 || v.Type != "halfvec" || ex.Targets[0].Shard != -1 {
		t.Errorf("probes: %+v", ex.Targets)
	}
}

func TestExplainID(t *testing.T) {
	r := New(loadGood(t))
	d, ex := r.Explain("UPDATE users SET name = 'x' WHERE id IN ($1, 42)", ps(txt("1")), 4)
	if d.Kind != All || !d.Write || ex.Statement != "UPDATE" || !ex.Write {
		t.Fatalf("%+v %+v", d, ex)
	}
	tx := ex.Targets[0]
	if tx.Match != "IN" || tx.Role != "update" || tx.Shard != -1 || len(tx.Values) != 2 {
		t.Fatalf("%+v", tx)
	}
	// FORMATS.md golden keys.
	if tx.Values[0].JumpKey != 0xb456bcfc34c2cb2c || tx.Values[0].Shard != 3 ||
		tx.Values[1].JumpKey != 0x810879608e4259cc || tx.Values[1].Shard != 0 || tx.Values[1].Source != "42" {
		t.Errorf("%+v", tx.Values)
	}
}

func TestExplainNotes(t *testing.T) {
	r := New(loadGood(t))
	for q, note := range map[string]string{
		"SELEC 1":                           "does not parse",
		"SELECT * FROM foo":                 "no configured table",
		"SELECT * FROM users WHERE id = $1": "none were bound",
	} {
		d, ex := r.Explain(q, nil, 4)
		if d.Kind != NoDecision || !strings.Contains(ex.Note, note) {
			t.Errorf("%q: %+v, note %q", q, d, ex.Note)
		}
	}
	_, ex := r.Explain("/* pgdog_shard: 1 */ SELECT 1", nil, 4)
	if ex.Hint != "pgdog_shard: 1" {
		t.Errorf("hint %q", ex.Hint)
	}
	if d, ex := New(nil).Explain("SELECT 1", nil, 4); d.Kind != NoDecision || ex.Note == "" {
		t.Errorf("nil snapshot: %+v %+v", d, ex)
	}
}

func TestPlace(t *testing.T) {
	s := loadGood(t)
	items, users, docs := s.Table("", "items"), s.Table("", "users"), s.Table("", "docs")
	for _, c := range []struct {
		t     *Table
		v     Param
		shard int
	}{
		{items, vecBin(1, 2, 3), 2},
		{items, txt("[-2,1,0]"), 3},
		{docs, txt("[0.3,1,0]"), 1}, // placement ignores probes
		{users, txt("42"), 0},
		{users, i8(1), 3},
	} {
		got, err := s.Place(c.t, c.v, 4)
		if err != nil || got != c.shard {
			t.Errorf("Place(%s, %q) = %d, %v; want %d", c.t.Name, c.v.Data, got, err, c.shard)
		}
	}
	var ke *KeyError
	for _, c := range []struct {
		t      *Table
		v      Param
		shards int
		code   string
	}{
		{items, null(), 4, "23502"},
		{items, txt("[1,2]"), 4, "22000"},
		{users, txt("x"), 4, "22P02"},
		{users, txt("1"), 3, "F0000"},
		{users, txt("1"), 0, "22023"},
	} {
		_, err := s.Place(c.t, c.v, c.shards)
		if !errors.As(err, &ke) || ke.Code != c.code || err.Error() == "" {
			t.Errorf("Place(%s, %q, %d): %v, want code %s", c.t.Name, c.v.Data, c.shards, err, c.code)
		}
	}
}

// TestExplainScores: the similarity of each listed centroid, as the Set
// ranks them (larger is nearer), for every metric and input type.
func TestExplainScores(t *testing.T) {
	r := New(loadGood(t))
	h := float64(toHalfFloat(0.3)) // docs are halfvec: 0.3 is rounded
	for _, c := range []struct {
		name, sql string
		params    []Param
		centroids []int
		scores    []float64
	}{
		{"cosine", "SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(-3, 4, 0)), []int{1}, []float64{0.8}},
		{"cosine-zero", "SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(0, 0, 0)), []int{0}, []float64{0}},
		{"cosine-sparse", "SELECT * FROM sparse_items WHERE sv = $1", ps(sparseBin(3, map[int32]float32{2: 2, 0: -1})), []int{2}, []float64{2 / math.Sqrt(5)}},
		{"cosine-probes", "SELECT * FROM docs ORDER BY emb <=> '[0.3,1,0]' LIMIT 5", nil, []int{2, 1},
			[]float64{1 / math.Hypot(h, 1), (h + 0.2) / (math.Hypot(h, 1) * math.Hypot(1, 0.2))}},
		{"l2", "SELECT * FROM places ORDER BY loc <-> $1 LIMIT 5", ps(vecBin(1, 2, 3)), []int{2}, []float64{-(1 + 4 + 49)}},
		{"inner-product", "SELECT * FROM bare ORDER BY v <#> $1 LIMIT 5", ps(vecBin(0, 1, 5)), []int{2}, []float64{5}},
	} {
		_, ex := r.Explain(c.sql, c.params, 4)
		if len(ex.Targets) == 0 || len(ex.Targets[0].Values) != 1 {
			t.Errorf("%s: %+v", c.name, ex)
			continue
		}
		v := ex.Targets[0].Values[0]
		if !reflect.DeepEqual(v.Centroids, c.centroids) || len(v.Scores) != len(c.scores) {
			t.Errorf("%s: centroids %v scores %v, want %v %v", c.name, v.Centroids, v.Scores, c.centroids, c.scores)
			continue
		}
		for i, want := range c.scores {
			if math.Abs(float64(v.Scores[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: score of centroid %d is %v, want %v", c.name, v.Centroids[i], v.Scores[i], want)
			}
		}
	}
}

// toHalfFloat is f rounded to binary16, as a halfvec column stores it.
func toHalfFloat(f float32) float32 {
	v := []float32{f}
	vecdecode.RoundHalf(v)
	return v[0]
}
