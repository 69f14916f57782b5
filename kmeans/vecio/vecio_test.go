package vecio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const dir = "../../testdata/train"

// want is the content of every vectors.* file in testdata/train.
var want = [][]float32{
	{1, 0, 0, 0}, {5, 7, 8, 2}, {0, 3, 2, 8}, {9, 0, 4, 8}, {1, 7, 1, 4}, {8, 3, 3, 2},
	{7, 2, 9, 4}, {4, 5, 5, 5}, {5, 9, 8, 7}, {7, 6, 3, 9}, {4, 2, 8, 1}, {8, 6, 1, 0},
}

func flat(rows [][]float32) []float32 {
	var out []float32
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func TestFormats(t *testing.T) {
	tests := []struct {
		file string
		opt  Options
	}{
		{"vectors.txt", Options{}},
		{"arrays.txt", Options{}},
		{"vectors.csv", Options{Column: "embedding"}},
		{"vectors.csv", Options{Column: "1", Header: true}},
		{"vectors_noheader.csv", Options{Column: "1"}},
		{"vectors.tsv", Options{Column: "embedding"}},
		{"vectors.fvecs", Options{}},
		{"vectors_f32.npy", Options{}},
		{"vectors_f64.npy", Options{}},
		{"vectors.idx", Options{}},
		{"vectors-idx3-ubyte.gz", Options{}},
		{"vectors.fvecs", Options{Format: Fvecs}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.opt.Column, func(t *testing.T) {
			r, err := Open(filepath.Join(dir, tt.file), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			m, st, err := Collect(r, 0, 1, false)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != 12 || m.Dim != 4 || st.Rows != 12 || st.Sampled {
				t.Fatalf("got %d x %d, stats %+v; want 12 x 4", m.Rows, m.Dim, st)
			}
			if !reflect.DeepEqual(m.Data, flat(want)) {
				t.Fatalf("data = %v, want %v", m.Data, flat(want))
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		gz   bool
	}{
		{"a.txt", Text, false}, {"a.vec", Text, false}, {"a.csv.gz", CSV, true}, {"a.TSV", TSV, false},
		{"x.fvecs", Fvecs, false}, {"x.npy", Npy, false}, {"x.idx", IDX, false},
		{"/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", IDX, true},
	}
	for _, tt := range tests {
		f, gz, err := DetectFormat(tt.name)
		if err != nil || f != tt.f || gz != tt.gz {
			t.Errorf("DetectFormat(%q) = %q, %v, %v; want %q, %v", tt.name, f, gz, err, tt.f, tt.gz)
		}
	}
	if _, _, err := DetectFormat("data.bin"); err == nil {
		t.Error("DetectFormat(data.bin) succeeded")
	}
}

// bad.txt: line 3 does not parse, line 5 has 3 dimensions instead of 4.
func TestBadRows(t *testing.T) {
	r, err := Open(filepath.Join(dir, "bad.txt"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Collect(r, 0, 1, false)
	r.Close()
	var re *RowError
	if !errors.As(err, &re) || re.Row != 3 || re.Unit != "line" || !strings.Contains(err.Error(), "bad.txt: line 3:") {
		t.Fatalf("error = %v, want a RowError for line 3 of bad.txt", err)
	}

	r, _ = Open(filepath.Join(dir, "bad.txt"), Options{})
	m, st, err := Collect(r, 0, 1, true)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 2 || m.Rows != 4 {
		t.Fatalf("skip-bad: %d rows, %d skipped; want 4 rows, 2 skipped", m.Rows, st.Skipped)
	}
}

func TestDimensionError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.txt")
	os.WriteFile(path, []byte("[1,2]\n[3,4]\n\n[5,6,7]\n"), 0o644)
	r, _ := Open(path, Options{})
	defer r.Close()
	_, _, err := Collect(r, 0, 1, false)
	if err == nil || !strings.Contains(err.Error(), "line 4: expected 2 dimensions, not 3") {
		t.Fatalf("error = %v", err)
	}
}

func TestCSVErrors(t *testing.T) {
	if _, err := Open(filepath.Join(dir, "vectors.csv"), Options{Column: "vec"}); err == nil || !strings.Contains(err.Error(), `no column "vec"`) {
		t.Errorf("missing column: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "vectors.csv"), Options{}); err == nil {
		t.Error("CSV without a column succeeded")
	}
	// Index 1 without --header: the header line is a bad row on line 1.
	r, _ := Open(filepath.Join(dir, "vectors.csv"), Options{Column: "1"})
	_, _, err := Collect(r, 0, 1, false)
	r.Close()
	if err == nil || !strings.Contains(err.Error(), "line 1:") {
		t.Errorf("header as data: %v", err)
	}
}

func TestSample(t *testing.T) {
	collect := func(seed int64) ([]float32, Stats) {
		r, err := Open(filepath.Join(dir, "vectors.txt"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		m, st, err := Collect(r, 5, seed, false)
		if err != nil {
			t.Fatal(err)
		}
		return m.Data, st
	}
	a, st := collect(3)
	b, _ := collect(3)
	if len(a) != 5*4 || st.Rows != 12 || !st.Sampled {
		t.Fatalf("sample: %d values, stats %+v", len(a), st)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different samples")
	}
	// Every sampled row is an input row, none twice.
	seen := map[int]bool{}
	for i := 0; i < 5; i++ {
		found := -1
		for j, w := range want {
			if reflect.DeepEqual(a[i*4:i*4+4], w) {
				found = j
			}
		}
		if found < 0 || seen[found] {
			t.Fatalf("sample row %v is not a distinct input row", a[i*4:i*4+4])
		}
		seen[found] = true
	}
	// Over many seeds, every row is drawn about 5/12 of the time.
	counts := make([]int, 12)
	const seeds = 600
	for s := int64(0); s < seeds; s++ {
		d, _ := collect(s)
		for i := 0; i < 5; i++ {
			for j, w := range want {
				if reflect.DeepEqual(d[i*4:i*4+4], w) {
					counts[j]++
				}
			}
		}
	}
	for j, c := range counts {
		if c < 180 || c > 320 { // mean 250, sd ~12
			t.Errorf("row %d sampled %d times in %d draws of 5 of 12", j, c, seeds)
		}
	}
}

func TestParseArray(t *testing.T) {
	got, err := ParseVector(nil, []byte(" {1.5, -2,3e1} "))
	if err != nil || !reflect.DeepEqual(got, []float32{1.5, -2, 30}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"{}", "{1,}", "{1,2", "{{1,2}}", "{a}"} {
		if _, err := ParseVector(nil, []byte(bad)); err == nil {
			t.Errorf("ParseVector(%q) succeeded", bad)
		}
	}
}

// TestPostgres needs a server: set VECSHARD_TEST_PG_DSN, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. The query
// uses float arrays and text, so pgvector need not be installed.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("VECSHARD_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("VECSHARD_TEST_PG_DSN not set")
	}
	ctx := context.Background()
	q := `SELECT v FROM (VALUES (1, '[1,2,3]'::text), (2, '{4,5,6}'), (3, NULL), (4, '[7,8,9]')) AS t(i, v) ORDER BY i`
	r, err := OpenPostgres(ctx, dsn, q)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Collect(r, 0, 1, false)
	r.Close()
	if err == nil || !strings.Contains(err.Error(), "postgres: row 3: NULL vector") {
		t.Fatalf("NULL row: %v", err)
	}
	r, err = OpenPostgres(ctx, dsn, q)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, st, err := Collect(r, 0, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 1 || !reflect.DeepEqual(m.Data, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("got %v, stats %+v", m.Data, st)
	}
	q2 := `SELECT ARRAY[i, i+1]::float4[] FROM generate_series(1, 3) AS i`
	r2, err := OpenPostgres(ctx, dsn, q2)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	m, _, err = Collect(r2, 0, 1, false)
	if err != nil || !reflect.DeepEqual(m.Data, []float32{1, 2, 2, 3, 3, 4}) {
		t.Fatalf("float4[]: %v, %v", m.Data, err)
	}
}
