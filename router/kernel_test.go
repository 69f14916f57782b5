package router

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vecshard/vecshard/idkey"
)

// TestBigintKernel: for every plan BigintKernel accepts, the general walk
// (not the fast path the kernel shortcuts) decides exactly the kernel's
// formula for int2, int4 and int8 values of every size, whatever the other
// parameters are; plans it must refuse (text ids, uuids, vectors, casts to
// text, mismatched shard counts) are refused.
func TestBigintKernel(t *testing.T) {
	s := loadGood(t)
	sqls := map[string]bool{}
	for _, c := range routeCases {
		sqls[c.sql] = true
	}
	for _, q := range []string{
		"SELECT * FROM users WHERE id = $1",
		"SELECT * FROM users WHERE $1 = id",
		"SELECT name FROM users WHERE id = $2 AND name = $1",
		"UPDATE users SET name = $1 WHERE id = $2",
		"DELETE FROM users WHERE id = $1::int8",
		"SELECT * FROM users WHERE id = $1::bigint FOR UPDATE",
		"SELECT * FROM users u WHERE u.id = $1",
	} {
		sqls[q] = true
	}
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32, math.MaxInt16, math.MinInt16}
	for range 40 {
		values = append(values, int64(r.Uint64()))
	}
	accepted := 0
	for q := range sqls {
		p := (*Plan)(s.analyzeText(q))
		for _, shards := range []int{1, 2, 3, 4, 7, 16, 1000} {
			k, ok := s.BigintKernel(p, shards)
			if !ok {
				continue
			}
			accepted++
			for _, v := range values {
				for _, enc := range []Param{i8(v), i4(int32(v)), i2(int16(v))} {
					var w int64
					switch len(enc.Data) {
					case 8:
						w = v
					case 4:
						w = int64(int32(v))
					default:
						w = int64(int16(v))
					}
					ps := make([]Param, k.Param+1+r.IntN(2))
					for i := range ps {
						ps[i] = txt("x")
					}
					ps[k.Param] = enc
					got := (&call{s: s, shards: shards}).full((*plan)(p), ps)
					want := Decision{Kind: Shard, Shard: idkey.Shard(idkey.BigintKey(w), shards), Write: k.Write}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s, %d shards, $%d = %d (%d bytes): the walk decides %+v, the kernel %+v", q, shards, k.Param+1, w, len(enc.Data), got, want)
					}
				}
			}
		}
	}
	// good.toml says shards = 4: no other host count may be accepted.
	if accepted < 10 {
		t.Errorf("only %d (plan, shards) pairs accepted", accepted)
	}
	if _, ok := s.BigintKernel((*Plan)(s.analyzeText("SELECT * FROM users WHERE id = $1")), 4); !ok {
		t.Error("the id lookup is not accepted")
	}
	if _, ok := s.BigintKernel((*Plan)(s.analyzeText("SELECT * FROM users WHERE id = $1")), 3); ok {
		t.Error("accepted for 3 shards, under shards = 4")
	}
	for _, q := range []string{
		"SELECT * FROM accounts WHERE uid = $1",
		"SELECT * FROM items ORDER BY embedding <-> $1 LIMIT 5",
		"SELECT * FROM users WHERE id = $1::text",
		"SELECT * FROM users WHERE id = ANY($1)",
		"SELECT * FROM users WHERE id = $1 OR id = $2",
		"INSERT INTO users (id, name) VALUES ($1, $2)",
		"SELECT * FROM users WHERE id = 42",
		"SELECT 1",
	} {
		if k, ok := s.BigintKernel((*Plan)(s.analyzeText(q)), 4); ok {
			t.Errorf("%s: accepted as %+v", q, k)
		}
	}
}
