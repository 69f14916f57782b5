// Package shardlab sets up the operator's workflow on real servers, for the
// end-to-end tests and the benchmarks: Fashion-MNIST rows, centroids from
// train-centroids (fine cells grouped into shards), rows placed by vecshard
// split and COPYed into their shards, an HNSW index (vector_cosine_ops) on
// every shard and on a reference server that holds every row.
package shardlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// Fashion-MNIST as Debian's dataset-fashion-mnist installs it.
const (
	TrainFile = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
	TestFile  = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
)

// Options say what to set up.
type Options struct {
	Shards        int      // S
	CellsPerShard int      // train-centroids -m
	Rows          int      // training rows loaded (0: all 60,000)
	Queries       int      // test images kept as queries
	Probes        int      // the config's probes
	Build         string   // directory with train-centroids and vecshard
	Work          string   // scratch directory
	ShardDSNs     []string // S servers
	RefDSN        string   // the reference server
}

// Lab is a loaded cluster.
type Lab struct {
	Opt       Options
	Shards    []*pgxpool.Pool
	Ref       *pgxpool.Pool
	Train     kmeans.Matrix // the rows loaded; row i has id i+1
	Queries   kmeans.Matrix
	Config    string // vecshard.toml
	Centroids string // its centroid file
	// PgDogCentroids is the same run's centroids as PgDog's bare array
	// (train-centroids --pgdog-out: centroid i on shard i % Shards).
	PgDogCentroids string
	Set            *centroids.Set
	// Timings of the setup's phases, for the README.
	Timings []Timing
}

// Timing is one phase of the setup.
type Timing struct {
	Phase string
	Took  time.Duration
}

// Close closes the pools.
func (l *Lab) Close() {
	for _, p := range l.Shards {
		p.Close()
	}
	if l.Ref != nil {
		l.Ref.Close()
	}
}

// Table is the items table's DDL: ids from 1, 784 dimensions.
const Table = `CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(784) NOT NULL)`

// Index is the HNSW index every server gets.
const Index = `CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops)`

// Setup runs the workflow; it needs Fashion-MNIST and the two commands.
func Setup(ctx context.Context, o Options) (*Lab, error) {
	if _, err := os.Stat(TrainFile); err != nil {
		return nil, fmt.Errorf("shardlab: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %w", err)
	}
	l := &Lab{Opt: o}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	phase := func(name string, f func() error) error {
		t := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("shardlab: %s: %w", name, err)
		}
		l.Timings = append(l.Timings, Timing{name, time.Since(t)})
		return nil
	}
	var err error
	if l.Train, err = readMatrix(TrainFile, o.Rows); err != nil {
		return nil, err
	}
	if l.Queries, err = readMatrix(TestFile, o.Queries); err != nil {
		return nil, err
	}
	for _, dsn := range append(append([]string{}, o.ShardDSNs...), o.RefDSN) {
		p, err := pgxpool.New(ctx, dsn+"&pool_max_conns=40")
		if err != nil {
			return nil, err
		}
		l.Shards = append(l.Shards, p)
	}
	l.Ref, l.Shards = l.Shards[len(l.Shards)-1], l.Shards[:len(l.Shards)-1]

	items := filepath.Join(o.Work, "items.txt")
	steps := []struct {
		name string
		f    func() error
	}{
		{"write rows", func() error { return WriteCopy(items, l.Train, 1) }},
		{"train-centroids", func() error { return l.train(items) }},
		{"vecshard split", func() error {
			return l.run("vecshard", "split", "--config", l.Config, "--table", "items", "--columns", "id,embedding",
				"--input", items, "--out", filepath.Join(o.Work, "parts"), "--quiet")
		}},
		{"COPY + HNSW", func() error { return l.load(ctx, items) }},
	}
	for _, s := range steps {
		if err := phase(s.name, s.f); err != nil {
			return nil, err
		}
	}
	ok = true
	return l, nil
}

