package copyfmt

import (
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestPostgres15 replays files through a PostgreSQL 15.18 server's COPY
// FROM (text and CSV, default options, three text columns), recorded in
// testdata/pg15_copy.json: the rows the server stored, or its error. The
// reader must give the same fields and NULLs, and fail where the server
// failed (a wrong number of fields, which the splitter checks, counts as
// failing).
func TestPostgres15(t *testing.T) {
	data, err := os.ReadFile("testdata/pg15_copy.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Server string
		Cases  []struct {
			Format string
			Input  string
			Rows   [][]*string
			Error  *string
		}
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i, c := range rec.Cases {
		opt := Options{}
		if c.Format == "csv" {
			opt.Format = CSV
		}
		r, err := NewReader(strings.NewReader(c.Input), opt)
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]*string
		var rerr error
		for rerr == nil {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				rerr = err
				break
			}
			if row.NumFields() != 3 {
				rerr = io.ErrUnexpectedEOF // the server: missing or extra data
				break
			}
			vals := make([]*string, 3)
			for j := range vals {
				if v, null := row.Field(j); !null {
					s := string(v)
					vals[j] = &s
				}
			}
			rows = append(rows, vals)
		}
		switch {
		case c.Error != nil && rerr == nil:
			t.Errorf("case %d (%s %q): %s fails with %q, the reader does not", i, c.Format, c.Input, rec.Server, *c.Error)
		case c.Error == nil && rerr != nil:
			t.Errorf("case %d (%s %q): the reader fails with %v, %s does not", i, c.Format, c.Input, rerr, rec.Server)
		case c.Error == nil && !reflect.DeepEqual(rows, c.Rows):
			t.Errorf("case %d (%s %q): rows differ from %s's", i, c.Format, c.Input, rec.Server)
		case c.Error != nil:
			failed++
		}
	}
	if len(rec.Cases) < 700 || failed < 50 {
		t.Errorf("recording has %d cases of which %d fail; want hundreds of each kind", len(rec.Cases), failed)
	}
}
