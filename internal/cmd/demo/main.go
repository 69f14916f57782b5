// Command demo routes testdata/demo/statements.tsv through the vtable
// plugin in a PgDog-like host and checks every decision against one it
// computes itself: the nearest centroid in float64 straight from the
// centroid file (not through the router or its kernels), jump hashes of the
// ids. It prints each statement with the decision and, for vectors, the two
// most similar centroids. make demo runs it (scripts/demo.sh).
//
//	demo -host build/pgdog-host -lib-dir build -config vecshard.toml \
//	     -centroids centroids.json -sample testdata/demo/sample.txt \
//	     -statements testdata/demo/statements.tsv -shards 4
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
)

type stmt struct {
	line   int
	expect string
	sql    string
	params []param
	vec    []float32 // the vector a "nearest" expectation is about
	id     int64     // the id an "id" expectation is about
}

type param struct {
	data   []byte
	binary bool
}

func main() {
	host := flag.String("host", "build/pgdog-host", "the PgDog-like host")
	libDir := flag.String("lib-dir", "build", "where libvecshard.so is (the library path)")
	config := flag.String("config", "", "the plugin config")
	cents := flag.String("centroids", "", "the centroid file the config names")
	sample := flag.String("sample", "testdata/demo/sample.txt", "vectors, one per line")
	stmts := flag.String("statements", "testdata/demo/statements.tsv", "the statements")
	shards := flag.Int("shards", 4, "the host's shard count")
	flag.Parse()
	if err := run(*host, *libDir, *config, *cents, *sample, *stmts, *shards); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(host, libDir, config, centPath, samplePath, stmtPath string, shards int) error {
	cf, err := centroids.Load(centPath)
	if err != nil {
		return err
	}
	vectors, err := readLines(samplePath)
	if err != nil {
		return err
	}
	sts, err := readStatements(stmtPath, vectors)
	if err != nil {
		return err
	}
	out, err := route(host, libDir, config, caseFile(sts, shards))
	if err != nil {
		return err
	}
	got, nocall, err := readAnswers(out)
	if err != nil {
		return err
	}
	return check(sts, got, nocall, cf, stmtPath, shards)
}

// caseFile is the host's case file: one line per statement, as PgDog
// sends it: a Bind when there are parameters, else a simple Query, on a
// cluster with a primary and replicas (P R).
func caseFile(sts []stmt, shards int) []byte {
	var cases bytes.Buffer
	for i, s := range sts {
		codes := make([]string, len(s.params))
		hexes := make([]string, len(s.params))
		for j, p := range s.params {
			codes[j] = map[bool]string{false: "0", true: "1"}[p.binary]
			hexes[j] = hex.EncodeToString(p.data)
		}
		c := "-"
		if len(codes) > 0 {
			c = strings.Join(codes, ",")
		}
		kind := "q"
		if len(s.params) > 0 {
			kind = "b"
		}
		fmt.Fprintf(&cases, "%d\t%d\t%sPR\t%s\t%s", i, shards, kind, hex.EncodeToString([]byte(s.sql)), c)
		for _, h := range hexes {
			cases.WriteString("\t" + h)
		}
		cases.WriteByte('\n')
	}
	return cases.Bytes()
}

// route runs the host on cases (through a temporary file, removed after)
// with the plugin from libDir and returns its answers.
func route(host, libDir, config string, cases []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "vecshard-demo-cases")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	casePath := filepath.Join(dir, "cases.tsv")
	if err := os.WriteFile(casePath, cases, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(host, "--plugin", "vecshard", "--config", config, "--log-level", "warn", "route", casePath)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libDir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", host, err)
	}
	return out, nil
}

// readAnswers reads the host's answer lines: the (shard, read/write) route
// of every case, and why PgDog would not call the plugin for the cases it
// would not (those also get a zero route).
func readAnswers(out []byte) (got map[int][2]int64, nocall map[int]string, err error) {
	got = map[int][2]int64{}
	nocall = map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 3 && f[1] == "NOCALL" {
			// PgDog would not call the plugin for this statement.
			i, _ := strconv.Atoi(f[0])
			nocall[i] = f[2]
			got[i] = [2]int64{}
			continue
		}
		if len(f) == 5 && f[1] == "-3" {
			f = f[:3] // the client's error and the SQL as its detail
		}
		if len(f) != 3 {
			return nil, nil, fmt.Errorf("host answered %q", sc.Text())
		}
		i, _ := strconv.Atoi(f[0])
		sh, err1 := strconv.ParseInt(f[1], 10, 64)
		rw, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("host answered %q", sc.Text())
		}
		got[i] = [2]int64{sh, rw}
	}
	return got, nocall, nil
}

