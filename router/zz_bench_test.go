package router

import "testing"

func BenchmarkIDRoute(b *testing.B) {
	r := New(loadGood(b))
	p := ps(i8(42))
	q := "SELECT * FROM users WHERE id = $1"
	b.ReportAllocs()
	for b.Loop() {
		r.Route(q, p, 4)
	}
}

func BenchmarkIDRouteParts(b *testing.B) {
	s := loadGood(b)
	q := "SELECT * FROM users WHERE id = $1"
	s.Route(q, nil, 4)
	b.Run("cache-get", func(b *testing.B) {
		for b.Loop() {
			s.cache.get(q)
		}
	})
}
