package router

import (
	"github.com/vecshard/vecshard/sqltext"
	"testing"
)

// FuzzRoute feeds arbitrary SQL and parameter bytes. The router must not
// panic, and every decision must be one of the kinds with a shard in range
// and, for errors, a SQLSTATE and a message.
func FuzzRoute(f *testing.F) {
	for _, c := range routeCases {
		var p0, p1 []byte
		bin := false
		if len(c.params) > 0 {
			p0, bin = c.params[0].Data, c.params[0].Binary
		}
		if len(c.params) > 1 {
			p1 = c.params[1].Data
		}
		f.Add(c.sql, p0, p1, bin, uint8(4))
	}
	s, err := Load("testdata/good.toml", WithText(sqltext.Parser{}))
	if err != nil {
		f.Fatal(err)
	}
	r := New(s)
	f.Fuzz(func(t *testing.T, sql string, p0, p1 []byte, bin bool, shards uint8) {
		n := int(shards%8) + 1
		params := []Param{{Data: p0, Binary: bin}, {Data: p1, Binary: !bin}}
		for np := 0; np <= 2; np++ {
			d := r.Route(sql, params[:np], n)
			check(t, d, n)
			d2, _ := r.Explain(sql, params[:np], n)
			if d2 != d {
				t.Fatalf("Explain %+v, Route %+v", d2, d)
			}
		}
	})
}

func check(t *testing.T, d Decision, shards int) {
	switch d.Kind {
	case NoDecision, All:
	case Shard:
		if d.Shard < 0 || d.Shard >= shards {
			t.Fatalf("shard %d of %d", d.Shard, shards)
		}
	case Error:
		if len(d.Code) != 5 || d.Message == "" {
			t.Fatalf("error without code or message: %+v", d)
		}
	default:
		t.Fatalf("kind %d", d.Kind)
	}
}
