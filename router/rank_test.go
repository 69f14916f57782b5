package router

import (
	"strings"
	"testing"
)

// TestRankingReasons: every shape that needs all shards says why in
// Explain's Note (and the target's Reason); the shapes that route say
// nothing. Each failed on the code before issue 11 (it routed to one
// shard, or went to ALL without a reason).
func TestRankingReasons(t *testing.T) {
	r := New(loadGood(t))
	q := ps(vecBin(1, 2, 3))
	for _, c := range []struct {
		sql    string
		params []Param
		kind   Kind
		why    string
	}{
		{"SELECT id FROM items ORDER BY embedding <=> $1", q, All, whyNoLimit},
		{"SELECT id FROM items ORDER BY embedding <=> $1 LIMIT ALL", q, All, whyNoLimit},
		{"SELECT id FROM items ORDER BY embedding <=> $1 LIMIT $2", ps(vecBin(1, 2, 3), null()), All, whyNullLimit},
		{"SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5", q, All, whyFarthest},
		{"SELECT id FROM items ORDER BY embedding <-> $1 USING > LIMIT 5", q, All, whyFarthest},
		{"SELECT id FROM items ORDER BY 1 - (embedding <=> $1) LIMIT 5", q, All, whyFarthest},
		{"SELECT id FROM items ORDER BY (embedding <-> $1) + price LIMIT 5", q, All, whyMixed},
		{"SELECT * FROM items WHERE embedding <-> $1 < 5", q, All, whyThreshold},
		{"SELECT * FROM items WHERE embedding <-> $1 < 5 ORDER BY embedding <-> $1 LIMIT 5", q, All, whyThreshold},
		{"SELECT embedding <-> $1 AS d FROM items", q, All, whySelect},
		{"SELECT id FROM items ORDER BY category_id, embedding <=> $1 LIMIT 5", q, All, whyLaterSort},
		{"SELECT AVG(embedding) FROM items", nil, All, whyAggregate},
		{"SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 5", nil, All, whySubquery},
		{"DECLARE c CURSOR FOR SELECT * FROM items ORDER BY embedding <=> '[1,2,3]'", nil, All, whyNoLimit},
		{"SELECT id FROM items ORDER BY binary_quantize(embedding)::bit(3) <~> $1 LIMIT 5", ps(txt("101")), All, whyExpr},
		{"SELECT id FROM items WHERE category_id = 1", nil, All, "no key condition on embedding"},
		{"SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1 LIMIT 5", q, Shard, ""},
		{"SELECT id FROM items ORDER BY embedding <+> $1 LIMIT 5", q, Shard, ""},
		{"SELECT id FROM items ORDER BY inner_product(embedding, $1) DESC LIMIT 5", q, Shard, ""},
	} {
		d, ex := r.Explain(c.sql, c.params, 4)
		if d.Kind != c.kind || (c.why == "") != (ex.Note == "") || !strings.Contains(ex.Note, c.why) {
			t.Errorf("%s: %v, note %q; want %v, note %q", c.sql, d.Kind, ex.Note, c.kind, c.why)
		}
		if c.kind == All && (len(ex.Targets) == 0 || ex.Targets[0].Reason == "") {
			t.Errorf("%s: no target reason: %+v", c.sql, ex.Targets)
		}
		if got := r.Route(c.sql, c.params, 4); got != d {
			t.Errorf("%s: Route %+v, Explain %+v", c.sql, got, d)
		}
	}
}

// TestRankingErrors: a bad query vector is an ERROR in the shapes that go
// to ALL too (before, a threshold or a select-list distance ignored it).
func TestRankingErrors(t *testing.T) {
	r := New(loadGood(t))
	for _, c := range []struct{ sql, code, msg string }{
		{"SELECT * FROM items WHERE embedding <-> $1 < 5", "22000", "expected 3 dimensions, not 2"},
		{"SELECT embedding <-> $1 FROM items", "22000", "expected 3 dimensions, not 2"},
		{"SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5", "22000", "expected 3 dimensions, not 2"},
		{"SELECT id FROM items ORDER BY embedding <=> $1", "22000", "expected 3 dimensions, not 2"},
		{"SELECT id FROM items ORDER BY subvector(embedding, 1, 2)::vector(2) <-> subvector($1, 1, 2)::vector(2) LIMIT 5", "22000", "expected 3 dimensions, not 2"},
	} {
		d := r.Route(c.sql, ps(txt("[1,2]")), 4)
		if d.Kind != Error || d.Code != c.code || d.Message != c.msg {
			t.Errorf("%s: %+v, want %s %q", c.sql, d, c.code, c.msg)
		}
	}
}

// TestBadValueQuoteCapped: a message quotes at most 64 bytes of a bad
// value and says so (before, a 1 MiB bad parameter made a 1 MiB message,
// which the C ABI keeps for the life of the process).
func TestBadValueQuoteCapped(t *testing.T) {
	r := New(loadGood(t))
	big := "[" + strings.Repeat("x", 1<<20) + "]"
	for _, c := range []struct {
		sql  string
		want string
	}{
		{"SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", `invalid input syntax for type vector: "[xxx`},
		{"SELECT * FROM users WHERE id = $1", `invalid input syntax for type bigint: "[xxx`},
	} {
		d := r.Route(c.sql, ps(txt(big)), 4)
		if d.Kind != Error || len(d.Message) > 200 || !strings.HasPrefix(d.Message, c.want) ||
			!strings.Contains(d.Message, `..." (the value has 1048578 bytes; vecshard quotes the first 64)`) {
			t.Errorf("%s: %d bytes: %.300s", c.sql, len(d.Message), d.Message)
		}
	}
	// Short values are quoted whole, as the server does.
	if d := r.Route("SELECT * FROM users WHERE id = $1", ps(txt("abc")), 4); d.Message != `invalid input syntax for type bigint: "abc"` {
		t.Errorf("short value: %q", d.Message)
	}
}

// TestBinarySniff: a binary vector sent for a halfvec comparison (and the
// reverse) is read by its length, as the server reads the declared type.
func TestBinarySniff(t *testing.T) {
	r := New(loadGood(t))
	for _, c := range []struct {
		sql string
		p   Param
	}{
		{"SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1 LIMIT 5", vecBin(0, 0, 1)},
		{"SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1 LIMIT 5", halfBin(0, 0, 1)},
		{"SELECT id FROM items ORDER BY embedding <-> $1::halfvec(3) LIMIT 5", vecBin(0, 0, 1)},
		{"SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5", halfBin(0, 0, 1)},
	} {
		if d := r.Route(c.sql, ps(c.p), 4); d.Kind != Shard || d.Shard != 2 {
			t.Errorf("%s (%d bytes): %+v", c.sql, len(c.p.Data), d)
		}
	}
}

// TestRankingAllocs: the shapes that decode query vectors only for their
// errors allocate nothing on a cached plan either.
func TestRankingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	r := New(loadGood(t))
	for _, sql := range []string{
		"SELECT * FROM items WHERE embedding <-> $1 < 5 ORDER BY embedding <-> $1 LIMIT 5",
		"SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5",
		"SELECT id FROM items ORDER BY embedding::halfvec(3) <-> $1 LIMIT $2",
	} {
		params := []Param{vecBin(1, 2, 3), txt("5")}
		r.Route(sql, params, 4)
		if n := testing.AllocsPerRun(100, func() { r.Route(sql, params, 4) }); n != 0 {
			t.Errorf("%s: %v allocations per call", sql, n)
		}
	}
}
