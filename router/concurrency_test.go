package router

import (
	"github.com/vecshard/vecshard/sqltext"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentRouteAndSwap routes every table case from many goroutines
// while another goroutine keeps reloading and swapping the snapshot; every
// decision must equal the single-threaded one. Run with -race.
func TestConcurrentRouteAndSwap(t *testing.T) {
	r := New(loadGood(t))
	ref := New(loadGood(t))
	want := make([]Decision, len(routeCases))
	for i, c := range routeCases {
		want[i] = ref.Route(c.sql, c.params, shardsOf(c))
	}
	var stop atomic.Bool
	var swaps atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			s, err := Load("testdata/good.toml", WithText(sqltext.Parser{}))
			if err != nil {
				t.Error(err)
				return
			}
			r.Swap(s)
			swaps.Add(1)
		}
	}()
	const workers = 8
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	var rw sync.WaitGroup
	for w := 0; w < workers; w++ {
		rw.Add(1)
		go func(w int) {
			defer rw.Done()
			for round := 0; round < rounds; round++ {
				for k := range routeCases {
					i := (k + w*37) % len(routeCases)
					c := routeCases[i]
					if got := r.Route(c.sql, c.params, shardsOf(c)); got != want[i] {
						t.Errorf("%s: concurrent %+v, single-threaded %+v", c.name, got, want[i])
						return
					}
				}
			}
		}(w)
	}
	rw.Wait()
	stop.Store(true)
	wg.Wait()
	if swaps.Load() == 0 {
		t.Error("no swap happened while routing")
	}
}

func shardsOf(c routeCase) int {
	if c.shards == 0 {
		return 4
	}
	return c.shards
}
