package shards

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/internal/pgdogexec"
	"github.com/vecshard/vecshard/internal/shardlab"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

var bg = context.Background()

// vecParam is a vector parameter as a client sends it.
func vecParam(v []float32, binaryFormat bool) ([]byte, int16) {
	if !binaryFormat {
		return []byte(shardlab.VectorText(v)), 0
	}
	b, _ := pgvector.NewVector(v).EncodeBinary(nil) // never fails for a Vector
	return b, 1
}

func int8Param(v int64, binaryFormat bool) ([]byte, int16) {
	if binaryFormat {
		return binary.BigEndian.AppendUint64(nil, uint64(v)), 1
	}
	return []byte(strconv.FormatInt(v, 10)), 0
}

// req builds an extended-protocol request from (value, format) pairs.
func req(sql string, params ...any) pgdogexec.Request {
	r := pgdogexec.Request{SQL: sql}
	for i := 0; i < len(params); i += 2 {
		r.Params = append(r.Params, params[i].([]byte))
		r.Formats = append(r.Formats, params[i+1].(int16))
	}
	return r
}

func ids(t *testing.T, rows [][][]byte) []int64 {
	t.Helper()
	out := make([]int64, len(rows))
	for i, r := range rows {
		n, err := strconv.ParseInt(string(r[0]), 10, 64)
		if err != nil {
			t.Fatalf("id %q: %v", r[0], err)
		}
		out[i] = n
	}
	return out
}