func readMatrix(path string, n int) (kmeans.Matrix, error) {
	r, err := vecio.Open(path, vecio.Options{})
	if err != nil {
		return kmeans.Matrix{}, err
	}
	defer r.Close()
	x, _, err := vecio.Collect(r, 0, 1, false)
	if err != nil {
		return kmeans.Matrix{}, err
	}
	if n > 0 && n < x.Rows {
		x.Rows, x.Data = n, x.Data[:n*x.Dim]
	}
	return x, nil
}

// Row returns row i of m.
func Row(m kmeans.Matrix, i int) []float32 { return m.Data[i*m.Dim : (i+1)*m.Dim] }

// VectorText is pgvector's text form of v, as pgvector-go writes it.
func VectorText(v []float32) string { return pgvector.NewVector(v).String() }

// WriteCopy writes m as COPY text rows "id<TAB>vector", ids from firstID.
func WriteCopy(path string, m kmeans.Matrix, firstID int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < m.Rows; i++ {
		fmt.Fprintf(w, "%d\t%s\n", firstID+i, VectorText(Row(m, i)))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (l *Lab) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(l.Opt.Build, name), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (l *Lab) train(items string) error {
	o := l.Opt
	l.Centroids = filepath.Join(o.Work, "centroids.json")
	l.PgDogCentroids = filepath.Join(o.Work, "pgdog-centroids.json")
	if err := l.run("train-centroids", "-i", items, "--format", "tsv", "--column", "1",
		"-s", strconv.Itoa(o.Shards), "-m", strconv.Itoa(o.CellsPerShard), "-o", l.Centroids,
		"--pgdog-out", l.PgDogCentroids); err != nil {
		return err
	}
	f, err := centroids.Load(l.Centroids)
	if err != nil {
		return err
	}
	if l.Set, err = centroids.New(f); err != nil {
		return err
	}
	l.Config = filepath.Join(o.Work, "vecshard.toml")
	return WriteConfig(l.Config, o.Shards, "centroids.json", o.Probes)
}

// WriteConfig writes vecshard's configuration for the items table (a vector
// table with an id column) and a users table keyed by bigint id.
func WriteConfig(path string, shards int, centroidFile string, probes int) error {
	return os.WriteFile(path, fmt.Appendf(nil, `shards = %d

[[tables]]
name = "items"
key = "vector"
vector_column = "embedding"
centroids = %q
metric = "cosine"
probes = %d
id_column = "id"

[[tables]]
name = "users"
key = "id"
id_column = "id"
id_type = "bigint"
`, shards, centroidFile, probes), 0o644)
}

// Reset drops and recreates the items and users tables on pool.
func Reset(ctx context.Context, p *pgxpool.Pool) error {
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS vector`,
		`DROP TABLE IF EXISTS items, users`,
		Table,
		`CREATE TABLE users (id bigint PRIMARY KEY, name text)`,
	} {
		if _, err := p.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// CopyFile COPYs a COPY text file of (id, embedding) into items.
func CopyFile(ctx context.Context, p *pgxpool.Pool, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c, err := p.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	tag, err := c.Conn().PgConn().CopyFrom(ctx, f, "COPY items (id, embedding) FROM STDIN")
	return tag.RowsAffected(), err
}

// load fills every shard with its part and the reference with every row, in
// parallel, then builds the HNSW indexes.
func (l *Lab) load(ctx context.Context, items string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(l.Shards)+1)
	fill := func(i int, p *pgxpool.Pool, file string) {
		if err := Reset(ctx, p); err != nil {
			errs[i] = err
			return
		}
		if _, err := CopyFile(ctx, p, file); err != nil {
			errs[i] = fmt.Errorf("COPY %s: %w", file, err)
			return
		}
		if _, err := p.Exec(ctx, Index); err != nil {
			errs[i] = err
			return
		}
		_, errs[i] = p.Exec(ctx, "ANALYZE items")
	}
	for i, p := range l.Shards {
		wg.Go(func() { fill(i, p, filepath.Join(l.Opt.Work, "parts", fmt.Sprintf("shard-%d.txt", i))) })
	}
	wg.Go(func() { fill(len(l.Shards), l.Ref, items) })
	wg.Wait()
	return errors.Join(errs...)
}
