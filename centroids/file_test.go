package centroids

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     File
	}{
		{"bare", "[[0.1,0.2],[0.3,0.4]]",
			File{Metric: Cosine, Dim: 2, Centroids: [][]float32{{0.1, 0.2}, {0.3, 0.4}}}},
		{"bare spaces", " [ [ 1 , -2e-3 ] ,\n\t[ 3E2, 0 ] ] \n",
			File{Metric: Cosine, Dim: 2, Centroids: [][]float32{{1, -0.002}, {300, 0}}}},
		{"object minimal", `{"format":"vecshard-centroids/1","metric":"l2","shards":1,"centroids":[[1,2,3]]}`,
			File{Metric: L2, Dim: 3, Shards: 1, Centroids: [][]float32{{1, 2, 3}}}},
		{"object full", `{"format":"vecshard-centroids/1","metric":"inner_product","dim":1,"shards":2,
			"centroids":[[1],[2],[3]],"shard_of":[1,0,1],
			"training":{"points":60000,"iterations":20,"seed":-1,"objective":123.4,"sizes":[1,2,3],"source":"mnist","created":"2026-11-25T09:00:00Z"}}`,
			File{Metric: InnerProduct, Dim: 1, Shards: 2, Centroids: [][]float32{{1}, {2}, {3}}, ShardOf: []int{1, 0, 1},
				Training: &Training{60000, 20, -1, 123.4, []int{1, 2, 3}, "mnist", "2026-11-25T09:00:00Z"}}},
		// Decimal -> float32 rounds once: 0.1 is the float32 nearest 0.1,
		// and 16777217 (2^24+1) rounds to even.
		{"rounding", "[[16777217, 1e-45, 3.4028234e38]]",
			File{Metric: Cosine, Dim: 3, Centroids: [][]float32{{16777216, math.SmallestNonzeroFloat32, math.MaxFloat32}}}},
	}
	for _, tt := range tests {
		f, err := Parse("c.json", []byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(*f, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, *f, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const obj = `{"format":"vecshard-centroids/1","metric":"cosine","shards":2,"centroids":[[1,2],[3,4]]`
	tests := []struct{ in, want string }{
		{"", "c.json: empty file"},
		{"7", "c.json: offset 0: want a JSON array or object"},
		{"[]", "c.json: no centroids"},
		{"[[]]", "c.json: line 1, column 3 (offset 2): row 0: has no numbers"},
		{"[[1,2],[3]]", "c.json: line 1, column 10 (offset 9): row 1: has 1 numbers, want 2"},
		{"[[1,2],[3,4,5]]", "c.json: line 1, column 14 (offset 13): row 1: has 3 numbers, want 2"},
		{"[[1,2],[3,4]] x", "c.json: line 1, column 15 (offset 14): data after the centroids"},
		{"[[1,2] [3,4]]", "c.json: line 1, column 8 (offset 7): after row 0: want ',' or ']'"},
		{"[[1,2],3]", "c.json: line 1, column 8 (offset 7): row 1: want '[' starting a row of numbers"},
		{"[[1,,2]]", "c.json: line 1, column 5 (offset 4): row 0: number 1: want a number"},
		{"[[1 2]]", "c.json: line 1, column 5 (offset 4): row 0: after number 0: want ',' or ']'"},
		{"[[NaN]]", "c.json: line 1, column 3 (offset 2): row 0: number 0: NaN is not a finite number (JSON has none, and every centroid coordinate must be finite): retrain, or replace it"},
		{"[[Infinity]]", "c.json: line 1, column 3 (offset 2): row 0: number 0: Infinity is not a finite number (JSON has none, and every centroid coordinate must be finite): retrain, or replace it"},
		{"[[01]]", "c.json: line 1, column 3 (offset 2): row 0: number 0: \"01\": leading zero"},
		{"[[1.]]", `want digits after '.'`},
		{"[[1e]]", `want digits in the exponent`},
		{"[[1],[1e39]]", "c.json: line 1, column 7 (offset 6): row 1: number 0: 1e39 is out of float32 range"},
		{"[[3.4028236e38]]", "c.json: line 1, column 3 (offset 2): row 0: number 0: 3.4028236e38 is out of float32 range"},
		{"[[1,2]", "c.json: line 1, column 7 (offset 6): after row 0: want ',' or ']'"},
		{obj + `,"dim":3}`, "c.json: line 1, column 80 (offset 79): row 0: has 2 numbers, want 3"},
		{obj + `,"dim":0}`, "c.json: dim is 0, want at least 1"},
		{obj + `,"extra":1}`, `unknown member "extra" (the members are format, metric, dim, shards, centroids, shard_of, training)`},
		{obj + `,"Shard_Of":[0,1]}`, `c.json: unknown member "Shard_Of" (the members are format, metric, dim, shards, centroids, shard_of, training)`},
		{obj + `,"training":{"Points":3}}`, `c.json: training: unknown member "Points" (the members are points, iterations, seed, objective, sizes, source, created)`},
		{obj + `,"training":{"epochs":3}}`, `unknown member "epochs" (the members are points, iterations, seed, objective, sizes, source, created)`},
		{obj + `} {}`, "c.json: offset 89: data after the JSON object"},
		{obj + `,"shard_of":[0]}`, "c.json: shard_of has 1 entries, want one per centroid (2)"},
		{obj + `,"shard_of":[0,2]}`, "c.json: shard_of[1] is 2, want 0 <= shard < 2"},
		{obj + `,"shard_of":[0,-1]}`, "c.json: shard_of[1] is -1, want 0 <= shard < 2"},
		{obj + `,"shard_of":[1,1]}`, "c.json: shard 0 owns no centroid"},
		{obj + `,"shard_of":[0.5,1]}`, "c.json: line 1, column 104 (offset 103): \"shard_of\" is a JSON number 0.5, want int"},
		{strings.Replace(obj, `"shards":2`, `"shards":3`, 1) + "}", "c.json: 2 centroids for 3 shards: want at least one centroid per shard"},
		{strings.Replace(obj, `"shards":2`, `"shards":0`, 1) + "}", "c.json: shards is 0, want at least 1"},
		{strings.Replace(obj, `"shards":2,`, ``, 1) + "}", `c.json: missing "shards"`},
		{strings.Replace(obj, `"metric":"cosine",`, ``, 1) + "}", `c.json: missing "metric"`},
		{strings.Replace(obj, `cosine`, `euclid`, 1) + "}", `c.json: unknown metric "euclid" (want cosine, l2 or inner_product)`},
		{strings.Replace(obj, `/1`, `/2`, 1) + "}", `c.json: format "vecshard-centroids/2", want "vecshard-centroids/1"`},
		{strings.Replace(obj, `"format":"vecshard-centroids/1",`, ``, 1) + "}", `c.json: missing "format"`},
		{`{"format":"vecshard-centroids/1","metric":"cosine","shards":1}`, `c.json: missing "centroids"`},
		{`{"format":"vecshard-centroids/1","metric":"cosine","shards":1,"centroids":[]}`, `c.json: no centroids`},
		{`{"format":"vecshard-centroids/1","metric":"cosine","shards":1,"centroids":{}}`, "c.json: line 1, column 75 (offset 74): centroids: want '[' starting the array of rows"},
		{`{"format":"vecshard-centroids/1"`, `c.json: unexpected EOF`},
	}
	for _, tt := range tests {
		_, err := Parse("c.json", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestValidateInMemory(t *testing.T) {
	ok := func() *File {
		return &File{Metric: Cosine, Dim: 2, Shards: 2, Centroids: [][]float32{{1, 0}, {0, 1}}}
	}
	tests := []struct {
		mod  func(f *File)
		want string
	}{
		{func(f *File) { f.Centroids[1][0] = float32(math.NaN()) }, "row 1: number 0 is NaN"},
		{func(f *File) { f.Centroids[0][1] = float32(math.Inf(-1)) }, "row 0: number 1 is -Inf"},
		{func(f *File) { f.Centroids[1] = f.Centroids[1][:1] }, "row 1: has 1 numbers, want 2"},
		{func(f *File) { f.Metric = 7 }, "unknown metric Metric(7)"},
		{func(f *File) { f.Centroids = nil }, "no centroids"},
		{func(f *File) { f.Shards = -1 }, "shards is -1"},
		{func(f *File) { f.Dim = 0 }, "dim is 0"},
	}
	for _, tt := range tests {
		f := ok()
		tt.mod(f)
		if _, err := New(f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: %v, want an error containing %q", err, tt.want)
		}
		if _, err := f.Marshal(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Marshal: %v, want an error containing %q", err, tt.want)
		}
	}
}

func TestMarshalParse(t *testing.T) {
	f := &File{Metric: L2, Dim: 3, Shards: 2,
		Centroids: [][]float32{{0.1, -0, 1e-45}, {math.MaxFloat32, -1.5, 16777216}, {1.0 / 3, 2, 3}},
		ShardOf:   []int{1, 0, 0},
		Training:  &Training{Points: 10, Iterations: 3, Seed: 42, Objective: 0.25, Sizes: []int{4, 3, 3}, Source: "x", Created: "2026-11-25T09:00:00Z"}}
	f.Centroids[0][1] = float32(math.Copysign(0, -1))
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"format":"vecshard-centroids/1","metric":"l2","dim":3,"shards":2,
"centroids":[[0.1,-0,1e-45],
[3.4028235e+38,-1.5,1.6777216e+07],
[0.33333334,2,3]],
"shard_of":[1,0,0],
"training":{"points":10,"iterations":3,"seed":42,"objective":0.25,"sizes":[4,3,3],"source":"x","created":"2026-11-25T09:00:00Z"}}
`
	if string(data) != want {
		t.Errorf("marshalled\n%s\nwant\n%s", data, want)
	}
	g, err := Parse("c.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFile(f, g) {
		t.Errorf("loaded %+v, want %+v", g, f)
	}

	// Bare form: only the mapping i -> i % shards can be written.
	if _, err := f.MarshalBare(); err == nil || !strings.Contains(err.Error(), "bare form") {
		t.Errorf("MarshalBare of a 3-centroid, 2-shard file: %v", err)
	}
	for _, shardOf := range [][]int{nil, {0, 1, 0}} {
		m := &File{Metric: L2, Dim: 1, Shards: 2, Centroids: [][]float32{{1}, {2}, {3}}, ShardOf: shardOf}
		data, err := m.MarshalBare()
		if err != nil {
			t.Errorf("MarshalBare of 3 centroids on 2 shards, shard_of %v (i %% 2): %v", shardOf, err)
			continue
		}
		g, err := Parse("bare.json", data)
		if err != nil {
			t.Fatal(err)
		}
		s := mustNew(t, g)
		for c := range 3 {
			if !s.Bare() || s.ShardFor(c, 2) != c%2 {
				t.Errorf("reloaded bare file: Bare %v, ShardFor(%d, 2) = %d", s.Bare(), c, s.ShardFor(c, 2))
			}
		}
	}
	b := &File{Metric: InnerProduct, Dim: 2, Centroids: [][]float32{{1, 2}, {3, 4.5}}}
	if data, err = b.MarshalBare(); err != nil {
		t.Fatal(err)
	}
	if string(data) != "[[1,2],\n[3,4.5]]\n" {
		t.Errorf("MarshalBare wrote %q", data)
	}
	g, err = Parse("bare.json", data)
	if err != nil {
		t.Fatal(err)
	}
	b.Metric = Cosine // the bare form has no metric
	if !sameFile(b, g) {
		t.Errorf("loaded %+v, want %+v", g, b)
	}

	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

// sameFile compares Files with float bits, so -0 and 0 differ.
func sameFile(a, b *File) bool {
	if a.Metric != b.Metric || a.Dim != b.Dim || a.Shards != b.Shards || len(a.Centroids) != len(b.Centroids) ||
		!reflect.DeepEqual(a.ShardOf, b.ShardOf) || !reflect.DeepEqual(a.Training, b.Training) {
		return false
	}
	for i := range a.Centroids {
		if len(a.Centroids[i]) != len(b.Centroids[i]) {
			return false
		}
		for j := range a.Centroids[i] {
			if math.Float32bits(a.Centroids[i][j]) != math.Float32bits(b.Centroids[i][j]) {
				return false
			}
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[[0.1,0.2],[0.3,0.4]]"))
	f.Add([]byte("[[1e-45,-0,3.4028235e38]]"))
	f.Add([]byte(`{"format":"vecshard-centroids/1","metric":"l2","dim":2,"shards":2,"centroids":[[1,2],[3,4],[5,6]],"shard_of":[1,0,1],"training":{"points":3,"sizes":[]}}`))
	f.Add([]byte(`{"format":"vecshard-centroids/1","metric":"cosine","shards":1,"centroids":[[1]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		f1, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		s, err := New(f1)
		if err != nil {
			t.Fatalf("Parse accepted what New rejects: %v", err)
		}
		s.Nearest(make([]float32, s.Dim()))
		marshal := (*File).Marshal
		if f1.Shards == 0 {
			marshal = (*File).MarshalBare
		}
		b1, err := marshal(f1)
		if err != nil {
			t.Fatalf("re-save: %v", err)
		}
		f2, err := Parse("resaved.json", b1)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b1)
		}
		// Sizes: [] and absent both load as "no sizes"; normalise.
		if f1.Training != nil && len(f1.Training.Sizes) == 0 {
			f1.Training.Sizes = nil
		}
		if f2.Training != nil && len(f2.Training.Sizes) == 0 {
			f2.Training.Sizes = nil
		}
		if !sameFile(f1, f2) {
			t.Fatalf("re-parsed file differs:\n%+v\n%+v", f1, f2)
		}
		b2, err := marshal(f2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("second save differs (%v):\n%s\n%s", err, b1, b2)
		}
	})
}

// A NaN or Infinity in the object form's centroids (which encoding/json
// reports only as "invalid character 'N' looking for beginning of value")
// is named by row, number, line and column, as a multi-line file shows it.
func TestParseObjectPositions(t *testing.T) {
	head := "{\"format\":\"vecshard-centroids/1\",\"metric\":\"cosine\",\"shards\":2,\n\"centroids\":[[1,2],\n"
	tests := []struct{ in, want string }{
		{head + "[3,NaN]]}", "c.json: line 3, column 4 (offset 86): row 1: number 1: NaN is not a finite number (JSON has none, and every centroid coordinate must be finite): retrain, or replace it"},
		{head + "[-Infinity,1]]}", "c.json: line 3, column 2 (offset 84): row 1: number 0: -Infinity is not a finite number (JSON has none, and every centroid coordinate must be finite): retrain, or replace it"},
		{head + "[3,4]],\n\"dim\": NaN}", `c.json: line 4, column 8 (offset 98): not valid JSON: invalid character 'N' looking for beginning of value`},
		{head + "[3,4]]\n\"dim\":2}", `c.json: line 4, column 1 (offset 90): not valid JSON: invalid character '"' after object key:value pair`},
		{head + "[3,4]],\"shards_of\":[0,1]}", `c.json: unknown member "shards_of" (the members are format, metric, dim, shards, centroids, shard_of, training)`},
	}
	for _, tt := range tests {
		_, err := Parse("c.json", []byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}