// check prints every statement with the host's decision and the expected
// one, then the totals, and fails if any differ.
func check(sts []stmt, got map[int][2]int64, nocall map[int]string, cf *centroids.File, stmtPath string, shards int) error {
	fails, perShard := 0, make([]int, shards)
	for i, s := range sts {
		r, ok := got[i]
		if !ok {
			return fmt.Errorf("no answer for %s line %d", stmtPath, s.line)
		}
		want, why := expected(s, cf, shards)
		dec := decision(r)
		if reason, ok := nocall[i]; ok {
			dec, why = "not called", "not called ("+reason+")"
		}
		status := "ok  "
		if dec != want {
			status = "FAIL"
			fails++
		}
		if _, ok := nocall[i]; !ok && r[0] >= 0 && int(r[0]) < shards {
			perShard[r[0]]++
		}
		printCheck(status, stmtPath, s, dec, why, want)
	}
	fmt.Printf("statements: %d  per shard: %v  failures: %d\n", len(sts), perShard, fails)
	if fails > 0 {
		fmt.Println("result: FAIL")
		return fmt.Errorf("%d decisions differ from the expected ones", fails)
	}
	fmt.Println("result: PASS")
	return nil
}

// printCheck prints one statement (its SQL cut to 72 bytes), the decision,
// why it is expected and, on a failure, what was expected.
func printCheck(status, stmtPath string, s stmt, dec, why, want string) {
	sql := s.sql
	if len(sql) > 72 {
		sql = sql[:69] + "..."
	}
	fmt.Printf("%s %s:%-3d %-15s <- %s\n", status, filepath.Base(stmtPath), s.line, dec, sql)
	if why != "" {
		fmt.Printf("     %s\n", why)
	}
	if status == "FAIL" {
		fmt.Printf("     expected %s\n", want)
	}
}

// decision renders a Route as the statements file spells expectations.
func decision(r [2]int64) string {
	rw := map[int64]string{0: "write", 1: "read", 2: "?"}[r[1]]
	switch r[0] {
	case -1:
		return "all " + rw
	case -2:
		return "unknown"
	case -3:
		return "blocked"
	}
	return fmt.Sprintf("shard=%d %s", r[0], rw)
}

// expected computes the decision without the router, and a line saying why.
func expected(s stmt, f *centroids.File, shards int) (string, string) {
	kind, rw, _ := strings.Cut(s.expect, " ")
	switch kind {
	case "nearest":
		type scored struct {
			c   int
			sim float64
		}
		var all []scored
		for c, cv := range f.Centroids {
			all = append(all, scored{c, cosine(s.vec, cv)})
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].sim > all[j].sim })
		sh := all[0].c % shards
		if f.ShardOf != nil {
			sh = f.ShardOf[all[0].c]
		} else if f.Shards > 0 {
			sh = all[0].c % f.Shards
		}
		return fmt.Sprintf("shard=%d %s", sh, rw),
			fmt.Sprintf("nearest centroids: c%d %.4f (shard %d), c%d %.4f", all[0].c, all[0].sim, sh, all[1].c, all[1].sim)
	case "id":
		sh := idkey.Shard(idkey.BigintKey(s.id), shards)
		return fmt.Sprintf("shard=%d %s", sh, rw), fmt.Sprintf("jump(hash(%d), %d) = %d", s.id, shards, sh)
	}
	return s.expect, ""
}

// cosine is the cosine similarity in float64 (0 for a zero vector).
func cosine(q, c []float32) float64 {
	var dot, qq, cc float64
	for i := range q {
		dot += float64(q[i]) * float64(c[i])
		qq += float64(q[i]) * float64(q[i])
		cc += float64(c[i]) * float64(c[i])
	}
	if qq == 0 || cc == 0 {
		return 0
	}
	return dot / math.Sqrt(qq*cc)
}

