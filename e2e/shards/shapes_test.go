package shards

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vecshard/vecshard/internal/pgdogexec"
	"github.com/vecshard/vecshard/internal/shardlab"
)

// shape is one ranking form of docs/ROUTING.md. oracle returns (id, key)
// with the same ranking on one shard; desc and limit say how the true
// top-k merges the shards' oracles. pgdog is what PgDog v0.1.54 does with
// the shape's rows on an All route (docs/PGDOG.md); rewrite is the
// mergeable form the plugin names when it refuses the shape.
type shape struct {
	name    string
	sql     string
	oracle  string
	desc    bool
	limit   int // 0: none
	pgdog   string
	rewrite string
	queries int // how many test queries (the unlimited shapes return every row)
}

var shapes = []shape{
	{name: "canonical cosine", sql: "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 FROM items ORDER BY embedding <=> $1 LIMIT 10", limit: 10,
		pgdog:   "drops the <=> sort key and streams up to shards x 10 unsorted rows",
		rewrite: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 10"},
	{name: "alias", sql: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 10", limit: 10,
		pgdog: "sorts by the float8 column distance, applies LIMIT 10"},
	{name: "position", sql: "SELECT id, embedding <=> $1 FROM items ORDER BY 2 LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 FROM items ORDER BY 2 LIMIT 10", limit: 10,
		pgdog: "sorts by column 2, applies LIMIT 10"},
	{name: "similarity desc", sql: "SELECT id, 1 - (embedding <=> $1) AS similarity FROM items ORDER BY similarity DESC LIMIT 10",
		oracle: "SELECT id, 1 - (embedding <=> $1) AS similarity FROM items ORDER BY similarity DESC LIMIT 10", desc: true, limit: 10,
		pgdog: "sorts by similarity descending, applies LIMIT 10"},
	{name: "function", sql: "SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 10",
		oracle: "SELECT id, cosine_distance(embedding, $1) FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 10", limit: 10,
		pgdog:   "drops the function sort key: unsorted rows",
		rewrite: "SELECT id, cosine_distance(embedding, $1) AS distance FROM items ORDER BY distance LIMIT 10"},
	{name: "l2 with the vector returned", sql: "SELECT id, embedding FROM items ORDER BY embedding <-> $1 LIMIT 10",
		oracle: "SELECT id, embedding <-> $1 FROM items ORDER BY embedding <-> $1 LIMIT 10", limit: 10,
		pgdog:   "sorts by its own L2 only for text results; a binary $1 panics",
		rewrite: "SELECT id, embedding <-> $1 AS distance FROM items ORDER BY distance LIMIT 10"},
	{name: "farthest first", sql: "SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 FROM items ORDER BY embedding <=> $1 DESC LIMIT 10", desc: true, limit: 10,
		pgdog:   "unsorted rows from every shard",
		rewrite: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance DESC LIMIT 10", queries: 4},
	{name: "farthest first, alias", sql: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance DESC LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance DESC LIMIT 10", desc: true, limit: 10,
		pgdog: "sorts by distance descending", queries: 4},
	{name: "threshold", sql: "SELECT id FROM items WHERE embedding <=> $1 < 0.05 ORDER BY embedding <=> $1 LIMIT 10",
		oracle: "SELECT id, embedding <=> $1 FROM items WHERE embedding <=> $1 < 0.05 ORDER BY embedding <=> $1 LIMIT 10", limit: 10,
		pgdog:   "unsorted rows from every shard",
		rewrite: "SELECT id, embedding <=> $1 AS distance FROM items WHERE embedding <=> $1 < 0.05 ORDER BY distance LIMIT 10", queries: 8},
	{name: "no limit", sql: "SELECT id FROM items ORDER BY embedding <=> $1",
		oracle:  "SELECT id, embedding <=> $1 FROM items ORDER BY embedding <=> $1",
		pgdog:   "every row of every shard, unsorted",
		rewrite: "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance", queries: 2},
}

// TestRankingShapes runs every ranking shape at probes 1 and 2 through the
// plugin and PgDog's merge. Each answer must be right: one shard's answer
// equals what that shard returns for the SQL (and, at probes 1, it is the
// nearest centroid's shard); several shards' answer is their true top-k
// merged; a refusal names a rewrite that, when run, returns the true
// top-k. A shape PgDog would merge wrong fails.
func TestRankingShapes(t *testing.T) {
	lab := need(t)
	for _, probes := range []int{1, 2} {
		config := probesConfig(t, probes)
		c, log := cluster(t, config, "items", "users")
		qs := queriesFor(lab, probes)
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("probes=%d/%s", probes, sh.name), func(t *testing.T) {
				n := sh.queries
				if n == 0 {
					n = 40
				}
				kinds := map[string]int{}
				for qi := 0; qi < n && qi < len(qs); qi++ {
					q := shardlab.Row(lab.Queries, qs[qi])
					vec, f := vecParam(q, qi%2 == 1)
					r := req(sh.sql, vec, f)
					res, err := c.Exec(bg, r)
					kinds[res.Decision.Kind.String()]++
					switch {
					case res.Decision.Kind == pgdogexec.Blocked:
						if sh.rewrite == "" {
							t.Fatalf("query %d: blocked, and the shape has no rewrite; log:\n%s", qi, log.String())
						}
						rr := req(sh.rewrite, vec, f)
						res, err = c.Exec(bg, rr)
						if err != nil || res.Decision.Kind == pgdogexec.Blocked {
							t.Fatalf("query %d: the rewrite %q: %v %v", qi, sh.rewrite, res.Decision, err)
						}
						checkAnswer(t, c, sh, rr, res, probes, q)
					case errors.Is(err, pgdogexec.ErrPgDogPanics):
						t.Errorf("query %d: %v: PgDog v0.1.54 would drop the client's connection", qi, res.Decision)
					case err != nil:
						t.Fatalf("query %d: %v: %v", qi, res.Decision, err)
					default:
						checkAnswer(t, c, sh, r, res, probes, q)
					}
				}
				t.Logf("decisions: %v; PgDog on All: %s", kinds, sh.pgdog)
			})
		}
	}
}

