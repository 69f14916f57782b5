package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/vecshard/vecshard/cmd/vecshard/internal/copyfmt"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

const (
	dir    = "../../testdata/cli/"
	config = dir + "vecshard.toml"
)

func runCLI(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(args, &out, &errb)
	return status, out.String(), errb.String()
}

// Every command and subcommand answers --help on stdout with status 0; a
// bare vecshard prints its usage; --version names the module.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"check", "explain", "split"} {
		status, out, errOut := runCLI(t, cmd, "--help")
		if status != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "vecshard "+cmd+" --config") || !strings.Contains(out, "-c, --config FILE") || errOut != "" {
			t.Errorf("%s --help: status %d, stdout %q, stderr %q", cmd, status, out, errOut)
		}
	}
	for _, args := range [][]string{{}, {"--help"}, {"help"}, {"help", "split"}, {"completion", "--help"}} {
		if status, out, errOut := runCLI(t, args...); status != exitOK || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
	}
	if status, out, _ := runCLI(t, "--version"); status != exitOK || !strings.HasPrefix(out, "vecshard github.com/vecshard/vecshard ") {
		t.Errorf("--version: %d %q", status, out)
	}
	if status, out, _ := runCLI(t, "completion", "zsh"); status != exitOK || !strings.Contains(out, "vecshard") {
		t.Errorf("completion zsh: %d", status)
	}
}

