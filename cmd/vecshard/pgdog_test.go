package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// demoPgDog is the demo's pgdog.toml, which the README shows.
const demoPgDog = "../../testdata/demo/pgdog.toml"

// withCentroids is the edit that gives items PgDog's own centroids, the
// form the README advises against (docs/PGDOG.md), which the centroid rules
// check.
var withCentroids = []string{
	"# No centroids_path: with it PgDog decodes every vector itself before it asks\n# the plugin, and a binary or wrong-dimension vector fails there (docs/PGDOG.md)\n",
	"centroids_path = \"pgdog-centroids.json\"\ncentroid_probes = 1\n",
}

func edits(e ...string) []string { return append(slices.Clone(withCentroids), e...) }

// pgdogFixture writes, into a new directory it makes the current one, the
// demo's vecshard configuration (from scripts/demo.sh, with 4 shards) on
// the CLI tests' 8 unit centroids, their PgDog copy, a copy of the
// configuration (other.toml) and pgdog.toml, which
// is the demo's with every edit applied (old, new pairs).
func pgdogFixture(t *testing.T, edits ...string) {
	t.Helper()
	d := t.TempDir()
	sh, err := os.ReadFile("../../scripts/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)cat > "\$WORK/vecshard.toml" <<EOF\n(.*?)\nEOF\n`).FindSubmatch(sh)
	if m == nil {
		t.Fatal("scripts/demo.sh: the vecshard.toml here-document not found")
	}
	cfg := strings.ReplaceAll(string(m[1]), "$SHARDS", "4")
	cents, err := os.ReadFile(dir + "centroids.json")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := os.ReadFile(demoPgDog)
	if err != nil {
		t.Fatal(err)
	}
	text := string(pg)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("edit %q: not in %s", edits[i], demoPgDog)
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	files := map[string]string{
		"vecshard.toml":        cfg,
		"other.toml":           cfg,
		"centroids.json":       string(cents),
		"pgdog-centroids.json": "[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1],[-1,0,0,0],[0,-1,0,0],[0,0,-1,0],[0,0,0,-1]]",
		"pgdog.toml":           text,
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(d)
}

// TestCheckPgDog: every rule of check --pgdog on the demo's pgdog.toml with
// one change, each with its message (errors exit 1, warnings 0).
func TestCheckPgDog(t *testing.T) {
	const items = "database = \"app\"\nname = \"items\"\n"
	const users = "[[sharded_tables]]\ndatabase = \"app\"\nname = \"users\"\ncolumn = \"id\"\n"
	tests := []struct {
		name   string
		edits  []string
		args   []string
		status int
		want   []string // whole lines of the output
	}{
		{"demo", nil, nil, exitOK, []string{
			"pgdog pgdog.toml",
			"  plugin vecshard: [[plugins]] entry 1 of 1, config vecshard.toml",
			"  database app: 4 shard(s)",
			"    if PgDog skips the plugin: no centroids: every INSERT copied to all shards, searches not placed",
			"  table users: [[sharded_tables]] pgdog.toml:42: column id, bigint, hasher postgres",
			"    if PgDog skips the plugin: INSERT and WHERE id = ... go to PgDog's postgres hash shard, not vecshard's jump hash shard (they agree for about 1 id in 4): new rows land where vecshard does not look, lookups miss existing rows",
			"OK: PgDog would route vecshard's tables through the plugin with pgdog.toml",
		}},
		{"centroids", edits(), nil, exitOK, []string{
			"  table items: [[sharded_tables]] pgdog.toml:34: column embedding, vector, centroids pgdog-centroids.json (k = 8), probes 1",
			"warning: pgdog.toml:34: table items: centroids_path: PgDog places the vector itself before it calls the plugin, so a vector parameter in binary format (pgx, asyncpg) or of another dimension fails in PgDog and drops the client's connection; leave centroids_path out unless every client sends vectors as text (docs/PGDOG.md)",
			"    if PgDog skips the plugin: INSERT and WHERE embedding = ... go to vecshard's shard (PgDog's L2 picks the same centroid); ORDER BY embedding <-> q goes to one shard; other searches (<=>, <#>) to all shards unsorted; an INSERT without embedding to all shards",
		}},
		{"table missing", []string{users, "[[sharded_tables]]\ndatabase = \"app\"\nname = \"accounts\"\ncolumn = \"id\"\n"}, nil, exitProblem, []string{
			"  table users: no [[sharded_tables]] entry in app",
			"error: pgdog.toml: table users of vecshard has no [[sharded_tables]] entry with database = \"app\" and name = \"users\": PgDog treats it as omnisharded and answers every statement vecshard sends to ALL from the first shard only (SELECT count(*) counts one shard); add the entry (see docs/PGDOG.md)",
			"1 error(s), 0 warning(s) in pgdog.toml: fix the errors before PgDog serves vecshard's tables",
		}},
		{"three shards", []string{"database_name = \"shard_3\"\nshard = 3", "database_name = \"shard_3\"\nshard = 2"}, nil, exitProblem, []string{
			"error: pgdog.toml:10: database \"app\" has 3 shards, and vecshard refuses every statement on its tables there: vecshard.toml configures shards = 4 but the pooler has 3 shards; fix shards in vecshard.toml (and the centroid files) to match the pooler",
		}},
		{"gap", []string{"shard = 2\n", "shard = 4\n"}, nil, exitProblem, []string{
			"error: pgdog.toml:10: database \"app\" has no [[databases]] entry for shard 2: PgDog counts 5 shards and fails every statement sent to shard 2, including vecshard's ALL; add the missing shard",
		}},
		{"one-shard database", []string{"[[sharded_tables]] #", "[[databases]]\nname = \"admin\"\nhost = \"127.0.0.1\"\n\n[[sharded_tables]] #"}, nil, exitOK, []string{
			"warning: pgdog.toml:34: database \"admin\" has one shard: PgDog does not ask the plugin there (primary-only or replica-only) or sends its answer to shard 0, so vecshard's tables are not sharded through it",
		}},
		{"not first", []string{"name = \"vecshard\"", "name = \"audit\"\n\n[[plugins]]\nname = \"vecshard\""}, nil, exitProblem, []string{
			"  plugin vecshard: [[plugins]] entry 2 of 2, config vecshard.toml",
			"error: pgdog.toml:9: vecshard is [[plugins]] entry 2, after \"audit\": PgDog drops an entry whose library fails to load and then pairs the later entries with the wrong libraries and configs, so vecshard would be skipped or loaded with another plugin's config; make vecshard the first entry",
			"warning: pgdog.toml:9: 1 other plugin(s) besides vecshard: PgDog asks its plugins in hash-map order, which changes from one start to the next, and the first answer other than unknown wins; one that answers for vecshard's tables can override vecshard; remove them or make sure they answer unknown for vecshard's tables",
		}},
		{"another plugin after", []string{"config = \"vecshard.toml\"\n", "config = \"vecshard.toml\"\n\n[[plugins]]\nname = \"audit\"\n"}, nil, exitOK, []string{
			"warning: pgdog.toml:6: 1 other plugin(s) besides vecshard: PgDog asks its plugins in hash-map order, which changes from one start to the next, and the first answer other than unknown wins; one that answers for vecshard's tables can override vecshard; remove them or make sure they answer unknown for vecshard's tables",
		}},
		{"no plugin", []string{"name = \"vecshard\"", "name = \"audit\""}, []string{"--config", "vecshard.toml"}, exitProblem, []string{
			"error: pgdog.toml: no [[plugins]] entry loads vecshard: PgDog routes every table by its own rules; add [[plugins]] name = \"vecshard\" and config = the plugin's configuration",
		}},
		{"plugin path and another config", []string{"name = \"vecshard\"", "name = \"/opt/vecshard/libvecshard.so\""}, []string{"--config", "other.toml"}, exitOK, []string{
			"warning: pgdog.toml:6: [[plugins]] vecshard has config = \"vecshard.toml\" but this check read other.toml: check the file PgDog passes (relative paths are PgDog's working directory's)",
		}},
		{"no plugin config", []string{"config = \"vecshard.toml\"\n", ""}, []string{"-c", "vecshard.toml"}, exitOK, []string{
			"warning: pgdog.toml:6: [[plugins]] vecshard has no config: the plugin then reads VECSHARD_CONFIG from PgDog's environment and is skipped without it; set config = the plugin's configuration",
		}},
		{"dry run", []string{"port = 6432", "port = 6432\ndry_run = true"}, nil, exitProblem, []string{
			"error: pgdog.toml:5: dry_run = true: PgDog asks the plugin, then sends every statement to shard 0 (it only records the routes): rows land on shard 0 and reads see shard 0 only; remove dry_run",
		}},
		{"cross shard disabled", []string{"port = 6432", "port = 6432\ncross_shard_disabled = true"}, nil, exitOK, []string{
			"warning: pgdog.toml:5: cross_shard_disabled = true: PgDog refuses every statement vecshard sends to ALL shards (SQLSTATE 58000, \"cross-shard queries are disabled\"): counts, searches without LIMIT, updates without a key; remove it unless that is what you want",
		}},
		{"query parser off", []string{"port = 6432", "port = 6432\nquery_parser = \"off\""}, nil, exitProblem, []string{
			"error: pgdog.toml:5: query_parser = \"off\": PgDog calls the plugin only for statements it parses, so vecshard routes nothing (or only some statements); remove query_parser (the default, auto, parses every statement of a sharded database)",
		}},
		{"no general", []string{"[general]", "", "port = 6432", ""}, nil, exitOK, []string{
			"warning: pgdog.toml: no [general] section: PgDog then takes dry_run and cross_shard_disabled from PGDOG_DRY_RUN and PGDOG_CROSS_SHARD_DISABLED in its environment, which this check cannot see; add a [general] section (with it, both default to false)",
		}},
		{"default probes", edits("centroid_probes = 1\n", ""), nil, exitProblem, []string{
			"error: pgdog.toml:34: table items: no centroid_probes (PgDog's default is ceil(sqrt(k)) = 3): if PgDog skips the plugin it writes each INSERT to the shards of the 3 nearest centroids, so rows are duplicated; set centroid_probes = 1",
		}},
		{"two probes", edits("centroid_probes = 1", "centroid_probes = 2"), nil, exitProblem, []string{
			"error: pgdog.toml:34: table items: centroid_probes = 2: if PgDog skips the plugin it writes each INSERT to the shards of the 2 nearest centroids, so rows are duplicated; set centroid_probes = 1",
		}},
		{"other centroids", edits("centroids_path = \"pgdog-centroids.json\"", "centroids = [[0,1,0,0],[1,0,0,0],[0,0,1,0],[0,0,0,1],[-1,0,0,0],[0,-1,0,0],[0,0,-1,0],[0,0,0,-1]]"), nil, exitProblem, []string{
			"  table items: [[sharded_tables]] pgdog.toml:34: column embedding, vector, centroids (inline) (k = 8), probes 1",
			"error: pgdog.toml:34: table items: centroid 0 of PgDog's file differs from centroid 0 of vecshard's centroids.json: if PgDog skips the plugin it places rows on other shards; write both files in one train-centroids run (--out and --pgdog-out)",
			"    if PgDog skips the plugin: rows placed by PgDog's own centroids, not where vecshard puts them",
		}},
		{"fewer centroids", edits("centroids_path = \"pgdog-centroids.json\"", "centroids = [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"), nil, exitProblem, []string{
			"error: pgdog.toml:34: table items: PgDog's centroids are 4 of dimension 4, vecshard's (centroids.json) 8 of dimension 4: if PgDog skips the plugin it places rows on other shards (and a vector of vecshard's dimension makes PgDog panic if the dimensions differ); write both files in one train-centroids run (--out and --pgdog-out)",
		}},
		{"missing centroid file", edits("pgdog-centroids.json", "gone.json"), nil, exitProblem, []string{
			"error: pgdog.toml:34: table items: centroids_path \"gone.json\" cannot be read (no such file or directory): PgDog only logs `centroids at path \"gone.json\" not found` and runs without centroids, so if it skips the plugin every INSERT goes to all shards; point centroids_path at train-centroids --pgdog-out's file (relative paths are PgDog's working directory's)",
		}},
		{"no centroids", nil, nil, exitOK, []string{
			"    if PgDog skips the plugin: no centroids: every INSERT copied to all shards, searches not placed",
		}},
		{"vector table by id", []string{items + "column = \"embedding\"\ndata_type = \"vector\"", items + "column = \"id\"\ndata_type = \"bigint\""}, nil, exitOK, []string{
			"warning: pgdog.toml:34: table items: vecshard places rows by embedding but PgDog's entry names column id (bigint): if PgDog skips the plugin it places rows by that column, on other shards than vecshard's; set column = \"embedding\", data_type = \"vector\" and centroids_path to train-centroids --pgdog-out's file",
		}},
		{"schema", []string{users, users + "schema = \"public\"\n"}, nil, exitOK, []string{
			"warning: pgdog.toml:42: the [[sharded_tables]] entry of users sets schema = \"public\": PgDog matches it only when a query names that schema, and a query that writes plain users gets the omnisharded treatment (vecshard's ALL reads answered from one shard); remove schema unless every query qualifies the table",
		}},
		{"id column", []string{users, "[[sharded_tables]]\ndatabase = \"app\"\nname = \"users\"\ncolumn = \"user_id\"\n"}, nil, exitOK, []string{
			"warning: pgdog.toml:42: table users: vecshard places rows by id (bigint) but PgDog's entry names column user_id (bigint): if PgDog skips the plugin it copies INSERTs without that column to all shards; set column = \"id\" and data_type = \"bigint\"",
			"    if PgDog skips the plugin: INSERT and WHERE user_id = ... go to PgDog's postgres hash shard, not vecshard's jump hash shard (they agree for about 1 id in 4): new rows land where vecshard does not look, lookups miss existing rows; an INSERT without user_id goes to all shards",
		}},
		{"omnisharded", []string{"[[sharded_tables]] #", "[[omnisharded_tables]]\ndatabase = \"app\"\ntables = [\"items\"]\n\n[[sharded_tables]] #"}, nil, exitProblem, []string{
			"error: pgdog.toml:34: table items is in [[omnisharded_tables]] of \"app\": PgDog then answers vecshard's ALL reads from one shard and copies every INSERT to all shards if it skips the plugin; remove it from omnisharded_tables",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pgdogFixture(t, tt.edits...)
			status, out, errOut := runCLI(t, append([]string{"check", "--pgdog", "pgdog.toml"}, tt.args...)...)
			if status != tt.status {
				t.Errorf("status %d, want %d\n%s%s", status, tt.status, out, errOut)
			}
			lines := strings.Split(out, "\n")
			for _, w := range tt.want {
				if indexOf(lines, w) < 0 {
					t.Errorf("output lacks the line\n%s\n%s", w, out)
				}
			}
		})
	}
}

// TestReadmePgDog: the README's pgdog.toml and users.toml are the demo's,
// which TestCheckPgDog and make demo check.
func TestReadmePgDog(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pgdog.toml", "users.toml"} {
		want, err := os.ReadFile("../../testdata/demo/" + name)
		if err != nil {
			t.Fatal(err)
		}
		block := "```toml\n" + string(want) + "```\n"
		if !strings.Contains(string(readme), block) {
			t.Errorf("README.md has no toml block equal to testdata/demo/%s; copy the file into the README (or the README's block into the file)", name)
		}
	}
}

// TestCheckPgDogUsage: a pgdog.toml that cannot be read or parsed is one
// line on stderr; without --config, pgdog.toml must name vecshard's config.
func TestCheckPgDogUsage(t *testing.T) {
	pgdogFixture(t, "config = \"vecshard.toml\"\n", "")
	os.WriteFile("bad.toml", []byte("[general]\nport = \n"), 0o644)
	tests := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--pgdog", "pgdog.toml"}, exitUsage, "vecshard: --config is required: pgdog.toml has no [[plugins]] vecshard entry with a config\n"},
		{[]string{"--pgdog", "none.toml"}, exitProblem, "vecshard: --pgdog: open none.toml: no such file or directory\n"},
		{[]string{"--pgdog", "bad.toml", "-c", "vecshard.toml"}, exitProblem, "vecshard: bad.toml:2: expected value but found '\\n' instead (PgDog would not start with this file)\n"},
	}
	for _, tt := range tests {
		status, out, errOut := runCLI(t, append([]string{"check"}, tt.args...)...)
		if status != tt.status || errOut != tt.want {
			t.Errorf("%q: status %d, stderr %q\nwant %d %q\n%s", tt.args, status, errOut, tt.status, tt.want, out)
		}
	}
}

// TestCheckPgDogLengths: PgDog's L2 picks vecshard's cosine centroid only
// when every centroid has the same length.
func TestCheckPgDogLengths(t *testing.T) {
	pgdogFixture(t, withCentroids...)
	bare := "[[2,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1],[-1,0,0,0],[0,-1,0,0],[0,0,-1,0],[0,0,0,-1]]"
	os.WriteFile("pgdog-centroids.json", []byte(bare), 0o644)
	os.WriteFile("centroids.json", []byte(`{"format":"vecshard-centroids/1","metric":"cosine","dim":4,"shards":4,"centroids":`+bare+`}`), 0o644)
	status, out, _ := runCLI(t, "check", "--pgdog", "pgdog.toml")
	want := "error: pgdog.toml:34: table items: the centroids in pgdog-centroids.json have different lengths: PgDog's sharding is L2, which picks another nearest centroid than vecshard's cosine for some vectors, so if PgDog skips the plugin those rows land on other shards; train with train-centroids (unit-length centroids for cosine) and write --pgdog-out\n"
	if status != exitProblem || !strings.Contains(out, want) {
		t.Errorf("status %d, want %d and the line\n%s\n%s", status, exitProblem, want, out)
	}
}
