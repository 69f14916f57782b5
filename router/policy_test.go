package router

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/sqltext"
)

func loadPolicy(t testing.TB, opts ...Option) *Snapshot {
	t.Helper()
	s, err := Load("testdata/policy.toml", append([]Option{WithText(sqltext.Parser{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answer renders a decision for the policy table: S<n> (a shard), S<n>w (a
// shard with a warning), ALL, ERR <code>, NONE.
func answer(d Decision) string {
	switch d.Kind {
	case Shard:
		if d.Warning != "" {
			return fmt.Sprintf("S%dw", d.Shard)
		}
		return fmt.Sprintf("S%d", d.Shard)
	case All:
		return "ALL"
	case Error:
		return "ERR " + d.Code
	}
	return "NONE"
}

// policyShapes are the ranking shapes of ROUTING.md's "Rankings across
// shards" table. T is the table; $1 is [3,1,0], whose nearest centroid is
// on shard 0 (with probes = 2 the second is on shard 1). guarded1/2: the
// answer with probes 1/2 under PgDog's merge rules and the default policy;
// open1/2: under cross_shard_ranking = "all" or a pooler whose rules are
// not known (the January 2025 C ABI). fix: in the warning or the refusal,
// the rewrite vecshard names.
var policyShapes = []struct {
	name, sql          string
	guarded1, guarded2 string
	open1, open2       string
	fix                string
	limitNull          bool // $2 is a NULL LIMIT
}{
	{"canonical", "SELECT id FROM T ORDER BY embedding <=> $1 LIMIT 10",
		"S0", "S0w", "S0", "ALL", "SELECT ..., embedding <=> $1 AS distance FROM T ... ORDER BY distance LIMIT 10", false},
	{"l2-expression", "SELECT id, embedding FROM T ORDER BY embedding <-> $1 LIMIT 10",
		"S0", "S0w", "S0", "ALL", "SELECT ..., embedding <-> $1 AS distance FROM T ... ORDER BY distance LIMIT 10", false},
	{"function", "SELECT id FROM T ORDER BY cosine_distance(embedding, $1::vector(3)) LIMIT $2",
		"S0", "S0w", "S0", "ALL", "SELECT ..., cosine_distance(embedding, $1::vector(3)) AS distance FROM T ... ORDER BY distance LIMIT $2", false},
	{"similarity-expression-desc", "SELECT id FROM T ORDER BY 1 - (embedding <=> $1) DESC LIMIT 5",
		"S0", "S0w", "S0", "ALL", "SELECT ..., 1 - (embedding <=> $1) AS distance FROM T ... ORDER BY distance DESC LIMIT 5", false},
	{"alias", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"position", "SELECT id, embedding <=> $1 FROM T ORDER BY 2 LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"similarity-alias-desc", "SELECT id, 1 - (embedding <=> $1) AS similarity FROM T ORDER BY similarity DESC LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"alias-float8-cast", "SELECT id, (embedding <#> $1)::float8 * -1 AS score FROM T ORDER BY score DESC LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"alias-then-returned-column", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance, id LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"alias-then-star-column", "SELECT *, embedding <=> $1 AS distance FROM T ORDER BY distance, id LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"alias-nulls-last", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance NULLS LAST LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"expression-then-id", "SELECT id FROM T ORDER BY embedding <=> $1, id LIMIT 10",
		"S0", "S0w", "S0", "ALL", "ORDER BY distance LIMIT 10", false},
	{"alias-then-unreturned", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance, category_id LIMIT 10",
		"S0", "S0w", "S0", "ALL", "is not a column the statement returns", false},
	{"alias-float4", "SELECT id, (embedding <=> $1)::float4 AS d FROM T ORDER BY d LIMIT 10",
		"S0", "S0w", "S0", "ALL", "SELECT ..., (embedding <=> $1)::float4 AS distance FROM T", false},
	{"alias-mixed", "SELECT id, (embedding <-> $1) + price AS d FROM T ORDER BY d LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "SELECT ..., (embedding <-> $1) + price AS distance FROM T ... ORDER BY distance LIMIT 10", false},
	{"using-lt", "SELECT id, embedding <-> $1 AS d FROM T ORDER BY d USING < LIMIT 10",
		"S0", "S0w", "S0", "ALL", "ORDER BY distance LIMIT 10", false},
	{"nested-cte", "WITH nn AS (SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance LIMIT 10) SELECT * FROM nn",
		"S0", "S0w", "S0", "ALL", "ORDER BY distance LIMIT 10, as the outermost statement", false},
	{"nested-subquery", "SELECT * FROM (SELECT id FROM T ORDER BY embedding <=> $1 LIMIT 10) s WHERE s.id > 3",
		"S0", "S0w", "S0", "ALL", "as the outermost statement", false},

	{"farthest-desc", "SELECT id FROM T ORDER BY embedding <=> $1 DESC LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "SELECT ..., embedding <=> $1 AS distance FROM T ... ORDER BY distance DESC LIMIT 10", false},
	{"farthest-using", "SELECT id FROM T ORDER BY embedding <-> $1 USING > LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "SELECT ..., embedding <-> $1 AS distance FROM T ... ORDER BY distance DESC LIMIT 10", false},
	{"farthest-similarity-asc", "SELECT id FROM T ORDER BY 1 - (embedding <=> $1) LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "SELECT ..., 1 - (embedding <=> $1) AS distance FROM T ... ORDER BY distance LIMIT 10", false},
	{"farthest-alias", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance DESC LIMIT 10",
		"ALL", "ALL", "ALL", "ALL", "", false},
	{"no-limit", "SELECT id FROM T ORDER BY embedding <=> $1",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "SELECT ..., embedding <=> $1 AS distance FROM T ... ORDER BY distance (or set", false},
	{"no-limit-alias", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance",
		"ALL", "ALL", "ALL", "ALL", "", false},
	{"limit-null", "SELECT id FROM T ORDER BY embedding <=> $1 LIMIT $2",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "ORDER BY distance LIMIT $2", true},
	{"limit-null-alias", "SELECT id, embedding <=> $1 AS distance FROM T ORDER BY distance LIMIT $2",
		"ALL", "ALL", "ALL", "ALL", "", true},
	{"threshold", "SELECT id FROM T WHERE embedding <=> $1 < 0.5 ORDER BY embedding <=> $1 LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "a distance in WHERE", false},
	{"threshold-alias", "SELECT id, embedding <=> $1 AS distance FROM T WHERE embedding <=> $1 < 0.5 ORDER BY distance LIMIT 10",
		"ALL", "ALL", "ALL", "ALL", "", false},
	{"nested-farthest", "SELECT * FROM (SELECT id, embedding <=> $1 AS d FROM T ORDER BY d DESC LIMIT 10) s",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "ORDER BY distance DESC LIMIT 10, as the outermost statement", false},
	{"explain-farthest", "EXPLAIN SELECT id FROM T ORDER BY embedding <=> $1 DESC LIMIT 10",
		"ALL", "ALL", "ALL", "ALL", "", false},
	{"explain-probes", "EXPLAIN SELECT id FROM T ORDER BY embedding <=> $1 LIMIT 10",
		"S0", "ALL", "S0", "ALL", "", false},
	{"join-all", "SELECT t.id FROM T t JOIN users u ON u.id = t.id ORDER BY t.embedding <=> $1 LIMIT 10",
		"ERR 0A000", "ERR 0A000", "ALL", "ALL", "the statement reads other tables on every shard", false},
	{"join-all-alias", "SELECT t.id, t.embedding <=> $1 AS distance FROM T t JOIN users u ON u.id = t.id ORDER BY distance LIMIT 10",
		"ALL", "ALL", "ALL", "ALL", "", false},
	{"join-pinned", "SELECT t.id FROM T t JOIN users u ON u.id = t.id WHERE u.id = 42 ORDER BY t.embedding <=> $1 LIMIT 10",
		"S0", "S0w", "S0", "ALL", "", false},
}

// TestRankingPolicy: every ranking shape, with probes 1 and 2, under each
// policy and pooler: the decision, and the rewrite in the warning or the
// refusal.
func TestRankingPolicy(t *testing.T) {
	pgdog := loadPolicy(t, WithHost(PgDog))
	unknown := loadPolicy(t)
	q := vecBin(3, 1, 0)
	for _, sh := range policyShapes {
		ps := []Param{q, i8(10)}
		if sh.limitNull {
			ps[1] = null()
		}
		for _, c := range []struct {
			snap   *Snapshot
			host   string
			table  string
			want   string
			probes int
		}{
			{pgdog, "pgdog", "near1", sh.guarded1, 1},
			{pgdog, "pgdog", "near2", sh.guarded2, 2},
			{pgdog, "pgdog", "all1", sh.open1, 1},
			{pgdog, "pgdog", "all2", sh.open2, 2},
			{unknown, "unknown", "near1", sh.open1, 1},
			{unknown, "unknown", "near2", sh.open2, 2},
		} {
			sql := strings.ReplaceAll(sh.sql, " T", " "+c.table)
			name := fmt.Sprintf("%s/%s/%s", sh.name, c.host, c.table)
			// Two calls: the analysis, then the cached plan (the fast path
			// where the plan has one).
			for i := range 2 {
				d := c.snap.Route(sql, ps, 4)
				if got := answer(d); got != c.want {
					t.Errorf("%s (call %d): %s, want %s: %+v\n  %s", name, i+1, got, c.want, d, sql)
					continue
				}
				text := d.Warning + d.Message
				if fix := strings.ReplaceAll(sh.fix, " T", " "+c.table); fix != "" && (d.Kind == Error || d.Warning != "") && !strings.Contains(text, fix) {
					t.Errorf("%s: %q does not name %q", name, text, fix)
				}
				if d.Kind == Error && !strings.Contains(d.Message, `cross_shard_ranking = "all" for `+c.table) {
					t.Errorf("%s: %q does not name the policy", name, d.Message)
				}
				if d.Warning != "" && !strings.Contains(d.Warning, "probes = 2") {
					t.Errorf("%s: warning %q does not name probes", name, d.Warning)
				}
			}
			// Explain agrees, and says why.
			d, ex := c.snap.Explain(sql, ps, 4)
			if got := answer(d); got != c.want {
				t.Errorf("%s: explain %s, want %s", name, got, c.want)
			}
			if d.Warning != ex.Warning {
				t.Errorf("%s: explain warning %q, decision %q", name, ex.Warning, d.Warning)
			}
			if (d.Kind == Error || d.Warning != "") && !explainSays(ex, "the pooler cannot merge this ORDER BY") {
				t.Errorf("%s: explain gives no reason: %+v", name, ex)
			}
		}
	}
}

func explainSays(ex Explanation, s string) bool {
	if strings.Contains(ex.Note, s) {
		return true
	}
	for _, tg := range ex.Targets {
		if strings.Contains(tg.Reason, s) {
			return true
		}
	}
	return false
}

// TestRankingPolicyValues: a NULL or unreadable query vector of a guarded
// ranking is refused (ALL would return each shard's rows); a wrong one is
// the decoder's error as before; before Bind there is no decision.
func TestRankingPolicyValues(t *testing.T) {
	s := loadPolicy(t, WithHost(PgDog))
	for _, c := range []struct {
		sql  string
		ps   []Param
		want string
		msg  string
	}{
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", []Param{null()}, "ERR 0A000", "the query vector is NULL"},
		{"SELECT id FROM near1 ORDER BY embedding <=> $1 LIMIT 10", []Param{null()}, "ERR 0A000", "the query vector is NULL"},
		{"SELECT id FROM near1 ORDER BY embedding <=> $1::float4[]::vector LIMIT 10", []Param{txt("{1,2,3}")}, "ERR 0A000", "cannot be read"},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", []Param{txt("[1,2")}, "ERR 22P02", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 DESC LIMIT 10", []Param{txt("[1,2,3,4]")}, "ERR 22000", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", nil, "NONE", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 DESC LIMIT 10", nil, "NONE", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> '[3,1,0]' LIMIT 10", nil, "S0w", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> '[-1,0,0.5]' LIMIT 10", nil, "S3w", ""},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", []Param{txt("[0,0.2,1]")}, "S2w", ""},
		{"SELECT id FROM near2 WHERE embedding = $2 ORDER BY embedding <=> $1 LIMIT 10", []Param{txt("[0,0.2,1]"), txt("[0,1,0]")}, "S1", ""},
		{"SELECT id FROM near2 WHERE embedding = $2 ORDER BY embedding <=> $1 LIMIT 10", []Param{txt("[0,0.2,1]"), null()}, "S2w", ""},
	} {
		for i := range 2 {
			d := s.Route(c.sql, c.ps, 4)
			if got := answer(d); got != c.want || !strings.Contains(d.Message, c.msg) {
				t.Errorf("%s %v (call %d): %s %q, want %s %q", c.sql, c.ps, i+1, got, d.Message, c.want, c.msg)
			}
		}
	}
}

// TestRankingPolicyWrites: a ranking SELECT ... FOR UPDATE is guarded like
// a read and keeps its WRITE.
func TestRankingPolicyWrites(t *testing.T) {
	s := loadPolicy(t, WithHost(PgDog))
	q := vecBin(3, 1, 0)
	for _, c := range []struct {
		sql   string
		want  string
		write bool
	}{
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 5 FOR UPDATE", "S0w", true},
		{"SELECT id FROM near1 ORDER BY embedding <=> $1 DESC LIMIT 5 FOR UPDATE", "ERR 0A000", true},
		{"SELECT t.id FROM near1 t, users u ORDER BY t.embedding <=> $1 LIMIT 5 FOR UPDATE", "ERR 0A000", true},
	} {
		d := s.Route(c.sql, []Param{q}, 4)
		if got := answer(d); got != c.want || d.Write != c.write {
			t.Errorf("%s: %s write %v, want %s write %v (%+v)", c.sql, got, d.Write, c.want, c.write, d)
		}
	}
}

// TestPgDogTable: the capability table has one entry per capability, each
// citing PgDog's sources.
func TestPgDogTable(t *testing.T) {
	seen := map[HostCap]bool{}
	for _, e := range PgDog.Table {
		if seen[e.Cap] || e.Source == "" || e.What == "" {
			t.Errorf("entry %+v: duplicate or without source", e)
		}
		seen[e.Cap] = true
	}
	if len(seen) != int(numHostCaps) {
		t.Errorf("%d capabilities, %d entries", numHostCaps, len(seen))
	}
	var none *Host
	if !none.Can(SortExpression) || PgDog.Can(SortExpression) || !PgDog.Can(SortColumnName) {
		t.Error("Can")
	}
}

// TestRankingPolicyAllocs: under PgDog's rules the cached path of a
// guarded ranking allocates nothing either: the nearest centroid's shard
// with its warning (text of the plan), and the ALL of a mergeable ranking.
func TestRankingPolicyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	s := loadPolicy(t, WithHost(PgDog))
	for _, c := range []struct {
		sql  string
		ps   []Param
		want string
	}{
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", []Param{vecBin(3, 1, 0)}, "S0w"},
		{"SELECT id FROM near2 ORDER BY embedding <=> $1 LIMIT 10", []Param{txt("[3,1,0]")}, "S0w"},
		{"SELECT id FROM near2 ORDER BY embedding <=> '[3,1,0]' LIMIT 10", nil, "S0w"},
		{"SELECT id, embedding <=> $1 AS d FROM near2 ORDER BY d LIMIT 10", []Param{vecBin(3, 1, 0)}, "ALL"},
		{"SELECT id FROM near1 ORDER BY embedding <=> $1 LIMIT $2", []Param{vecBin(3, 1, 0), i8(5)}, "S0"},
	} {
		if got := answer(s.Route(c.sql, c.ps, 4)); got != c.want {
			t.Fatalf("%s: %s, want %s", c.sql, got, c.want)
		}
		if n := testing.AllocsPerRun(200, func() { s.Route(c.sql, c.ps, 4) }); n != 0 {
			t.Errorf("%s: %v allocations per cached Route", c.sql, n)
		}
	}
}

// TestRankingPolicyFastAgrees: the fast path answers the policy shapes as
// the general walk does, warning for warning.
func TestRankingPolicyFastAgrees(t *testing.T) {
	s := loadPolicy(t, WithHost(PgDog))
	fast := 0
	for _, sh := range policyShapes {
		for _, table := range []string{"near1", "near2", "all2"} {
			sql := strings.ReplaceAll(sh.sql, " T", " "+table)
			for _, ps := range [][]Param{{vecBin(3, 1, 0), i8(3)}, {txt("[0,1,1]"), null()}, {null(), i8(1)}, {txt("[1,2"), i8(1)}, {}} {
				for _, shards := range []int{4, 3} {
					p := s.analyzeText(sql)
					got := s.decide(p, ps, shards, nil)
					want := (&call{s: s, shards: shards}).full(p, ps)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s %v (%d shards): fast path %+v, general walk %+v", sql, ps, shards, got, want)
					}
					if p.fast != nil && p.fast.guard != nil {
						fast++
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Error("no guarded fast plan")
	}
}

// FuzzRankingPolicy routes arbitrary SQL under PgDog's merge rules and
// under unknown ones. The policy only ever replaces an ALL: every other
// answer is the same under both, an ALL under PgDog's rules is an ALL
// under unknown ones, a warning comes only with a shard, and the fast
// path, the general walk and Explain agree.
func FuzzRankingPolicy(f *testing.F) {
	for _, sh := range policyShapes {
		for _, table := range []string{"near1", "near2", "all2"} {
			f.Add(strings.ReplaceAll(sh.sql, " T", " "+table), []byte("[3,1,0]"), sh.limitNull)
		}
	}
	pgdog := loadPolicy(f, WithHost(PgDog))
	unknown := loadPolicy(f)
	f.Fuzz(func(t *testing.T, sql string, p0 []byte, null2 bool) {
		ps := []Param{{Data: p0}, {Data: []byte("5")}}
		if null2 {
			ps[1].Data = nil
		}
		for np := 0; np <= 2; np++ {
			d := pgdog.Route(sql, ps[:np], 4)
			check(t, d, 4)
			if d.Warning != "" && d.Kind != Shard {
				t.Fatalf("a warning with %+v", d)
			}
			u := unknown.Route(sql, ps[:np], 4)
			if u.Kind != All || d.Kind == All {
				d.Warning = ""
				if d != u {
					t.Fatalf("PgDog's rules %+v, unknown rules %+v", d, u)
				}
			}
			p := pgdog.analyzeText(sql)
			want := (&call{s: pgdog, shards: 4}).full(p, ps[:np])
			if got := pgdog.decide(p, ps[:np], 4, nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("fast path %+v, general walk %+v", got, want)
			}
			if e, _ := pgdog.Explain(sql, ps[:np], 4); !reflect.DeepEqual(e, want) {
				t.Fatalf("Explain %+v, Route %+v", e, want)
			}
		}
	})
}
