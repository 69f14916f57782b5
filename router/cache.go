package router

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// cacheShards is the number of independently locked parts of the plan
// cache. Readers take no lock at all; writers (a first-seen statement) lock
// one part, so concurrent analyses of different statements rarely meet.
const cacheShards = 64

// planCache maps query text to its plan. It is bounded by entry count and by
// the total length of the cached texts.
//
// A lookup is an atomic load of the part's current table plus a map lookup
// by the 64-bit XXH64 of the text and a string comparison: no lock, no
// allocation, no write to shared memory except the CLOCK reference bit,
// which is only written when it is clear. An insert copies the part's table
// (cap/64 entries) and publishes the copy; eviction is CLOCK (second chance).
type planCache struct {
	parts    [cacheShards]cachePart
	perCount int // entries per part; 0 disables the cache
	perBytes int // bytes of query text per part
}

type cachePart struct {
	tab atomic.Pointer[map[uint64]*cacheEntry]

	mu    sync.Mutex // serialises writers of this part
	ring  []*cacheEntry
	hand  int
	bytes int

	_ [64]byte // keep parts on separate cache lines
}

type cacheEntry struct {
	query string // owned copy
	hash  uint64
	plan  *plan
	ref   atomic.Bool
}

func newPlanCache(entries, bytes int) *planCache {
	c := &planCache{}
	if entries <= 0 || bytes <= 0 {
		return c
	}
	c.perCount = (entries + cacheShards - 1) / cacheShards
	c.perBytes = (bytes + cacheShards - 1) / cacheShards
	return c
}

// get returns the cached plan of query, or nil. query is not retained.
func (c *planCache) get(query string) *plan {
	if c.perCount == 0 {
		return nil
	}
	h := xxhash.Sum64String(query)
	tab := c.parts[h%cacheShards].tab.Load()
	if tab == nil {
		return nil
	}
	if e := (*tab)[h]; e != nil && e.query == query {
		if !e.ref.Load() {
			e.ref.Store(true)
		}
		return e.plan
	}
	return nil
}

// put caches p for query, evicting as needed. The query text is cloned:
// the caller's string may point into memory the host reuses. A query whose
// XXH64 equals a cached different query's is not cached (it is analysed each
// time; a 64-bit collision between live statements is not worth a chain).
func (c *planCache) put(query string, p *plan) {
	if c.perCount == 0 || len(query) > c.perBytes {
		return
	}
	h := xxhash.Sum64String(query)
	part := &c.parts[h%cacheShards]
	part.mu.Lock()
	defer part.mu.Unlock()
	if old := part.tab.Load(); old != nil {
		if _, ok := (*old)[h]; ok {
			return // cached by another goroutine meanwhile, or a collision
		}
	}
	// CLOCK: a set bit buys an entry one more turn of the hand.
	for len(part.ring) > 0 && (len(part.ring) >= c.perCount || part.bytes+len(query) > c.perBytes) {
		if part.hand >= len(part.ring) {
			part.hand = 0
		}
		e := part.ring[part.hand]
		if e.ref.Load() {
			e.ref.Store(false)
			part.hand++
			continue
		}
		last := len(part.ring) - 1
		part.ring[part.hand] = part.ring[last]
		part.ring[last] = nil
		part.ring = part.ring[:last]
		part.bytes -= len(e.query)
	}
	part.ring = append(part.ring, &cacheEntry{query: strings.Clone(query), hash: h, plan: p})
	part.bytes += len(query)

	// Publish a new table; readers of the old one keep a consistent view.
	tab := make(map[uint64]*cacheEntry, len(part.ring))
	for _, e := range part.ring {
		tab[e.hash] = e
	}
	part.tab.Store(&tab)
}

// len reports the number of cached plans (tests and Explain).
func (c *planCache) len() int {
	n := 0
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		n += len(p.ring)
		p.mu.Unlock()
	}
	return n
}
