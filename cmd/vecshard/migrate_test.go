package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// fmnistTrain is Fashion-MNIST's training set as Debian's
// dataset-fashion-mnist package installs it.
const fmnistTrain = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

// TestSplitMigration is a reshard's data migration on real vectors: 6,000
// Fashion-MNIST images in 4 shards of fine cells grow to 5 shards
// (train-centroids reshard's kmeans.Reshard). split --from writes the
// moves and the deletes; applying them to the 4 shards' contents (split
// under the old configuration) must give exactly the 5 shards' contents
// under the new one: nothing lost, nothing duplicated, and exactly the rows
// the reshard counted as moved.
func TestSplitMigration(t *testing.T) {
	if _, err := os.Stat(fmnistTrain); err != nil {
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	r, err := vecio.Open(fmnistTrain, vecio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := vecio.Collect(r, 0, 1, false)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000
	x := kmeans.Matrix{Rows: n, Dim: all.Dim, Data: all.Data[:n*all.Dim]}
	res, err := kmeans.Train(x, kmeans.Config{K: 64, Metric: centroids.Cosine, Iters: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	set, err := centroids.New(kmeans.FileOf(res.Centroids, centroids.Cosine, 64, nil))
	if err != nil {
		t.Fatal(err)
	}
	g, err := kmeans.Group(x, set, kmeans.GroupConfig{Shards: 4, Balance: 1.1, Seed: 1, Steps: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	old := kmeans.FileOf(res.Centroids, centroids.Cosine, 4, g.ShardOf)
	rs, err := kmeans.Reshard(x, old, kmeans.ReshardConfig{Shards: 5, Balance: 1.1, Seed: 1, Steps: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	nf := kmeans.FileOf(res.Centroids, centroids.Cosine, 5, rs.ShardOf)

	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		f      *centroids.File
		shards int
	}{{"old", old, 4}, {"new", nf, 5}} {
		b, err := c.f.Marshal()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, c.name+".json"), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("shards = %d\n[[tables]]\nname = \"images\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = %q\nid_column = \"id\"\nid_type = \"bigint\"\n", c.shards, c.name+".json")
		if err := os.WriteFile(filepath.Join(dir, c.name+".toml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	export := filepath.Join(dir, "images.csv")
	var b strings.Builder
	b.WriteString("id,embedding\n")
	for i := 0; i < n; i++ {
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(`,"[`)
		for j, v := range x.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteString("]\"\n")
	}
	if err := os.WriteFile(export, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"split", "-c", filepath.Join(dir, "old.toml"), "-t", "images", "-i", export, "--header", "-o", filepath.Join(dir, "before")},
		{"split", "-c", filepath.Join(dir, "new.toml"), "-t", "images", "-i", export, "--header", "-o", filepath.Join(dir, "after")},
		{"split", "-c", filepath.Join(dir, "new.toml"), "--from", filepath.Join(dir, "old.toml"), "-t", "images", "-i", export, "--header", "-o", filepath.Join(dir, "moves")},
	} {
		if status, _, stderr := runCLI(t, args...); status != 0 {
			t.Fatalf("%v: status %d: %s", args, status, stderr)
		}
	}
	// The shards' contents before, the migration applied to them.
	shards := make([]map[string]bool, 5)
	for s := range shards {
		shards[s] = map[string]bool{}
	}
	for s := 0; s < 4; s++ {
		for _, id := range csvIDs(t, filepath.Join(dir, "before", fmt.Sprintf("shard-%d.csv", s))) {
			shards[s][id] = true
		}
	}
	moved := 0
	for s := 0; s < 5; s++ {
		for _, id := range csvIDs(t, filepath.Join(dir, "moves", fmt.Sprintf("move-to-shard-%d.csv", s))) {
			if shards[s][id] {
				t.Fatalf("row %d moves to shard %d, where it already is", mustAtoi(t, id), s)
			}
			shards[s][id] = true
			moved++
		}
	}
	for s := 0; s < 4; s++ {
		for _, id := range lines(t, filepath.Join(dir, "moves", fmt.Sprintf("delete-from-shard-%d.txt", s))) {
			if !shards[s][id] {
				t.Fatalf("row %s deleted from shard %d, which does not hold it", id, s)
			}
			delete(shards[s], id)
		}
	}
	seen := map[string]int{}
	for s := 0; s < 5; s++ {
		want := csvIDs(t, filepath.Join(dir, "after", fmt.Sprintf("shard-%d.csv", s)))
		if len(want) != len(shards[s]) {
			t.Fatalf("shard %d: %d rows after the migration, %d under the new layout", s, len(shards[s]), len(want))
		}
		for _, id := range want {
			if !shards[s][id] {
				t.Fatalf("row %s: on shard %d under the new layout, not after the migration", id, s)
			}
			seen[id]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct rows after the migration, want %d", len(seen), n)
	}
	if moved != rs.Moved {
		t.Fatalf("split moved %d rows, the reshard counted %d", moved, rs.Moved)
	}
	t.Logf("%d of %d rows moved (%.1f%%; 1/5 = 20%% is the least that fills the new shard)", moved, n, 100*float64(moved)/n)
}

// csvIDs returns the first field of every data line of a CSV split file.
func csvIDs(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	for i, l := range lines(t, path) {
		if i == 0 {
			continue // header
		}
		id, _, _ := strings.Cut(l, ",")
		ids = append(ids, id)
	}
	return ids
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
