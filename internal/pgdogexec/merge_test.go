package pgdogexec

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// shardRows makes one shard's text result of (id int8, distance float8).
func shardRows(rows ...string) *pgconn.Result {
	r := &pgconn.Result{FieldDescriptions: []pgconn.FieldDescription{
		{Name: "id", DataTypeOID: oidInt8}, {Name: "distance", DataTypeOID: oidFloat8},
	}, CommandTag: pgconn.NewCommandTag("SELECT " + string(rune('0'+len(rows))))}
	for _, row := range rows {
		f := strings.Split(row, " ")
		r.Rows = append(r.Rows, [][]byte{[]byte(f[0]), []byte(f[1])})
	}
	return r
}

func firstColumn(rows [][][]byte) string {
	var s []string
	for _, r := range rows {
		s = append(s, string(r[0]))
	}
	return strings.Join(s, " ")
}

// TestMerge: PgDog's merge of an All read (docs/PGDOG.md, section 3), one
// row per ORDER BY form it sorts on, drops, or panics on.
func TestMerge(t *testing.T) {
	empty := shardRows()
	empty.FieldDescriptions = nil // as pgconn reports a result without rows
	shards := []*pgconn.Result{
		empty,
		shardRows("1 0.5", "2 0.7", "3 0.9"),
		shardRows("4 0.1", "5 0.6"),
		shardRows("6 0.3", "7 0.8"),
	}
	vec := Request{Params: [][]byte{[]byte("[1,0]")}}
	for _, tc := range []struct {
		name, sql string
		r         Request
		want      string
		wantErr   error
	}{
		{"alias", "SELECT id, embedding <=> $1 AS distance FROM items ORDER BY distance LIMIT 3", vec, "4 6 1", nil},
		{"alias, threshold", "SELECT id, embedding <=> $1 AS distance FROM items WHERE embedding <=> $1 < 0.05 ORDER BY distance LIMIT 3", vec, "4 6 1", nil},
		{"position desc", "SELECT id, embedding <=> $1 FROM items ORDER BY 2 DESC LIMIT 2", vec, "3 7", nil},
		{"LIMIT alone streams", "SELECT id, distance FROM items LIMIT 2", vec, "1 2 3 4 5 6 7", nil},
		{"<=> dropped: concatenation", "SELECT id, distance FROM items ORDER BY embedding <=> $1 LIMIT 2", vec, "1 2 3 4 5 6 7", nil},
		{"<=> then a name: sorted by the name only", "SELECT id, distance FROM items ORDER BY embedding <=> $1, id DESC LIMIT 2", vec, "7 6", nil},
		{"unknown name: no sort, LIMIT still applied (buffered)", "SELECT id, distance FROM items ORDER BY nope LIMIT 2", vec, "1 2", nil},
		{"LIMIT $2", "SELECT id, distance FROM items ORDER BY distance LIMIT $2", Request{Params: [][]byte{[]byte("[1,0]"), []byte("2")}}, "4 6", nil},
		{"<-> on a binary $1 panics", "SELECT id, distance FROM items ORDER BY distance <-> $1 LIMIT 2",
			Request{Params: [][]byte{{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, Formats: []int16{1}}, "", ErrPgDogPanics},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseStmt(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]*pgconn.Result, len(shards))
			for i, s := range shards {
				c := *s
				c.Rows = slices.Clone(s.Rows)
				in[i] = &c
			}
			res := &Result{}
			err = merge(st, tc.r, in, res)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil && firstColumn(res.Rows) != tc.want {
				t.Errorf("rows %q, want %q", firstColumn(res.Rows), tc.want)
			}
		})
	}
}

// TestMergeVectorsAndCounts: PgDog's own L2 on a returned text vector, and
// count(*) summed over the shards.
func TestMergeVectorsAndCounts(t *testing.T) {
	vecs := func(rows ...string) *pgconn.Result {
		r := &pgconn.Result{FieldDescriptions: []pgconn.FieldDescription{{Name: "id", DataTypeOID: oidInt8}, {Name: "embedding"}}}
		for _, row := range rows {
			f := strings.SplitN(row, " ", 2)
			r.Rows = append(r.Rows, [][]byte{[]byte(f[0]), []byte(f[1])})
		}
		return r
	}
	st, _ := parseStmt("SELECT id, embedding FROM items ORDER BY embedding <-> '[1,0]' LIMIT 2")
	res := &Result{}
	if err := merge(st, Request{}, []*pgconn.Result{vecs("1 [0,1]", "2 [0.9,0]"), vecs("3 [1,0.2]")}, res); err != nil || firstColumn(res.Rows) != "2 3" {
		t.Errorf("ORDER BY embedding <-> '[1,0]': %q %v, want \"2 3\"", firstColumn(res.Rows), err)
	}
	count := func(n string) *pgconn.Result {
		return &pgconn.Result{FieldDescriptions: []pgconn.FieldDescription{{Name: "count", DataTypeOID: oidInt8}}, Rows: [][][]byte{{[]byte(n)}}}
	}
	st, _ = parseStmt("SELECT count(*) FROM items")
	res = &Result{}
	if err := merge(st, Request{}, []*pgconn.Result{count("3"), count("4"), count("0")}, res); err != nil || firstColumn(res.Rows) != "7" {
		t.Errorf("count(*): %q %v, want 7", firstColumn(res.Rows), err)
	}
}
