package idkey

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPostgres15 replays inputs through a PostgreSQL 15.18 server's uuid_in
// and int8in, recorded in testdata/pg15_ids.json as [input, output] where
// output is the value as the server prints it or "ERR: SQLSTATE message".
// The parsers must agree exactly, error messages included, except that
// int8in of PostgreSQL 16 and later also accepts 0x/0o/0b prefixes and
// underscores, which PostgreSQL 15 refuses.
func TestPostgres15(t *testing.T) {
	data, err := os.ReadFile("testdata/pg15_ids.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Server       string
		UUID, Bigint [][2]string
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.UUID) < 500 || len(rec.Bigint) < 1000 {
		t.Fatalf("recording has %d uuid and %d bigint cases", len(rec.UUID), len(rec.Bigint))
	}
	result := func(v string, err error) string {
		if err != nil {
			e := err.(*Error)
			return "ERR: " + e.Code + " " + e.Msg
		}
		return v
	}
	for _, c := range rec.UUID {
		u, err := ParseUUID([]byte(c[0]))
		got := result(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), err)
		if got != c[1] {
			t.Errorf("uuid %q: %q, %s says %q", c[0], got, rec.Server, c[1])
		}
	}
	newer := 0
	for _, c := range rec.Bigint {
		v, err := ParseBigint([]byte(c[0]))
		got := result(strconv.FormatInt(v, 10), err)
		if got != c[1] {
			if err == nil && strings.HasPrefix(c[1], "ERR: 22P02") && strings.ContainsAny(c[0], "xXoObB_") {
				newer++ // a PostgreSQL 16 spelling
				continue
			}
			t.Errorf("bigint %q: %q, %s says %q", c[0], got, rec.Server, c[1])
		}
	}
	if newer == 0 || newer > 10 {
		t.Errorf("%d PostgreSQL 16 spellings differ, want the few recorded", newer)
	}
}