// count returns count(*) of items on every server of pools.
func counts(t *testing.T, pools []*pgxpool.Pool) []int64 {
	t.Helper()
	out := make([]int64, len(pools))
	for i, p := range pools {
		if err := p.QueryRow(bg, "SELECT count(*) FROM items").Scan(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sum(xs []int64) (s int64) {
	for _, x := range xs {
		s += x
	}
	return s
}

// The inserted rows: test images 0..insertN-1 as ids insertBase+1...
const (
	insertBase = 1_000_000
	insertN    = 96
)

func insertID(i int) int64 { return int64(insertBase + 1 + i) }

// TestInsertPlacement inserts new rows through the plugin from several
// clients, half with text and half with binary parameters: each lands on
// exactly one shard, the nearest centroid's, which is also the shard vecshard
// split chooses; routed lookups find it; count(*) over ALL counts every row.
func TestInsertPlacement(t *testing.T) {
	lab := need(t)
	c, _ := cluster(t, lab.Config, "items", "users")
	before := sum(counts(t, lab.Shards))
	const ins = "INSERT INTO items (id, embedding) VALUES ($1, $2)"
	var wg sync.WaitGroup
	errs := make(chan error, insertN)
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := w; i < insertN; i += 4 {
				v := shardlab.Row(lab.Queries, i)
				binFmt := i%2 == 1
				id, f1 := int8Param(insertID(i), binFmt)
				vec, f2 := vecParam(v, binFmt)
				res, err := c.Exec(bg, req(ins, id, f1, vec, f2))
				if err != nil {
					errs <- fmt.Errorf("row %d: %v (%v)", i, err, res.Decision)
					continue
				}
				if _, want := lab.Set.Nearest(v); res.Decision.Kind != pgdogexec.Shard || res.Decision.Shard != want || !res.Decision.Write {
					errs <- fmt.Errorf("row %d: decision %v, want shard %d write", i, res.Decision, want)
				}
				if _, err := lab.Ref.Exec(bg, "INSERT INTO items (id, embedding) VALUES ($1, $2)", insertID(i), shardlab.VectorText(v)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	// Where each row is, and where split puts it.
	where := map[int64][]int{}
	for s, p := range lab.Shards {
		rows, err := p.Query(bg, "SELECT id FROM items WHERE id > $1", insertBase)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			where[id] = append(where[id], s)
		}
		rows.Close()
	}
	split := splitShards(t, lab.Config, lab.Queries, int(insertID(0)), insertN)
	for i := 0; i < insertN; i++ {
		id := insertID(i)
		if len(where[id]) != 1 || where[id][0] != split[id] {
			t.Errorf("row %d is on shards %v, vecshard split places it on %d", id, where[id], split[id])
		}
	}
	// Routed lookups find each row.
	for i := 0; i < insertN; i += 7 {
		vec, f := vecParam(shardlab.Row(lab.Queries, i), i%2 == 0)
		res, err := c.Exec(bg, req("SELECT id FROM items WHERE embedding = $1", vec, f))
		if err != nil || res.Decision.Kind != pgdogexec.Shard || !slices.Contains(ids(t, res.Rows), insertID(i)) {
			t.Errorf("WHERE embedding = $1 for row %d: %v %v rows %v", insertID(i), res.Decision, err, res.Rows)
		}
		id, f := int8Param(insertID(i), i%2 == 0)
		res, err = c.Exec(bg, req("SELECT id FROM items WHERE id = $1", id, f))
		if err != nil || len(res.Rows) != 1 {
			t.Errorf("WHERE id = $1 for row %d: %v %v: %d rows", insertID(i), res.Decision, err, len(res.Rows))
		}
	}
	res, err := c.Exec(bg, pgdogexec.Request{SQL: "SELECT count(*) FROM items", Simple: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Rows[0][0]); got != strconv.FormatInt(before+insertN, 10) || res.Decision.Kind != pgdogexec.All {
		t.Errorf("count(*) through the plugin: %s (%v), want %d loaded + %d inserted", got, res.Decision, before, insertN)
	}
}

// TestUndeclaredTable reproduces PgDog's omnisharded reads (a vecshard table
// missing from [[sharded_tables]]: one shard's rows) and the cure.
func TestUndeclaredTable(t *testing.T) {
	lab := need(t)
	per := counts(t, lab.Shards)
	for _, tc := range []struct {
		declared []string
		want     int64
	}{
		{nil, per[0]},
		{[]string{"items"}, sum(per)},
	} {
		c, _ := cluster(t, lab.Config, tc.declared...)
		res, err := c.Exec(bg, pgdogexec.Request{SQL: "SELECT count(*) FROM items", Simple: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Rows[0][0]); got != strconv.FormatInt(tc.want, 10) {
			t.Errorf("declared %v: count(*) = %s, want %d (per shard %v)", tc.declared, got, tc.want, per)
		}
	}
}

// splitShards runs vecshard split on the first n rows of m (ids from
// firstID) and returns each id's shard.
func splitShards(t *testing.T, config string, m kmeans.Matrix, firstID, n int) map[int64]int {
	t.Helper()
	dir := t.TempDir()
	q := m
	q.Rows, q.Data = n, q.Data[:n*q.Dim]
	in := dir + "/rows.txt"
	if err := shardlab.WriteCopy(in, q, firstID); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd("vecshard", "split", "--config", config, "--table", "items", "--columns", "id,embedding",
		"--input", in, "--out", dir+"/parts", "--quiet")
	if err != nil {
		t.Fatalf("split: %v\n%s", err, out)
	}
	return readParts(t, dir+"/parts", "shard-%d.txt", S)
}

func readParts(t *testing.T, dir, pattern string, shards int) map[int64]int {
	t.Helper()
	got := map[int64]int{}
	for s := 0; s < shards; s++ {
		b, err := os.ReadFile(fmt.Sprintf(dir+"/"+pattern, s))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			id, _ := strconv.ParseInt(strings.SplitN(line, "\t", 2)[0], 10, 64)
			got[id] = s
		}
	}
	return got
}

// TestBadInput: refused with the plugin's message, nothing written anywhere.
func TestBadInput(t *testing.T) {
	lab := need(t)
	c, log := cluster(t, lab.Config, "items", "users")
	before := counts(t, lab.Shards)
	v0, v1 := shardlab.Row(lab.Train, 0), shardlab.Row(lab.Train, 1)
	// Two rows the centroids put on different shards.
	other := 1
	_, s0 := lab.Set.Nearest(v0)
	for ; other < lab.Train.Rows; other++ {
		if _, s := lab.Set.Nearest(shardlab.Row(lab.Train, other)); s != s0 {
			break
		}
	}
	v1 = shardlab.Row(lab.Train, other)
	nan := strings.Replace(shardlab.VectorText(v0), "[0,", "[NaN,", 1)
	wrongBin, _ := vecParam([]float32{1, 2, 3}, true)
	const ins = "INSERT INTO items (id, embedding) VALUES ($1, $2)"
	for _, tc := range []struct {
		name string
		r    pgdogexec.Request
		log  string // in the plugin's warning
	}{
		{"wrong dimension text", req(ins, []byte("5000001"), int16(0), []byte("[1,2,3]"), int16(0)), "expected 784 dimensions, not 3"},
		{"wrong dimension binary", req(ins, []byte("5000002"), int16(0), wrongBin, int16(1)), "expected 784 dimensions, not 3"},
		{"NaN", req(ins, []byte("5000003"), int16(0), []byte(nan), int16(0)), "NaN"},
		{"malformed", req(ins, []byte("5000004"), int16(0), []byte("[1,2"), int16(0)), "5000004"},
		{"split row", req("INSERT INTO items (id, embedding) VALUES ($1, $2), ($3, $4)",
			[]byte("5000005"), int16(0), []byte(shardlab.VectorText(v0)), int16(0),
			[]byte("5000006"), int16(0), []byte(shardlab.VectorText(v1)), int16(0)), "shard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Exec(bg, tc.r)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42601" || res.Decision.Kind != pgdogexec.Blocked {
				t.Fatalf("%v, %v: want blocked with 42601", res.Decision, err)
			}
			if pe.Detail != tc.r.SQL || !strings.Contains(pe.Message, `blocked by plugin "vecshard"`) {
				t.Errorf("client sees %q / %q", pe.Message, pe.Detail)
			}
		})
	}
	if after := counts(t, lab.Shards); !slices.Equal(before, after) {
		t.Errorf("rows per shard changed from %v to %v", before, after)
	}
	for _, want := range []string{"expected 784 dimensions, not 3", "NaN not allowed", "rows for shard"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("plugin log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestReshard grows the cluster from S to S+1 shards while reads continue:
// train-centroids reshard moves whole cells, vecshard split --from writes
// the rows that move and the ids to delete, COPY puts the moved rows on
// their new shards, the plugin's configuration switches, DELETE removes
// them from the old ones. Afterwards every row is on exactly one shard, the
// one the new configuration routes it to, and the ids and a checksum of
// every row match the reference server. It changes the cluster, so it runs
// last.
func TestReshard(t *testing.T) {
	lab := need(t)
	work := filepath.Dir(lab.Config)
	dir := t.TempDir()

	all := filepath.Join(dir, "all.txt")
	exportRows(t, lab.Shards, all)
	newCent := filepath.Join(work, "centroids-5.json")
	if out, err := runCmd("train-centroids", "reshard", "--centroids", lab.Centroids, "-s", strconv.Itoa(S+1),
		"-i", all, "--format", "tsv", "--column", "1", "-o", newCent, "-q"); err != nil {
		t.Fatalf("reshard: %v\n%s", err, out)
	}
	newConfig := filepath.Join(work, "vecshard-5.toml")
	if err := shardlab.WriteConfig(newConfig, S+1, filepath.Base(newCent), 1); err != nil {
		t.Fatal(err)
	}
	moves := filepath.Join(dir, "moves")
	if out, err := runCmd("vecshard", "split", "--config", newConfig, "--from", lab.Config, "--table", "items",
		"--columns", "id,embedding", "--input", all, "--out", moves, "--quiet"); err != nil {
		t.Fatalf("split --from: %v\n%s", err, out)
	}

	spare, err := pgxpool.New(bg, env.spare)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(spare.Close)
	if err := shardlab.Reset(bg, spare); err != nil {
		t.Fatal(err)
	}
	if _, err := spare.Exec(bg, shardlab.Index); err != nil {
		t.Fatal(err)
	}
	grown := append(slices.Clone(lab.Shards), spare)

	// The plugin watches the live configuration file.
	live := filepath.Join(work, "vecshard-live.toml")
	if err := shardlab.WriteConfig(live, S, filepath.Base(lab.Centroids), 1); err != nil {
		t.Fatal(err)
	}
	old, _ := cluster(t, live, "items", "users")
	next := &pgdogexec.Cluster{Shards: grown, Router: old.Router, Declared: old.Declared}
	var cur atomic.Pointer[pgdogexec.Cluster]
	cur.Store(old)
	var switching atomic.Bool
	stop := make(chan struct{})
	var reads, refused atomic.Int64
	readErrs := make(chan error, 100)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Go(func() {
			for i := w * 7919; ; i += 13 {
				select {
				case <-stop:
					return
				default:
				}
				row := i % lab.Train.Rows
				vec, f := vecParam(shardlab.Row(lab.Train, row), i%2 == 0)
				sw := switching.Load()
				res, err := cur.Load().Exec(bg, req("SELECT id FROM items WHERE embedding = $1", vec, f))
				reads.Add(1)
				switch {
				case res != nil && res.Decision.Kind == pgdogexec.Blocked && (sw || switching.Load()):
					refused.Add(1) // shard counts differ for a moment: refused, never misrouted
				case err != nil:
					readErrs <- fmt.Errorf("row %d: %v %v", row+1, res.Decision, err)
				case !slices.Contains(ids(t, res.Rows), int64(row+1)):
					readErrs <- fmt.Errorf("row %d not found on %v (got %v)", row+1, res.Decision, ids(t, res.Rows))
				}
			}
		})
	}

	// 1. Copy the moving rows to their new shards.
	for s := range grown {
		if _, err := shardlab.CopyFile(bg, grown[s], filepath.Join(moves, fmt.Sprintf("move-to-shard-%d.txt", s))); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	// 2. Switch the configuration and the cluster.
	switching.Store(true)
	next5, err := os.ReadFile(newConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live+".tmp", next5, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(live+".tmp", live); err != nil {
		t.Fatal(err)
	}
	cur.Store(next)
	probe, pf := vecParam(shardlab.Row(lab.Train, 0), false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := next.Exec(bg, req("SELECT id FROM items WHERE embedding = $1", probe, pf))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin did not take the new configuration: %v %v", res.Decision, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	switching.Store(false)
	// 3. Delete the moved rows from their old shards.
	for s := range lab.Shards {
		deleteMoved(t, lab.Shards[s], filepath.Join(moves, fmt.Sprintf("delete-from-shard-%d.txt", s)))
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(readErrs)
	for err := range readErrs {
		t.Error(err)
	}
	t.Logf("%d reads during the reshard, %d refused while the shard count switched", reads.Load(), refused.Load())

	// Every row on exactly one shard, the new configuration's.
	f, err := centroids.Load(newCent)
	if err != nil {
		t.Fatal(err)
	}
	set, err := centroids.New(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]string{}
	misplaced := 0
	for s, p := range grown {
		rows, err := p.Query(bg, "SELECT id, embedding::text, md5(embedding::text) FROM items")
		if err != nil {
			t.Fatal(err)
		}
		var v []float32
		for rows.Next() {
			var id int64
			var text, sum string
			if err := rows.Scan(&id, &text, &sum); err != nil {
				t.Fatal(err)
			}
			if _, dup := seen[id]; dup {
				t.Errorf("row %d is on two shards", id)
			}
			seen[id] = sum
			if v, err = vecio.ParseVector(v[:0], []byte(text)); err != nil {
				t.Fatal(err)
			}
			if _, want := set.Nearest(v); want != s {
				misplaced++
			}
		}
		rows.Close()
	}
	if misplaced > 0 {
		t.Errorf("%d rows are not on the shard the new configuration routes them to", misplaced)
	}
	ref := map[int64]string{}
	rows, err := lab.Ref.Query(bg, "SELECT id, md5(embedding::text) FROM items")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var sum string
		rows.Scan(&id, &sum)
		ref[id] = sum
	}
	rows.Close()
	if !maps.Equal(seen, ref) {
		t.Errorf("after the reshard the shards hold %d rows, the reference %d; they differ", len(seen), len(ref))
	}
}

// exportRows writes every shard's (id, embedding) rows to one COPY file.
func exportRows(t *testing.T, pools []*pgxpool.Pool, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range pools {
		c, err := p.Acquire(bg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Conn().PgConn().CopyTo(bg, f, "COPY items (id, embedding) TO STDOUT")
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// deleteMoved deletes the ids of a delete-from-shard file, as the split
// command's help says.
func deleteMoved(t *testing.T, p *pgxpool.Pool, file string) {
	t.Helper()
	in, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return
	} else if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	c, err := p.Acquire(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	pc := c.Conn().PgConn()
	if _, err := pc.Exec(bg, "CREATE TEMP TABLE gone (id bigint)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.CopyFrom(bg, in, "COPY gone FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Exec(bg, "DELETE FROM items USING gone WHERE items.id = gone.id; DROP TABLE gone").ReadAll(); err != nil {
		t.Fatal(err)
	}
}