// TestUsageMessages pins the messages of wrong command lines: one line on
// stderr, saying what to do, exit status 2.
func TestUsageMessages(t *testing.T) {
	noShards := filepath.Join(t.TempDir(), "noshards.toml")
	os.WriteFile(noShards, []byte("[[tables]]\nname = \"users\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"bigint\"\n"), 0o644)
	knn := "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for vecshard (commands: check, completion, explain, split; flags start with --; see vecshard --help)`},
		{[]string{"chek"}, `unknown command "chek" for vecshard: did you mean check? (commands: check, completion, explain, split; flags start with --; see vecshard --help)`},
		{[]string{"check"}, "--config is required (see vecshard check --help)"},
		{[]string{"check", "-c", config, "--shards", "0"}, "--shards 0: want at least 1"},
		{[]string{"check", "-c", config, "extra"}, `unexpected argument "extra": vecshard check takes only flags (see vecshard check --help)`},
		{[]string{"check", "--confg", config}, "unknown flag: --confg (see vecshard check --help)"},
		{[]string{"explain", "-c", noShards, "SELECT 1"}, "--shards is required: " + noShards + " sets no shards, so give the pooler's shard count"},
		{[]string{"explain", "-c", config}, "want exactly one SQL statement, got 0 arguments (quote the SQL; see vecshard explain --help)"},
		{[]string{"explain", "-c", config, "SELECT", "1"}, "want exactly one SQL statement, got 2 arguments (quote the SQL; see vecshard explain --help)"},
		{[]string{"explain", "-c", config, "--pooler", "pgbouncer", "SELECT 1"}, `--pooler "pgbouncer": want pgdog (PgDog v0.1.54, libvecshard.so) or c2025 (the January 2025 C ABI, libvecshard_c2025.so)`},
		{[]string{"explain", "-c", config, knn}, "the statement uses $1 but 0 --param given: give --param VALUE for each, in order (--param '' is NULL); the key is items.embedding from ORDER BY <=>"},
		{[]string{"explain", "-c", config, "SELECT * FROM users WHERE id = $2 AND x = $1", "--param", "5"}, "the statement uses $1..$2 but 1 --param given: give --param VALUE for each, in order (--param '' is NULL); the key is public.users.id from ="},
		{[]string{"split", "-c", config, "--table", "items", "-i", dir + "items.csv"}, "--out is required: the directory to write the shard files into (see vecshard split --help)"},
		{[]string{"split", "-c", config, "--table", "items", "-i", dir + "items.json", "-o", t.TempDir()}, "cannot tell the COPY format of " + dir + "items.json from its name: give --format text or --format csv"},
		{[]string{"split", "-c", config, "--table", "items", "-i", dir + "items.csv", "--format", "binary", "-o", t.TempDir()}, `--format "binary": want text or csv (COPY's formats; binary is not supported)`},
		{[]string{"split", "-c", config, "--table", "items", "-i", dir + "items.csv", "--columns", "a,,b", "-o", t.TempDir()}, `--columns "a,,b": empty column name`},
	}
	for _, tt := range tests {
		status, out, errOut := runCLI(t, tt.args...)
		if want := "vecshard: " + tt.want + "\n"; status != exitUsage || errOut != want || out != "" {
			t.Errorf("%q:\n status %d, stdout %q, stderr %q\nwant %q", tt.args, status, out, errOut, want)
		}
	}
	// --shards defaults to the configuration's.
	if status, out, errOut := runCLI(t, "explain", "-c", config, "SELECT * FROM users WHERE id = $1", "-p", "42"); status != exitOK || !strings.Contains(out, "decision: SHARD 0, READ") {
		t.Errorf("explain without --shards: %d\n%s%s", status, out, errOut)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		args   []string
		status int
		want   []string
	}{
		{[]string{"--config", config}, exitOK, []string{
			"shards: 4",
			"table items: key vector, column embedding (vector), metric cosine, probes 1",
			"k = 8, dim = 4, shards = 4",
			"centroids per shard: 0: 2, 1: 2, 2: 2, 3: 2",
			"training: 1000 points, 20 iterations, seed 1, objective 812.5",
			"[130 120 125 125 118 132 125 125]",
			"  training points per shard: 0: 248 (24.8%), 1: 252 (25.2%), 2: 250 (25.0%), 3: 250 (25.0%); imbalance 1.01 (max/mean)\n",
			"  warning: table half_items has no id_column: lookups by id (WHERE id = ...) cannot be routed and go to ALL shards; set id_column if the table has an id\n",
			"table public.users: key id, column id (bigint)",
			"table sessions: key id, column sid (uuid)",
			"table half_items: key vector, column embedding (halfvec), metric cosine, probes 1",
			"table sparse_items: key vector, column embedding (sparsevec), metric cosine, probes 2",
			"OK: the plugin would route with this configuration (on 4 shards)",
		}},
		{[]string{"--config", config, "--shards", "4"}, exitOK, []string{"OK: the plugin would route with this configuration on 4 shards"}},
		{[]string{"--config", config, "--shards", "8"}, exitProblem, []string{"\nproblem: " + config + " configures shards = 4 but the pooler has 8 shards"}},
		{[]string{"--config", dir + "bad-dims.toml"}, exitProblem, []string{"cannot be loaded", "bad-dims.json", "has 3 numbers, want 4"}},
		{[]string{"--config", dir + "unknown-key.toml"}, exitProblem, []string{"problem: ", "shard_count"}},
		{[]string{"--config", dir + "missing.toml"}, exitProblem, []string{"missing.toml"}},
		// A bare array maps centroid i to shard i % (the pooler's count).
		{[]string{"--config", dir + "bare.toml", "--shards", "4"}, exitOK, []string{
			"bare array: centroid i is shard i % 4",
			"centroids per shard: 0: 2, 1: 2, 2: 2, 3: 2",
			"OK: the plugin would route with this configuration on 4 shards",
		}},
		{[]string{"--config", dir + "bare.toml", "--shards", "3"}, exitOK, []string{"centroids per shard: 0: 3, 1: 3, 2: 2"}},
		{[]string{"--config", dir + "bare.toml", "--shards", "16"}, exitProblem, []string{
			"8: 0, 9: 0",
			"problem: table items: the bare centroid file", "has 8 centroids for 16 shards: shards 8..15 would never receive a row",
		}},
		{[]string{"--config", dir + "bare.toml"}, exitOK, []string{"warning: without shards in the configuration", "centroid i is shard i % shards; --shards is needed to check it", "(on any number of shards); give --shards to check that every shard owns a centroid"}},
	}
	for _, tt := range tests {
		status, out, _ := runCLI(t, append([]string{"check"}, tt.args...)...)
		if status != tt.status {
			t.Errorf("check %v: status %d, want %d\n%s", tt.args, status, tt.status, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("check %v: output lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
}

// TestCheckWarnings: settings that load but defeat routing are warned
// about with the fix; check still exits 0 (the plugin does route).
func TestCheckWarnings(t *testing.T) {
	d := t.TempDir()
	// 8 centroids, 2 per shard on 4 shards, with training sizes.
	cents := `{"format":"vecshard-centroids/1","metric":"cosine","dim":2,"shards":4,"centroids":[[1,0],[0,1],[-1,0],[0,-1],[1,1],[-1,1],[-1,-1],[1,-1]],"shard_of":[0,1,2,3,0,1,2,3],"training":{"points":1000,"iterations":3,"seed":1,"objective":12.3456789,"sizes":[100,100,100,100,150,150,150,150]}}`
	os.WriteFile(filepath.Join(d, "c.json"), []byte(cents), 0o644)
	cfg := func(probes int, idColumn string) string {
		p := filepath.Join(d, fmt.Sprintf("p%d%s.toml", probes, idColumn))
		s := fmt.Sprintf("shards = 4\n[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"c.json\"\nprobes = %d\n", probes)
		if idColumn != "" {
			s += "id_column = \"" + idColumn + "\"\n"
		}
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	probesWarn := "  warning: table items has probes = 4, at least the 4 shards: a search routes to one shard only when its top 4 centroids are all on it, so most go to ALL; set probes below the shard count (1 sends every search to one shard)\n"
	idWarn := "  warning: table items has no id_column: lookups by id (WHERE id = ...) cannot be routed and go to ALL shards; set id_column if the table has an id\n"
	tests := []struct {
		path      string
		want, not []string
	}{
		{cfg(1, "id"), []string{
			"  training: 1000 points, 3 iterations, seed 1, objective 12.3457\n",
			"  training points per shard: 0: 250 (25.0%), 1: 250 (25.0%), 2: 250 (25.0%), 3: 250 (25.0%); imbalance 1.00 (max/mean)\n",
		}, []string{"warning"}},
		{cfg(1, ""), []string{idWarn}, []string{probesWarn}},
		{cfg(4, "id"), []string{probesWarn}, []string{idWarn}},
	}
	for _, tt := range tests {
		status, out, errOut := runCLI(t, "check", "-c", tt.path)
		if status != exitOK {
			t.Errorf("%s: status %d\n%s%s", tt.path, status, out, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.path, w, out)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tt.path, w, out)
			}
		}
	}
}

// TestCheckProbesWarning: probes >= 2 with one centroid per shard (PgDog's
// bare array of one centroid per shard) sends every search to ALL: check
// says so, with the fix, and still exits 0 (the plugin does route).
func TestCheckProbesWarning(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.json"), []byte("[[1,0,0],[0,1,0],[0,0,1],[-1,0,0]]"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		probes int
		warn   bool
	}{{1, false}, {2, true}, {4, true}} {
		cfg := fmt.Sprintf("[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"c.json\"\nprobes = %d\n", c.probes)
		path := filepath.Join(dir, fmt.Sprintf("p%d.toml", c.probes))
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		status, out, _ := runCLI(t, "check", "--config", path, "--shards", "4")
		if status != exitOK {
			t.Errorf("probes %d: status %d\n%s", c.probes, status, out)
		}
		got := strings.Contains(out, "warning: table items has probes = ") &&
			strings.Contains(out, "every similarity search (ORDER BY distance ... LIMIT) needs several shards (ALL; through libvecshard.so, the nearest centroid's shard when PgDog cannot merge its ORDER BY); set probes = 1 for items")
		if got != c.warn {
			t.Errorf("probes %d: warning %v, want %v\n%s", c.probes, got, c.warn, out)
		}
	}
}

func TestExplain(t *testing.T) {
	knn := "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5"
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{knn, "--param", "[0,0,0,-1]"}, []string{
			"param $1: text", "key from ORDER BY <=>", "vector of 4 dimensions", "#7 (cosine similarity 1) on shard 3", "decision: SHARD 3, READ"}},
		{[]string{knn, "--param", "[0,0,0,-1]", "--binary"}, []string{
			"param $1: binary vector, 20 bytes", "value $1 (binary)", "decision: SHARD 3, READ"}},
		{[]string{"--binary", "--param", "[0,0,0,-1]", knn}, []string{"binary vector", "decision: SHARD 3, READ"}},
		{[]string{knn, "--param", "[0,0,1]"}, []string{"decision: ERROR 22000, READ: expected 4 dimensions, not 3"}},
		{[]string{knn, "--param", "[0,0,1]", "--binary"}, []string{"binary vector, 16 bytes", "expected 4 dimensions, not 3"}},
		// FORMATS.md golden keys: bigint 42 and 1, uuid 550e8400-..., on 4 shards.
		{[]string{"SELECT * FROM users WHERE id = $1", "--param", "42"}, []string{
			"jump-hash key 0x810879608e4259cc -> shard 0", "decision: SHARD 0, READ"}},
		{[]string{"SELECT * FROM users WHERE id = $1", "--param", "42", "--binary"}, []string{
			"binary bigint, 8 bytes", "jump-hash key 0x810879608e4259cc", "decision: SHARD 0, READ"}},
		{[]string{"SELECT * FROM users WHERE id = $1::int4", "--param", "1", "--binary"}, []string{
			"binary bigint, 4 bytes", "jump-hash key 0xb456bcfc34c2cb2c", "decision: SHARD 3, READ"}},
		{[]string{"DELETE FROM sessions WHERE sid = $1", "--param", "{550E8400E29B41D4A716446655440000}", "--binary"}, []string{
			"binary uuid, 16 bytes", "jump-hash key 0x9c00a35619d3aa77", "decision: SHARD 0, WRITE"}},
		{[]string{"SELECT * FROM users WHERE id = $1", "--param", ""}, []string{"(NULL)", "\n  value $1: NULL (--param ''): a NULL key gives no shard\n", "decision: ALL, READ"}},
		{[]string{"SELECT * FROM users WHERE id = NULL"}, []string{"\n  value NULL: a NULL key gives no shard\n", "decision: ALL, READ"}},
		{[]string{"INSERT INTO items (id, embedding) VALUES (1, NULL)"}, []string{"decision: ERROR 23502, WRITE: INSERT into items has a NULL sharding key embedding in row 1, so the row cannot be placed on a shard; give every row a value for embedding\n"}},
		{[]string{"INSERT INTO users (id) VALUES (1), (42)"}, []string{"shard 3 (row 1) and shard 0 (row 2)", "decision: ERROR 0A000, WRITE"}},
		{[]string{"SELECT * FROM items"}, []string{"no usable key", "decision: ALL, READ"}},
		{[]string{"SHOW search_path"}, []string{"decision: NO_DECISION"}},
		{[]string{"/* pgdog_sharding_key: 42 */ UPDATE users SET name = 'x'"}, []string{
			"hint: /* pgdog_sharding_key: 42 */ decides", "jump-hash key 0x810879608e4259cc -> shard 0", "decision: SHARD 0, WRITE"}},
		{[]string{"/* pgdog_shard: 9 */ SELECT * FROM items"}, []string{"decision: ERROR 22023, READ: pgdog_shard: 9 is out of range: the pooler has 4 shards (0..3); fix the hint\n"}},
		// probes = 2: the two best centroids are on shards 3 and 0, with
		// cosine similarities 1/|q| and 0.9/|q| for q = (0.9, 0, 0, -1).
		// Under PgDog's merge rules (--pooler pgdog, the default) the
		// ranking goes to the nearest centroid's shard, with the warning
		// the plugin logs; the January 2025 library sends it to ALL.
		{[]string{"SELECT * FROM sparse_items ORDER BY embedding <-> $1 LIMIT 5", "--param", "{1:0.9,4:-1}/4", "--binary"}, []string{
			"param $1: binary sparsevec, 28 bytes", "sparsevec of 4 dimensions",
			"#7 (cosine similarity 0.743294) on shard 3, #0 (cosine similarity 0.668965) on shard 0 -> ALL",
			"key from ORDER BY <-> -> shard 3\n",
			"why: the query vector's nearest centroids are on several shards, and the pooler cannot merge this ORDER BY across shards",
			"warning: probes = 2: the query vector's nearest centroids of sparse_items are on several shards, but PgDog v0.1.54 cannot merge ORDER BY embedding <-> $1 across shards",
			"SELECT ..., embedding <-> $1 AS distance FROM sparse_items ... ORDER BY distance LIMIT 5\n",
			"decision: SHARD 3, READ"}},
		{[]string{"SELECT * FROM sparse_items ORDER BY embedding <-> $1 LIMIT 5", "--param", "{1:0.9,4:-1}/4", "--binary", "--pooler", "c2025"}, []string{
			"on shard 0 -> ALL", "decision: ALL, READ"}},
		{[]string{"SELECT *, embedding <-> $1 AS d FROM sparse_items ORDER BY d LIMIT 5", "--param", "{1:0.9,4:-1}/4"}, []string{
			"decision: ALL, READ"}},
		{[]string{"SELECT * FROM sparse_items ORDER BY embedding <-> $1 LIMIT 5", "--param", "{2:-3}/4"}, []string{
			"#5 (cosine similarity 1) on shard 1, #0 (cosine similarity 0) on shard 0 -> ALL", "decision: SHARD 1, READ"}},
		{[]string{"SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5", "--param", "[0,0,0,-1]"}, []string{
			"why: the ranking puts the farthest rows first",
			"and the pooler cannot merge this ORDER BY across shards (it sorts only by returned columns and output positions, not by an expression): refused",
			"decision: ERROR 0A000, READ: the ranking puts the farthest rows first",
			"SELECT ..., embedding <=> $1 AS distance FROM items ... ORDER BY distance DESC LIMIT 5"}},
		{[]string{"SELECT id FROM items ORDER BY embedding <=> $1 DESC LIMIT 5", "--param", "[0,0,0,-1]", "--pooler", "c2025"}, []string{
			"decision: ALL, READ"}},
		{[]string{"SELECT * FROM items WHERE embedding = $1", "--param", "[3,0,4,0]"}, []string{
			"#2 (cosine similarity 0.8) on shard 2", "decision: SHARD 2, READ"}},
		{[]string{"SELECT * FROM half_items WHERE embedding = $1", "--param", "[0,1,0,0]", "--binary"}, []string{
			"param $1: binary halfvec, 12 bytes", "value $1 (binary): halfvec of 4 dimensions", "decision: SHARD 1, READ"}},
		{[]string{"SELECT * FROM items WHERE embedding = $1::vector", "--param", "[0,0,0,-1]", "--binary"}, []string{
			"binary vector, 20 bytes", "decision: SHARD 3, READ"}},
		{[]string{"SELECT * FROM users WHERE id = $1 AND name = $2", "--param", "7", "--param", "eve", "--binary"}, []string{
			"param $1: binary bigint", "param $2: text (type unknown", "decision: SHARD"}},
	}
	for _, tt := range tests {
		args := append([]string{"explain", "--config", config, "--shards", "4"}, tt.args...)
		status, out, errOut := runCLI(t, args...)
		if status != exitOK {
			t.Errorf("explain %q: status %d\n%s%s", tt.args, status, out, errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("explain %q: output lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
	status, out, _ := runCLI(t, "explain", "--config", dir+"bad-dims.toml", "--shards", "4", "SELECT 1")
	if status != exitProblem || !strings.Contains(out, "NO_DECISION") {
		t.Errorf("explain with a bad config: status %d\n%s", status, out)
	}
}

// Flags may come after the SQL, and a --param value may start with '-'.
func TestExplainFlagOrder(t *testing.T) {
	status, out, errOut := runCLI(t, "explain", "SELECT * FROM users WHERE id = $1", "--param", "-1", "-c", config, "--binary")
	if status != exitOK || !strings.Contains(out, "param $1: binary bigint, 8 bytes") {
		t.Errorf("status %d\n%s%s", status, out, errOut)
	}
	status, out, errOut = runCLI(t, "explain", "-c", config, "--", "SELECT 1")
	if status != exitOK || !strings.Contains(out, "decision:") {
		t.Errorf("after --: status %d\n%s%s", status, out, errOut)
	}
}

func TestParseColumns(t *testing.T) {
	got, err := parseColumns(`id, Embedding ,"Title ""x""",b`)
	if want := []string{"id", "embedding", `Title "x"`, "b"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseColumns = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"a,,b", "a,", `"a`, `"a"b`} {
		if _, err := parseColumns(bad); err == nil {
			t.Errorf("parseColumns(%q) accepted", bad)
		}
	}
}

// splitCase is one input file to split, with the shard each data row must
// land on (from the design docs' golden values or the centroid geometry).
type splitCase struct {
	name   string
	input  string
	table  string
	flags  []string
	opt    copyfmt.Options
	shards []int
}

var splitCases = []splitCase{
	{
		// Centroid i is the i-th axis (i < 4) or its negative (i - 4), and
		// centroid i is on shard i % 4: each row goes to its vector's
		// dominant axis.
		name: "csv with header", input: "items.csv", table: "items",
		flags:  []string{"--format", "csv", "--header"},
		opt:    copyfmt.Options{Format: copyfmt.CSV, Header: true},
		shards: []int{0, 1, 2, 3, 0, 1, 2, 3},
	},
	{
		name: "text with header", input: "items.txt", table: "items",
		flags:  []string{"--header"},
		opt:    copyfmt.Options{Header: true},
		shards: []int{0, 1, 2, 3, 0, 1, 2, 3},
	},
	{
		// FORMATS.md: bigint 1 -> 3, 42 -> 0, -1 -> 2, max -> 3 on 4 shards.
		name: "text with --columns", input: "users.txt", table: "public.users",
		flags:  []string{"--columns", "id,name"},
		shards: []int{3, 0, 2, 3, -1, -1, -1},
	},
	{
		// FORMATS.md: uuid 550e8400-... -> 0 on 4 shards, in any spelling.
		name: "csv CRLF uuid", input: "sessions.csv", table: "sessions",
		flags:  []string{"--format", "csv", "--header"},
		opt:    copyfmt.Options{Format: copyfmt.CSV, Header: true},
		shards: []int{0, 0, -1, -1},
	},
}

// checkSplit verifies a split: the outputs hold every input row exactly
// once, byte for byte and in input order, each on the shard the router
// decides for an INSERT of its key (and on the expected shard where one is
// known); every output starts with the input's header.
func checkSplit(t *testing.T, input, outDir, table string, opt copyfmt.Options, ext string, shards int, want []int) {
	t.Helper()
	snap, err := router.Load(config, router.WithText(sqltext.Parser{}))
	if err != nil {
		t.Fatal(err)
	}
	r := router.New(snap)
	tb := findTable(snap, table)
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES ($1)", qualifiedName(tb), quoteIdent(tb.KeyColumn()))

	inHeader, inRows := readFile(t, input, opt, tb.KeyColumn())
	outs := make([][]fileRow, shards)
	var total int64
	for s := 0; s < shards; s++ {
		path := filepath.Join(outDir, fmt.Sprintf("shard-%d.%s", s, ext))
		h, rows := readFile(t, path, opt, tb.KeyColumn())
		if h != inHeader {
			t.Errorf("%s: header %q, want %q", path, h, inHeader)
		}
		outs[s] = rows
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size() - int64(len(h))
	}
	st, err := os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	if want := st.Size() - int64(len(inHeader)); total != want {
		t.Errorf("outputs hold %d data bytes, the input %d", total, want)
	}
	for i, row := range inRows {
		d := r.Route(query, []router.Param{{Data: []byte(row.key)}}, shards)
		if d.Kind != router.Shard {
			t.Fatalf("row %d: router decision %+v", i+1, d)
		}
		if i < len(want) && want[i] >= 0 && d.Shard != want[i] {
			t.Errorf("row %d (%q): router says shard %d, the golden value is %d", i+1, row.key, d.Shard, want[i])
		}
		s := d.Shard
		if len(outs[s]) == 0 {
			t.Fatalf("row %d (%q) is missing from shard %d", i+1, row.raw, s)
		}
		if outs[s][0].raw != row.raw {
			t.Fatalf("row %d: shard %d has %q next, want %q", i+1, s, outs[s][0].raw, row.raw)
		}
		outs[s] = outs[s][1:]
	}
	for s, rest := range outs {
		if len(rest) > 0 {
			t.Errorf("shard %d has %d rows that are not in the input, first %q", s, len(rest), rest[0].raw)
		}
	}
	if len(want) > 0 && len(inRows) != len(want) {
		t.Errorf("input has %d rows, the test expects %d", len(inRows), len(want))
	}
}

type fileRow struct{ raw, key string }

// readFile reads a COPY file with the test's own reader, keeping each row's
// raw bytes and its key field (found by name in the header, else first).
func readFile(t *testing.T, path string, opt copyfmt.Options, keyCol string) (header string, rows []fileRow) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := copyfmt.NewReader(f, opt)
	if err != nil {
		t.Fatal(err)
	}
	key := 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			return header, rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if row.N == 0 {
			header = string(row.Raw)
			names, _ := row.Fields()
			key = indexOf(names, keyCol)
			if key < 0 {
				t.Fatalf("%s: no %s in header %q", path, keyCol, names)
			}
			continue
		}
		v, _ := row.Field(key)
		rows = append(rows, fileRow{string(row.Raw), string(v)})
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"split", "--config", config, "--shards", "4", "--table", tc.table,
				"--input", dir + tc.input, "--out-dir", out}, tc.flags...)
			status, stdout, stderr := runCLI(t, args...)
			if status != exitOK {
				t.Fatalf("status %d\n%s%s", status, stdout, stderr)
			}
			if !strings.Contains(stdout, fmt.Sprintf("%d rows", len(tc.shards))) {
				t.Errorf("summary lacks the row count %d:\n%s", len(tc.shards), stdout)
			}
			ext := "txt"
			if tc.opt.Format == copyfmt.CSV {
				ext = "csv"
			}
			checkSplit(t, dir+tc.input, out, tc.table, tc.opt, ext, 4, tc.shards)
			entries, _ := os.ReadDir(out)
			if len(entries) != 4 {
				t.Errorf("out-dir holds %d entries, want the 4 shard files", len(entries))
			}
		})
	}
}