// queriesFor picks test images as queries: at probes 1 any; at probes 2
// those whose two nearest centroids are on different shards, the case that
// decides between one shard and ALL.
func queriesFor(lab *shardlab.Lab, probes int) []int {
	var out []int
	var top []int
	for i := 0; i < lab.Queries.Rows; i++ {
		top = lab.Set.TopP(shardlab.Row(lab.Queries, i), probes, top)
		agree := true
		for _, c := range top[1:] {
			agree = agree && lab.Set.ShardOf(c) == lab.Set.ShardOf(top[0])
		}
		if probes == 1 || !agree {
			out = append(out, i)
		}
	}
	return out
}

// checkAnswer compares what the client got with the truth.
func checkAnswer(t *testing.T, c *pgdogexec.Cluster, sh shape, r pgdogexec.Request, res *pgdogexec.Result, probes int, q []float32) {
	t.Helper()
	lab := env.lab
	got := ids(t, res.Rows)
	switch res.Decision.Kind {
	case pgdogexec.Shard:
		// The shard's own answer is what the executor returned; it must be
		// the shard the centroids name.
		if _, want := lab.Set.Nearest(q); probes == 1 && res.Decision.Shard != want {
			t.Errorf("%s: shard %d, nearest centroid's shard is %d", sh.name, res.Decision.Shard, want)
		}
	case pgdogexec.All:
		keys := map[int64]float64{}
		var all []idKey
		for s := range c.Shards {
			for _, row := range rawQuery(t, c.Shards[s], oracleSQL(sh, r.SQL), r) {
				var k idKey
				var err1, err2 error
				k.id, err1 = strconv.ParseInt(string(row[0]), 10, 64)
				k.key, err2 = strconv.ParseFloat(string(row[1]), 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("oracle row %q", row)
				}
				keys[k.id] = k.key
				all = append(all, k)
			}
		}
		sort.SliceStable(all, func(i, j int) bool {
			if sh.desc {
				return all[i].key > all[j].key
			}
			return all[i].key < all[j].key
		})
		if sh.limit > 0 && len(all) > sh.limit {
			all = all[:sh.limit]
		}
		if len(got) != len(all) {
			t.Fatalf("%s on %v: %d rows, the true top-k has %d", sh.name, res.Decision, len(got), len(all))
		}
		for i := range all {
			k, ok := keys[got[i]]
			if !ok || math.Abs(k-all[i].key) > 1e-12 {
				t.Fatalf("%s on %v: row %d is id %d (key %v), the true top-k has key %v there\n%s\ngot %v\nwant %v", sh.name, res.Decision, i, got[i], k, all[i].key, r.SQL, got, all)
			}
		}
	default:
		t.Fatalf("%s: decision %v", sh.name, res.Decision)
	}
}

type idKey struct {
	id  int64
	key float64
}

// oracleSQL is the shape's oracle, or for a rewrite the rewrite itself
// (the rewrites select the key as their second column).
func oracleSQL(sh shape, sql string) string {
	if sql == sh.sql {
		return sh.oracle
	}
	return sql
}

// rawQuery runs sql on one server with r's parameters exactly as the
// client sends them; results in text.
func rawQuery(t *testing.T, p *pgxpool.Pool, sql string, r pgdogexec.Request) [][][]byte {
	t.Helper()
	r.SQL = sql
	res, err := pgdogexec.Run(bg, p, r)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

// probesConfig is the lab's configuration with probes set.
func probesConfig(t *testing.T, probes int) string {
	t.Helper()
	lab := env.lab
	if probes == 1 {
		return lab.Config
	}
	config := filepath.Join(filepath.Dir(lab.Config), fmt.Sprintf("vecshard-probes%d.toml", probes))
	if err := shardlab.WriteConfig(config, S, filepath.Base(lab.Centroids), probes); err != nil {
		t.Fatal(err)
	}
	return config
}