func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n"), nil
}

func readStatements(path string, vectors []string) ([]stmt, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	r := statementReader{path: path, vectors: vectors}
	var out []stmt
	for i, l := range lines {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		s, err := r.statement(i+1, l)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// statementReader reads the lines of the statements file at path, whose
// {v:N} and v:N/b:N refer to the lines of the sample, vectors.
type statementReader struct {
	path    string
	vectors []string
}

// statement reads line number line, l: expect<TAB>sql[<TAB>params].
func (r statementReader) statement(line int, l string) (stmt, error) {
	f := strings.Split(l, "\t")
	if len(f) < 2 {
		return stmt{}, fmt.Errorf("%s:%d: want expect<TAB>sql[<TAB>params]", r.path, line)
	}
	s := stmt{line: line, expect: f[0], sql: f[1]}
	if !knownExpect[s.expect] {
		// Every expectation must be able to fail: only the forms
		// the demo knows how to check, never a catch-all.
		return stmt{}, fmt.Errorf("%s:%d: expectation %q is not one of nearest|id|all read|write, unknown, blocked, not called", r.path, line, s.expect)
	}
	if err := r.inlineVectors(&s); err != nil {
		return stmt{}, err
	}
	if len(f) > 2 && f[2] != "" {
		for _, p := range strings.Split(f[2], "|") {
			if err := r.param(&s, p); err != nil {
				return stmt{}, err
			}
		}
	}
	return s, nil
}

// inlineVectors replaces every {v:N} in s's SQL by sample line N, which
// becomes s's vector.
func (r statementReader) inlineVectors(s *stmt) error {
	for strings.Contains(s.sql, "{v:") {
		a := strings.Index(s.sql, "{v:")
		b := strings.Index(s.sql[a:], "}")
		if b < 0 {
			return fmt.Errorf("%s:%d: unclosed {v:", r.path, s.line)
		}
		text, v, err := r.vecAt(s.sql[a+3:a+b], s.line)
		if err != nil {
			return err
		}
		s.sql = s.sql[:a] + text + s.sql[a+b+1:]
		s.vec = v
	}
	return nil
}

// param adds the parameter p to s: t:TEXT (text; an integer is also s's
// id), i8:N (binary bigint, s's id), v:N or b:N (sample line N as text or
// binary vector, s's vector).
func (r statementReader) param(s *stmt, p string) error {
	k, v, _ := strings.Cut(p, ":")
	switch k {
	case "t":
		s.params = append(s.params, param{data: []byte(v)})
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			s.id = n
		}
	case "i8":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", r.path, s.line, err)
		}
		s.id = n
		s.params = append(s.params, param{data: binary.BigEndian.AppendUint64(nil, uint64(n)), binary: true})
	case "v", "b":
		text, vec, err := r.vecAt(v, s.line)
		if err != nil {
			return err
		}
		s.vec = vec
		if k == "v" {
			s.params = append(s.params, param{data: []byte(text)})
		} else {
			b, err := pgvector.NewVector(vec).EncodeBinary(nil)
			if err != nil {
				return err
			}
			s.params = append(s.params, param{data: b, binary: true})
		}
	default:
		return fmt.Errorf("%s:%d: unknown parameter %q", r.path, s.line, p)
	}
	return nil
}

// vecAt is sample line spec (1-based) as text and parsed.
func (r statementReader) vecAt(spec string, line int) (string, []float32, error) {
	n, err := strconv.Atoi(spec)
	if err != nil || n < 1 || n > len(r.vectors) {
		return "", nil, fmt.Errorf("%s:%d: no sample line %q", r.path, line, spec)
	}
	v, err := parseVector(r.vectors[n-1])
	return r.vectors[n-1], v, err
}

// knownExpect are the expectation forms of statements.tsv.
var knownExpect = map[string]bool{
	"nearest read": true, "nearest write": true, "id read": true, "id write": true,
	"all read": true, "all write": true, "unknown": true, "blocked": true,
	"not called": true,
}

func parseVector(s string) ([]float32, error) {
	var v pgvector.Vector
	if err := v.Parse(s); err != nil {
		return nil, err
	}
	return v.Slice(), nil
}