// TestSplitLarge splits a generated file much larger than the read buffer,
// with long rows, and checks it row for row.
func TestSplitLarge(t *testing.T) {
	tmp := t.TempDir()
	input := filepath.Join(tmp, "big.csv")
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("title,embedding,id\n")
	for i := 0; i < 3000; i++ {
		v := make([]string, 4)
		for j := range v {
			v[j] = fmt.Sprint(rng.Float32()*2 - 1)
		}
		title := strings.Repeat("x", rng.IntN(300))
		if i%7 == 0 {
			title = `"quoted, with ""quotes"" and` + "\n" + `a newline"`
		}
		fmt.Fprintf(&b, "%s,\"[%s]\",%d\n", title, strings.Join(v, ","), i)
	}
	if err := os.WriteFile(input, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	status, stdout, stderr := runCLI(t, "split", "--config", config, "--shards", "4", "--table", "items",
		"--input", input, "--format", "csv", "--header", "--out-dir", out)
	if status != exitOK {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	checkSplit(t, input, out, "items", copyfmt.Options{Format: copyfmt.CSV, Header: true}, "csv", 4, nil)
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		input string // written to a file when set
		want  string
	}{
		{"bad vector", []string{"--table", "items", "--input", dir + "items-bad.csv", "--format", "csv", "--header"}, "",
			"items-bad.csv: line 3 (row 2): embedding = \"[0,1,0]\": expected 4 dimensions, not 3"},
		{"bad bigint", []string{"--table", "users", "--columns", "id,name"}, "1\ta\n2\tb\n12x\tc\n",
			`line 3 (row 3): id = "12x": invalid input syntax for type bigint: "12x"`},
		{"NULL key", []string{"--table", "users", "--columns", "id,name"}, "1\ta\n\\N\tb\n",
			`line 2 (row 2): id = NULL`},
		{"field count", []string{"--table", "users", "--columns", "id,name"}, "1\ta\n2\tb\tc\n",
			`line 2 (row 2): 3 fields, want 2`},
		{"no key column", []string{"--table", "users", "--columns", "name,age"}, "1\ta\n",
			`does not include public.users's key column id`},
		{"no column names", []string{"--table", "users"}, "1\ta\n",
			`give --columns`},
		{"header without key", []string{"--table", "users", "--header"}, "name\tage\n1\ta\n",
			`line 1 (header): no column id`},
		{"unterminated quote", []string{"--table", "users", "--format", "csv", "--header"}, "id,name\n1,\"a\n",
			`line 2 (row 1): unterminated CSV quoted field`},
		{"end marker", []string{"--table", "users", "--columns", "id,name"}, "1\ta\n\\.\n",
			`end-of-data marker`},
		{"unknown table", []string{"--table", "nope", "--columns", "id"}, "1\n", `table "nope" is not in`},
		{"wrong shard count", []string{"--table", "users", "--columns", "id,name", "--shards", "3"}, "1\ta\n",
			`configures shards = 4 but the pooler has 3 shards`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			args := append([]string{"split", "--config", config, "--shards", "4", "--out-dir", out}, tt.args...)
			if tt.input != "" {
				path := filepath.Join(tmp, "in.txt")
				if err := os.WriteFile(path, []byte(tt.input), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--input", path)
			}
			status, stdout, stderr := runCLI(t, args...)
			if status != exitProblem || !strings.Contains(stderr, tt.want) {
				t.Errorf("status %d, stderr %q; want 1 and %q\n%s", status, stderr, tt.want, stdout)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 0 {
				t.Errorf("a failed split left %d files in the out-dir", len(entries))
			}
		})
	}
}

func TestSplitStdin(t *testing.T) {
	f, err := os.Open(dir + "users.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()
	out := t.TempDir()
	status, stdout, stderr := runCLI(t, "split", "--config", config, "--shards", "4", "--table", "users",
		"--columns", "id,name", "--input", "-", "--out-dir", out)
	if status != exitOK || !strings.Contains(stdout, "standard input: 7 rows") {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	checkSplit(t, dir+"users.txt", out, "users", copyfmt.Options{}, "txt", 4, splitCases[2].shards)
}

// split writes its files with the user's umask (it used os.CreateTemp's
// 0600), and a CSV file read as text is named as such.
func TestSplitModeAndFormatHint(t *testing.T) {
	out := t.TempDir()
	old := syscall.Umask(0o002)
	status, stdout, stderr := runCLI(t, "split", "-c", config, "-t", "items", "-i", dir+"items.csv", "--header", "-o", out, "-q")
	syscall.Umask(old)
	if status != exitOK {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	for n := 0; n < 4; n++ {
		st, err := os.Stat(filepath.Join(out, fmt.Sprintf("shard-%d.csv", n)))
		if err != nil || st.Mode().Perm() != 0o664 {
			t.Errorf("shard-%d.csv: %v, mode %v, want -rw-rw-r--", n, err, st.Mode())
		}
	}
	in := filepath.Join(t.TempDir(), "accounts.txt")
	os.WriteFile(in, []byte("id,email\n1,a@b\n"), 0o644)
	status, _, stderr = runCLI(t, "split", "-c", config, "-t", "users", "-i", in, "--header", "-o", t.TempDir())
	want := "vecshard: " + in + `: line 1 (header): no column id (public.users's key column) among "id,email": the header is one tab-separated field with commas in it; is this a CSV file? give --format csv` + "\n"
	if status != exitProblem || stderr != want {
		t.Errorf("status %d, stderr %q\nwant %q", status, stderr, want)
	}
}
