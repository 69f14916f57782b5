package router

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// sameShardQueries returns n distinct queries that land in cache part 0.
func sameShardQueries(n int, prefix string) []string {
	var qs []string
	for i := 0; len(qs) < n; i++ {
		q := fmt.Sprintf("%s %d", prefix, i)
		if xxhash.Sum64String(q)%cacheShards == 0 {
			qs = append(qs, q)
		}
	}
	return qs
}

func TestCacheBasics(t *testing.T) {
	c := newPlanCache(1000, 1<<20)
	p1, p2 := &plan{stmt: "one"}, &plan{stmt: "two"}
	if c.get("q1") != nil {
		t.Fatal("empty cache hit")
	}
	c.put("q1", p1)
	c.put("q2", p2)
	c.put("q1", p2) // already cached: kept
	if c.get("q1") != p1 || c.get("q2") != p2 || c.get("q3") != nil {
		t.Fatal("lookup")
	}
	if c.len() != 2 {
		t.Fatalf("len %d", c.len())
	}
}

func TestCacheDisabled(t *testing.T) {
	c := newPlanCache(0, 1<<20)
	c.put("q", &plan{})
	if c.get("q") != nil || c.len() != 0 {
		t.Fatal("disabled cache cached")
	}
}

// The cache keeps its own copy of the text: the host reuses its buffer.
func TestCacheClonesQuery(t *testing.T) {
	c := newPlanCache(100, 1<<20)
	buf := []byte("SELECT * FROM users WHERE id = $1")
	q := unsafe.String(&buf[0], len(buf))
	p := &plan{}
	c.put(q, p)
	want := strings.Clone(q)
	copy(buf, "XXXXXX")
	if c.get(want) != p {
		t.Fatal("cached entry changed with the caller's buffer")
	}
	if c.get(unsafe.String(&buf[0], len(buf))) != nil {
		t.Fatal("hit for the overwritten text")
	}
}

func TestCacheBoundAndClock(t *testing.T) {
	const per = 4
	c := newPlanCache(per*cacheShards, 1<<30)
	qs := sameShardQueries(50, "SELECT")
	hot := qs[0]
	c.put(hot, &plan{stmt: "hot"})
	for _, q := range qs[1:] {
		c.get(hot) // referenced between every insert: CLOCK keeps it
		c.put(q, &plan{})
		if n := len(c.parts[0].ring); n > per {
			t.Fatalf("part holds %d entries, bound %d", n, per)
		}
	}
	if c.get(hot) == nil {
		t.Error("a referenced entry was evicted")
	}
	if c.get(qs[1]) != nil {
		t.Error("an old unreferenced entry survived")
	}
	if c.get(qs[len(qs)-1]) == nil {
		t.Error("the newest entry is missing")
	}
}

func TestCacheByteBound(t *testing.T) {
	c := newPlanCache(10000, 64*cacheShards) // 64 bytes of text per part
	qs := sameShardQueries(40, "SELECT 'a fairly long query text'")
	for _, q := range qs {
		c.put(q, &plan{})
		if b := c.parts[0].bytes; b > 64 {
			t.Fatalf("part holds %d bytes, bound 64", b)
		}
	}
	long := strings.Repeat("x", 65)
	c.put(long, &plan{})
	if c.get(long) != nil {
		t.Error("a text longer than a part was cached")
	}
}

func TestCacheGetAllocs(t *testing.T) {
	c := newPlanCache(100, 1<<20)
	c.put("SELECT 1", &plan{})
	q := strings.Clone("SELECT 1")
	if n := testing.AllocsPerRun(100, func() { c.get(q) }); n != 0 {
		t.Errorf("get allocates %v times", n)
	}
}

// A swap starts with an empty cache: plans depend on the configuration.
func TestSwapFreshCache(t *testing.T) {
	s1 := loadGood(t)
	r := New(s1)
	q := "SELECT * FROM users WHERE id = 1"
	r.Route(q, nil, 4)
	if s1.cache.get(q) == nil {
		t.Fatal("not cached")
	}
	s2 := loadGood(t)
	r.Swap(s2)
	if r.Snapshot() != s2 || s2.cache.get(q) != nil {
		t.Fatal("new snapshot has the old plans")
	}
	if d := r.Route(q, nil, 4); d.Kind != Shard || d.Shard != 3 {
		t.Fatalf("after swap: %+v", d)
	}
	r.Swap(nil)
	if d := r.Route(q, nil, 4); d.Kind != NoDecision {
		t.Fatalf("nil snapshot: %+v", d)
	}
}
