package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

const data = "../../testdata/train/"

func train(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	if status := run(args, &out, &errb); status != 0 {
		return out.String() + errb.String(), errors.New(errb.String())
	}
	return out.String() + errb.String(), nil
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
		_, err := train(t, "--input", data+"vectors.fvecs", "--k", "4", "--shards", "2", "--balance", "1.5", "--restarts", "3",
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

// TestTrainErrors pins every message a wrong command line or a bad input
// gets: what is wrong, where, and how to fix it, on one line of stderr,
// with the exit status (2 for usage, 1 for a problem with the data).
func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "c.json")
	missing := filepath.Join(dir, "nodir", "c.json")
	txt := data + "vectors.txt"
	tests := []struct {
		args   []string
		status int
		want   string // the whole of stderr, after "train-centroids: "
	}{
		{[]string{"-i", txt, "-k", "2", "-s", "3", "-o", out}, 2, "--k 2 is less than --shards 3: every shard needs at least one centroid"},
		{[]string{"-i", data + "bad.txt", "-k", "2", "-o", out}, 1, data + "bad.txt: line 3: invalid input syntax for type vector: \"[1,2,oops,4]\" (vector input, byte 5) (fix the row, or give --skip-bad to skip bad rows)"},
		{[]string{"-i", txt, "-o", out}, 2, "--k is required: the number of centroids (at least the number of shards; e.g. --shards 16 --cells-per-shard 32, or --k 64 --shards 16)"},
		{[]string{"-i", txt, "-s", "2", "-m", "3", "-k", "5", "-o", out}, 2, "--k 5 disagrees with --cells-per-shard 3 x --shards 2 = 6: give one of --k and --cells-per-shard"},
		{[]string{"-i", txt, "-m", "3", "-o", out}, 2, "--cells-per-shard needs --shards: the cells are cells-per-shard x shards"},
		{[]string{"-i", txt, "-s", "2", "-m", "0", "-k", "0", "-o", out}, 2, "--k is required: the number of centroids (at least the number of shards; e.g. --shards 16 --cells-per-shard 32, or --k 64 --shards 16)"},
		{[]string{"-i", data + "vectors.fvecs", "-s", "2", "-m", "2", "--restarts", "3", "--seed", "11", "-o", out}, 1, "grouping 4 cells into 2 shards (--balance 1.05): cannot bring every shard within the size window of 5.7..6.3 rows: the closest reached is [7 5]; more cells (--cells-per-shard), more training rows or a wider --balance (e.g. 1.2) would help"},
		{[]string{"-i", txt, "-s", "2", "-m", "3", "-o", out, "--queries", data + "vectors.json"}, 2, `cannot tell the format of ` + data + `vectors.json: ".json" is not a known extension (.txt, .vec, .csv, .tsv, .fvecs, .npy, .idx, each optionally .gz); give --format`},
		{[]string{"-k", "2", "-o", out}, 2, "no input: give --input FILE, or --dsn URL with --query SQL"},
		{[]string{"-i", txt, "-k", "2", "--metric", "hamming", "-o", out}, 2, `--metric "hamming": want cosine, l2 or inner_product`},
		{[]string{"-i", txt, "-k", "5", "-s", "2", "--pgdog-out", out}, 2, "--pgdog-out: PgDog's bare array puts centroid i on shard i % shards, so every shard owns the same number of centroids; 5 centroids cannot be spread evenly over 2 shards (use --cells-per-shard, or a k that is a multiple of 2)"},
		{[]string{"-i", txt, "-k", "40", "-o", out}, 1, "12 points cannot make k = 40 centroids"},
		{[]string{"-i", txt, "-k", "2"}, 2, "no output: give --out FILE (and/or --pgdog-out FILE), or --dry-run to train without writing"},
		{[]string{"-i", txt, "-k", "2", "-o", out, "--dry-run"}, 2, "--dry-run writes no centroid file: drop it, or drop --out/--pgdog-out"},
		{[]string{"-i", txt, "--dsn", "postgres://x/y", "--query", "SELECT 1", "-k", "2", "-o", out}, 2, "--input " + txt + " and --dsn both give training vectors: give one of them"},
		{[]string{"--dsn", "postgres://x/y", "-k", "2", "-o", out}, 2, `--dsn needs --query: the SQL whose first column is the vector, e.g. --query "SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)"`},
		{[]string{"--query", "SELECT 1", "-k", "2", "-o", out}, 2, "--query needs --dsn: the PostgreSQL to run it on"},
		{[]string{"-i", txt, "-k", "2", "-o", missing}, 1, "--out: write " + missing + ": directory " + filepath.Dir(missing) + " does not exist (create it first)"},
		{[]string{"-i", txt, "-k", "2", "-o", dir}, 1, "--out: write " + dir + ": is a directory; give a file name"},
		{[]string{"-i", txt, "-k", "2", "-o", out, "--plot", missing}, 1, "--plot: write " + missing + ": directory " + filepath.Dir(missing) + " does not exist (create it first)"},
		{[]string{"-i", data + "vectors", "-k", "2", "-o", out}, 2, "cannot tell the format of " + data + "vectors: the name has no extension; give --format (txt, csv, tsv, fvecs, npy or idx)"},
		{[]string{"-i", data + "vectors.json", "-k", "2", "-o", out}, 2, `cannot tell the format of ` + data + `vectors.json: ".json" is not a known extension (.txt, .vec, .csv, .tsv, .fvecs, .npy, .idx, each optionally .gz); give --format`},
		{[]string{"-i", txt, "--format", "parquet", "-k", "2", "-o", out}, 2, `--format: unknown format "parquet" (want txt, csv, tsv, fvecs, npy or idx)`},
		{[]string{"-i", data + "vectors.csv", "-k", "2", "-o", out}, 2, data + "vectors.csv is CSV: give --column, the header name or 0-based index of the vector column"},
		{[]string{"-i", txt, "-k", "2", "-o", out, "--created", "yesterday"}, 2, `--created "yesterday": want an RFC 3339 time such as 2026-01-02T15:04:05Z, or now`},
		{[]string{"-i", txt, "-k", "2", "-o", out, "--balance", "0.5"}, 2, "--balance 0.5: want 0 (off) or at least 1 (a shard may hold F times the mean)"},
		{[]string{"-i", txt, "-k", "x"}, 2, `invalid argument "x" for "-k, --k" flag: strconv.ParseInt: parsing "x": invalid syntax (see train-centroids --help)`},
		{[]string{"--inptu", txt}, 2, "unknown flag: --inptu (see train-centroids --help)"},
		{[]string{"trian"}, 2, `unknown command "trian" for train-centroids (commands: completion, eval, reshard; flags start with --; see train-centroids --help)`},
		{[]string{"evl"}, 2, `unknown command "evl" for train-centroids: did you mean eval? (commands: completion, eval, reshard; flags start with --; see train-centroids --help)`},
		{[]string{"eval", "-i", txt}, 2, "eval needs --centroids FILE, --input TRAIN (or --dsn/--query) and --queries TEST"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		if want := "train-centroids: " + tt.want + "\n"; status != tt.status || stderr.String() != want {
			t.Errorf("%v:\n status %d, stderr %q\nwant %d, %q", tt.args, status, stderr.String(), tt.status, want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed runs left files: %v", ents)
	}
	text, err := train(t, "--input", data+"bad.txt", "--k", "2", "--skip-bad", "--dry-run")
	if err != nil || !strings.Contains(text, "skipped     2 bad rows") || !strings.Contains(text, "dry run     no file written") {
		t.Errorf("--skip-bad: %v\n%s", err, text)
	}
}

// Every command and subcommand answers --help on stdout with status 0, a
// bare command prints its usage, --version names the module.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {}, {"help"}, {"eval", "--help"}, {"help", "eval"}, {"eval"}, {"completion", "--help"}} {
		var stdout, stderr bytes.Buffer
		if status := run(args, &stdout, &stderr); status != 0 || !strings.Contains(stdout.String(), "Usage:") || stderr.Len() != 0 {
			t.Errorf("%v: status %d, stdout %q, stderr %q", args, status, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if status := run([]string{"--help"}, &stdout, &stderr); !strings.Contains(stdout.String(), "eval") || !strings.Contains(stdout.String(), "-o, --out FILE") || status != 0 {
		t.Errorf("--help does not list eval or -o:\n%s", stdout.String())
	}
	stdout.Reset()
	if status := run([]string{"--version"}, &stdout, &stderr); status != 0 || !strings.HasPrefix(stdout.String(), "train-centroids github.com/vecshard/vecshard ") {
		t.Errorf("--version: %d %q", status, stdout.String())
	}
	stdout.Reset()
	if status := run([]string{"completion", "bash"}, &stdout, &stderr); status != 0 || !strings.Contains(stdout.String(), "train-centroids") {
		t.Errorf("completion bash: %d", status)
	}
}

// Files are written with the user's umask, not 0600 or a fixed 0644.
func TestTrainUmask(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	out := filepath.Join(dir, "c.json")
	if text, err := train(t, "-i", data+"vectors.txt", "-k", "2", "-o", out, "--pgdog-out", filepath.Join(dir, "b.json"), "--plot", filepath.Join(dir, "p.png")); err != nil {
		t.Fatal(err, text)
	}
	for _, f := range []string{"c.json", "b.json", "p.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o664 {
			t.Errorf("%s: %v, mode %v, want -rw-rw-r--", f, err, st.Mode())
		}
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
	err := evalRun([]string{"--centroids", out, "--input", data + "vectors.txt", "--queries", data + "vectors_f32.npy",
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

// evalRun runs train-centroids eval with args.
func evalRun(args []string, stdout, stderr io.Writer) error {
	if status := run(append([]string{"eval"}, args...), stdout, stderr); status != 0 {
		return errors.New("exit status " + string(rune('0'+status)))
	}
	return nil
}

// writeBlobs writes n vectors of dim around centres vectors to an .fvecs
// file (little-endian int32 dim, then dim float32s, per row).
func writeBlobs(t *testing.T, path string, seed uint64, n, dim, centres int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	cs := make([][]float64, centres)
	for i := range cs {
		cs[i] = make([]float64, dim)
		for j := range cs[i] {
			cs[i][j] = r.NormFloat64()
		}
	}
	var b []byte
	for range n {
		c := cs[r.IntN(centres)]
		b = binary.LittleEndian.AppendUint32(b, uint32(dim))
		for j := range dim {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(c[j]+0.4*r.NormFloat64())))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainCells: fine cells grouped into shards, written in PgDog's order
// (cell i on shard i % shards) in both files, every shard inside the
// window, the summary with held-out recall, and the same bytes for any
// thread count.
func TestTrainCells(t *testing.T) {
	dir := t.TempDir()
	in, q := filepath.Join(dir, "train.fvecs"), filepath.Join(dir, "q.fvecs")
	writeBlobs(t, in, 1, 3000, 12, 40)
	writeBlobs(t, q, 2, 300, 12, 40)
	var outs [][]byte
	for i, threads := range []string{"1", "2"} {
		out, bare := filepath.Join(dir, fmt.Sprint("c", i, ".json")), filepath.Join(dir, fmt.Sprint("p", i, ".json"))
		text, err := train(t, "-i", in, "-s", "4", "-m", "8", "--queries", q, "--threads", threads, "-o", out, "--pgdog-out", bare)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"cells       32 (8 per shard on average)", "window 0.952..1.050 x mean", "recall@10    probes 1: ", "recall@10    probes 4: ", "held-out    imbalance", "grouping"} {
			if !strings.Contains(text, want) {
				t.Fatalf("summary lacks %q:\n%s", want, text)
			}
		}
		f, err := centroids.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		p, err := centroids.Load(bare)
		if err != nil {
			t.Fatal(err)
		}
		loads := make([]int, 4)
		for c, s := range f.ShardOf {
			if s != c%4 || !slices.Equal(f.Centroids[c], p.Centroids[c]) {
				t.Fatalf("cell %d: shard %d, and the bare array's row differs or is not on shard i %% 4", c, s)
			}
			loads[s] += f.Training.Sizes[c]
		}
		for s, l := range loads {
			if float64(l) < 750/1.05 || float64(l) > 750*1.05 {
				t.Fatalf("shard %d holds %d of 3000 training rows", s, l)
			}
		}
		b, _ := os.ReadFile(out)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("the thread count changed the output")
	}
}

// TestReshard grows a 4-shard layout of cells to 5 shards: the new file
// keeps the centroids, has 5 shards inside the window, moved at most the
// budget, and the summary and plot are written; wrong uses get messages
// that say how to fix them.
func TestReshard(t *testing.T) {
	dir := t.TempDir()
	in, q := filepath.Join(dir, "train.fvecs"), filepath.Join(dir, "q.fvecs")
	writeBlobs(t, in, 1, 4000, 12, 60)
	writeBlobs(t, q, 2, 300, 12, 60)
	old, nf, png := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json"), filepath.Join(dir, "r.png")
	if text, err := train(t, "-i", in, "-s", "4", "-m", "16", "-o", old); err != nil {
		t.Fatal(text, err)
	}
	text, err := train(t, "reshard", "--centroids", old, "-s", "5", "-i", in, "-o", nf, "--queries", q, "--plot", png, "--balance", "1.1", "--max-move", "0.3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shards      4 -> 5", "moved       ", "recall@10    probes 1: ", "(before ", "window 0.909..1.100 x mean"} {
		if !strings.Contains(text, want) {
			t.Fatalf("reshard output lacks %q:\n%s", want, text)
		}
	}
	a, err := centroids.Load(old)
	if err != nil {
		t.Fatal(err)
	}
	b, err := centroids.Load(nf)
	if err != nil {
		t.Fatal(err)
	}
	if b.Shards != 5 || len(b.Centroids) != len(a.Centroids) {
		t.Fatalf("new file: %d shards, %d centroids", b.Shards, len(b.Centroids))
	}
	moved, total := 0, 0
	loads := make([]int, 5)
	for c := range a.Centroids {
		if !slices.Equal(a.Centroids[c], b.Centroids[c]) {
			t.Fatalf("centroid %d changed", c)
		}
		total += b.Training.Sizes[c]
		loads[b.ShardOf[c]] += b.Training.Sizes[c]
		if a.ShardOf[c] != b.ShardOf[c] {
			moved += b.Training.Sizes[c]
		}
	}
	if float64(moved) > 0.3*float64(total) || moved == 0 {
		t.Fatalf("moved %d of %d rows", moved, total)
	}
	for s, l := range loads {
		if mean := float64(total) / 5; float64(l) < mean/1.1 || float64(l) > mean*1.1 {
			t.Fatalf("shard %d: %d rows", s, l)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Fatalf("plot: %v", err)
	}
	bare := filepath.Join(dir, "bare.json")
	if err := saveBare(bare, &centroids.File{Metric: a.Metric, Dim: a.Dim, Centroids: a.Centroids}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"reshard", "-s", "5", "-i", in, "-o", nf}, 2, "reshard needs --centroids OLD: the centroid file the shards use now"},
		{[]string{"reshard", "--centroids", old, "-i", in, "-o", nf}, 2, "reshard needs --shards N: the new number of shards"},
		{[]string{"reshard", "--centroids", old, "-s", "5", "-i", in}, 2, "reshard needs --out NEW: where to write the new centroid file"},
		{[]string{"reshard", "--centroids", old, "-s", "4", "-i", in, "-o", nf}, 2, "--shards 4: " + old + " already has 4 shards; reshard adds shards (give more than 4)"},
		{[]string{"reshard", "--centroids", old, "-s", "65", "-i", in, "-o", nf}, 1, "--shards 65: " + old + " has only 64 cells, and every shard needs one; retrain with more cells (--cells-per-shard)"},
		{[]string{"reshard", "--centroids", bare, "-s", "5", "-i", in, "-o", nf}, 1, "--centroids " + bare + " is PgDog's bare array: it puts centroid i on shard i % n for every n, so adding a shard moves nearly every row; train a vecshard-centroids/1 file (--out) to reshard"},
		{[]string{"reshard", "--centroids", old, "-s", "5", "-i", in, "-o", nf, "--max-move", "0.001"}, 1, "resharding 64 cells onto 5 shards (--balance 1.05): "},
	} {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		if want := "train-centroids: " + tt.want; status != tt.status || !strings.HasPrefix(stderr.String(), want) {
			t.Errorf("%v:\n status %d, stderr %q\nwant %d, %q", tt.args, status, stderr.String(), tt.status, want)
		}
	}
}
