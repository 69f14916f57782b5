package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

const data = "../../testdata/train/"

func train(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runTrain(args, &out, &errb)
	return out.String() + errb.String(), err
}

func TestTrainOutputs(t *testing.T) {
	dir := t.TempDir()
	out, bare, png := filepath.Join(dir, "c.json"), filepath.Join(dir, "bare.json"), filepath.Join(dir, "p.png")
	text, err := train(t, "--input", data+"vectors.csv", "--column", "embedding", "--k", "3",
		"--out", out, "--pgdog-out", bare, "--plot", png, "--seed", "5")
	if err != nil {
		t.Fatal(err, text)
	}
	for _, want := range []string{"points      12", "dim         4", "k           3", "imbalance", "objective", "per shard"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	f, err := centroids.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Dim != 4 || len(f.Centroids) != 3 || f.Shards != 3 || f.Metric != centroids.Cosine || f.Training == nil || f.Training.Points != 12 || f.Training.Seed != 5 {
		t.Fatalf("file: %+v", f)
	}
	b, err := centroids.Load(bare)
	if err != nil || len(b.Centroids) != 3 {
		t.Fatalf("bare: %v", err)
	}
	if p, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(p, []byte("\x89PNG")) {
		t.Fatalf("plot: %v", err)
	}
}

// Same seed and input: the same bytes, whatever the thread count.
func TestTrainDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [][]byte
	for i, c := range []struct {
		procs   int
		threads string
	}{{1, "0"}, {2, "0"}, {2, "1"}, {2, "3"}} {
		p := filepath.Join(dir, strings.Repeat("x", i+1)+".json")
		old := runtime.GOMAXPROCS(c.procs)
		_, err := train(t, "--input", data+"vectors.fvecs", "--k", "4", "--shards", "2", "--restarts", "3",
			"--seed", "11", "--threads", c.threads, "--out", p)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("run %d wrote different bytes:\n%s\n%s", i, files[0], files[i])
		}
	}
}

func TestTrainErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--input", data + "vectors.txt", "--k", "2", "--shards", "3"}, "--k 2 is less than --shards 3"},
		{[]string{"--input", data + "bad.txt", "--k", "2"}, "bad.txt: line 3:"},
		{[]string{"--input", data + "vectors.txt"}, "--k must be at least 1"},
		{[]string{"--k", "2"}, "need --input"},
		{[]string{"--input", data + "vectors.txt", "--k", "2", "--metric", "hamming"}, "hamming"},
		{[]string{"--input", data + "vectors.txt", "--k", "4", "--shards", "2", "--pgdog-out", "x.json"}, "needs k == shards"},
		{[]string{"--input", data + "vectors.txt", "--k", "40"}, "12 points cannot make k = 40"},
	}
	for _, tt := range tests {
		text, err := train(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q\n%s", tt.args, err, tt.want, text)
		}
	}
	text, err := train(t, "--input", data+"bad.txt", "--k", "2", "--skip-bad")
	if err != nil || !strings.Contains(text, "skipped     2 bad rows") {
		t.Errorf("--skip-bad: %v\n%s", err, text)
	}
}

func TestEval(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "c.json")
	if text, err := train(t, "--input", data+"vectors.txt", "--k", "2", "--out", out); err != nil {
		t.Fatal(err, text)
	}
	var buf, errb bytes.Buffer
	// The queries are the training points, and with both probes every
	// shard is searched: recall 1 at 2 probes.
	err := runEval([]string{"--centroids", out, "--input", data + "vectors.txt", "--queries", data + "vectors_f32.npy",
		"--topk", "3", "--probes", "1,2"}, &buf, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(buf.String(), "recall@3    probes 2: 1.0000") || !strings.Contains(buf.String(), "imbalance") {
		t.Errorf("eval output:\n%s", buf.String())
	}
}

// TestTrainPostgres reads from a live server (see kmeans/vecio's
// TestPostgres for VECSHARD_TEST_PG_DSN).
func TestTrainPostgres(t *testing.T) {
	dsn := os.Getenv("VECSHARD_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("VECSHARD_TEST_PG_DSN not set")
	}
	out := filepath.Join(t.TempDir(), "c.json")
	text, err := train(t, "--dsn", dsn, "--query",
		"SELECT ARRAY[i % 7, (i * 3) % 11, 1]::float4[]::text FROM generate_series(1, 500) AS i",
		"--k", "4", "--shards", "2", "--sample", "200", "--out", out)
	if err != nil {
		t.Fatal(err, text)
	}
	if !strings.Contains(text, "points      200 (uniform sample of 500 rows)") {
		t.Errorf("summary:\n%s", text)
	}
	f, err := centroids.Load(out)
	if err != nil || f.Dim != 3 || len(f.Centroids) != 4 || !strings.HasPrefix(f.Training.Source, "postgres: ") {
		t.Fatalf("file %+v, %v", f, err)
	}
}
