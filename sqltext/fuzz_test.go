package sqltext_test

import (
	"strings"
	"testing"

	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/sqlir"
	"github.com/vecshard/vecshard/sqltext"
)

func FuzzTextFrontEnd(f *testing.F) {
	for _, c := range corpus.Cases() {
		f.Add(c.SQL)
	}
	f.Add("SELECT " + strings.Repeat("NOT ", 20) + "true")
	f.Fuzz(func(t *testing.T, sql string) {
		var b sqlir.Builder
		if err := sqltext.Parse(&b, sql); err != nil {
			return
		}
		if _, err := sqlir.Decode(b.Bytes()); err != nil {
			t.Fatalf("Parse succeeded but Decode fails: %v", err)
		}
		_, _ = sqltext.Comments(sql) // must not panic
	})
}

// TestTextDeep: statements nested around sqlir.MaxDepth parse into an
// encoding that decodes (Unknown below the limit).
func TestTextDeep(t *testing.T) {
	for _, n := range []int{100, 997, 998, 999, 1000, 1005, 3000} {
		sql := "SELECT " + strings.Repeat("NOT ", n) + "true"
		var b sqlir.Builder
		if err := sqltext.Parse(&b, sql); err != nil {
			t.Logf("%d NOTs: %v", n, err)
			continue
		}
		if _, err := sqlir.Decode(b.Bytes()); err != nil {
			t.Errorf("%d NOTs: Parse succeeded but Decode fails: %v", n, err)
		}
	}
}
