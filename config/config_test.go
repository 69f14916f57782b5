package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/vecdecode"
)

// testdata is the router's: its routing tests read the same configuration
// and centroid files.
const testdata = "../router/testdata"

// table returns the configured table named name, or nil.
func table(c *Config, name string) *Table {
	for _, t := range c.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func TestLoadGood(t *testing.T) {
	c, err := Load(filepath.Join(testdata, "good.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Shards != 4 || len(c.Tables) != 9 || c.PlanCacheSize != 1000 || c.PlanCacheBytes != DefaultPlanCacheBytes {
		t.Fatalf("shards %d, %d tables, plan cache %d, %d bytes", c.Shards, len(c.Tables), c.PlanCacheSize, c.PlanCacheBytes)
	}
	abs, _ := filepath.Abs(filepath.Join(testdata, "c3k4.json"))
	items := table(c, "items")
	if items == nil || items.Key != KeyVector || items.VectorColumn != "embedding" || items.IDColumn != "id" ||
		items.Metric != centroids.Cosine || items.Probes != 1 || items.Set.Dim() != 3 || items.Set.K() != 4 ||
		items.VectorType != vecdecode.Vector || items.KeyColumn() != "embedding" || items.Schema != "" || items.Rel != "items" {
		t.Errorf("items: %+v", items)
	}
	if p, _ := filepath.Abs(items.CentroidsPath); p != abs {
		t.Errorf("centroids path %s, want %s (relative to the config file)", items.CentroidsPath, abs)
	}
	docs := table(c, "public.docs")
	if docs == nil || docs.Schema != "public" || docs.Rel != "docs" || docs.VectorType != vecdecode.Halfvec || docs.Probes != 2 || !docs.AllowKeyUpdate || docs.Set.K() != 8 {
		t.Errorf("docs: %+v", docs)
	}
	if bare := table(c, "bare"); bare.Metric != centroids.InnerProduct || bare.Set.Shards() != 4 || bare.Set.Metric() != centroids.InnerProduct {
		t.Errorf("bare: metric %v shards %d", bare.Metric, bare.Set.Shards())
	}
	if places := table(c, "places"); places.Metric != centroids.L2 {
		t.Errorf("places: metric %v, want the file's l2", places.Metric)
	}
	users := table(c, "users")
	if users.Key != KeyID || users.IDType != idkey.Bigint || users.Set != nil || users.KeyColumn() != "id" {
		t.Errorf("users: %+v", users)
	}
	if ol := table(c, `"Order Lines"`); ol == nil || ol.Rel != "Order Lines" || ol.IDColumn != "OrderId" {
		t.Errorf("quoted name: %+v", ol)
	}
}

// TestLoadBadRankingPolicy: a cross_shard_ranking that is not a policy is
// the configuration's error, with the policies' spelling help.
func TestLoadBadRankingPolicy(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testdata, "c3k4.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c3k4.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	const items = "[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"c3k4.json\"\n"
	for _, tt := range []struct{ name, value, want string }{
		{"bad-cross-shard", "always", `table "items": cross_shard_ranking: "always" is not "mergeable" or "all"`},
		{"misspelt-cross-shard", "mergable", `table "items": cross_shard_ranking: "mergable" is not "mergeable" or "all"; did you mean "mergeable"?`},
		{"cross-shard-upper", "ALL", `table "items": cross_shard_ranking: "ALL" is not "mergeable" or "all"; did you mean "all"?`},
	} {
		path := filepath.Join(dir, tt.name+".toml")
		if err := os.WriteFile(path, []byte(items+"cross_shard_ranking = \""+tt.value+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		var ce *Error
		if !errors.As(err, &ce) || err.Error() != path+": "+tt.want {
			t.Errorf("%s:\n got %v\nwant %s: %s", tt.name, err, path, tt.want)
		}
	}
}

// TestFiles: the files a watcher stats, the config first, centroid paths
// resolved as Load resolves them, each once; a config that decodes but
// does not load still names them.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vecshard.toml")
	conf := `shards = 0
[[tables]]
name = "a"
key = "vector"
centroids = "c.json"
[[tables]]
name = "b"
key = "vector"
centroids = "c.json"
[[tables]]
name = "c"
key = "id"
centroids = "/abs/d.json"
unknown = 1
`
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Fatal("the configuration loaded")
	}
	want := []string{path, filepath.Join(dir, "c.json"), "/abs/d.json"}
	if got := Files(path); !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	if err := os.WriteFile(path, []byte("[[tables]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Files(path); !slices.Equal(got, []string{path}) {
		t.Errorf("Files of a bad TOML = %q, want just the config", got)
	}
	missing := filepath.Join(dir, "missing.toml")
	if got := Files(missing); !slices.Equal(got, []string{missing}) {
		t.Errorf("Files of a missing file = %q, want just it", got)
	}
}

const goodItems = `
[[tables]]
name = "items"
key = "vector"
vector_column = "embedding"
centroids = "c3k4.json"
`

func TestLoadBad(t *testing.T) {
	cases := []struct {
		name, toml        string
		table, field, msg string
	}{
		{"unknown-table-key", goodItems + "vector_colum = \"x\"\n", "items", "vector_colum", "unknown key"},
		{"unknown-top-key", "shard = 4\n" + goodItems, "", "shard", "unknown key"},
		{"unknown-section", goodItems + "[extra]\nx = 1\n", "", "extra", "unknown key"},
		{"syntax", "shards = \n", "", "", "toml"},
		{"no-tables", "shards = 4\n", "", "tables", "no [[tables]]"},
		{"bad-shards", "shards = 0\n" + goodItems, "", "shards", "at least 1"},
		{"bad-cache", "plan_cache_size = -1\n" + goodItems, "", "plan_cache_size", "negative"},
		{"no-name", "[[tables]]\nkey = \"id\"\nid_column = \"id\"\nid_type = \"bigint\"\n", "#1", "name", "missing"},
		{"bad-name", "[[tables]]\nname = \"a.b.c\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"bigint\"\n", "a.b.c", "name", "schema.table"},
		{"no-key", "[[tables]]\nname = \"t\"\n", "t", "key", "missing"},
		{"bad-key", "[[tables]]\nname = \"t\"\nkey = \"hash\"\n", "t", "key", `"hash"`},
		{"missing-file", strings.Replace(goodItems, "c3k4.json", "nope.json", 1), "items", "centroids", "nope.json"},
		{"no-vector-column", "[[tables]]\nname = \"t\"\nkey = \"vector\"\ncentroids = \"c3k4.json\"\n", "t", "vector_column", "missing"},
		{"no-centroids", "[[tables]]\nname = \"t\"\nkey = \"vector\"\nvector_column = \"v\"\n", "t", "centroids", "missing"},
		{"dim-mismatch", goodItems + "dim = 4\n", "items", "dim", "3 dimensions"},
		{"ragged-centroids", strings.Replace(goodItems, "c3k4.json", "ragged.json", 1), "items", "centroids", ""},
		{"metric-mismatch", goodItems + "metric = \"l2\"\n", "items", "metric", "trained for \"cosine\""},
		{"bad-metric", goodItems + "metric = \"dot\"\n", "items", "metric", `"dot"`},
		{"probes-zero", goodItems + "probes = 0\n", "items", "probes", "out of range 1..4"},
		{"probes-too-many", goodItems + "probes = 5\n", "items", "probes", "out of range 1..4"},
		{"bad-vector-type", goodItems + "vector_type = \"bit\"\n", "items", "vector_type", `"bit"`},
		{"duplicate", goodItems + goodItems, "items", "name", "twice"},
		{"duplicate-quoted", goodItems + strings.Replace(goodItems, `"items"`, `'"items"'`, 1), "\"items\"", "name", "twice"},
		{"overlap", goodItems + strings.Replace(goodItems, `"items"`, `"public.items"`, 1), "public.items", "name", "overlaps"},
		{"files-disagree", goodItems + strings.NewReplacer(`"items"`, `"other"`, "c3k4.json", "c3k3s3.json").Replace(goodItems), "other", "centroids", "is for 3 shards, but"},
		{"shards-mismatch", "shards = 3\n" + goodItems, "items", "centroids", "shards = 3"},
		{"id-no-column", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_type = \"bigint\"\n", "u", "id_column", "missing"},
		{"id-no-type", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\n", "u", "id_type", "missing"},
		{"id-bad-type", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"int\"\n", "u", "id_type", `"int"`},
		{"id-with-centroids", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"uuid\"\ncentroids = \"c3k4.json\"\n", "u", "centroids", "only vector tables"},
		{"id-with-probes", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"uuid\"\nprobes = 2\n", "u", "probes", "only vector tables"},
		{"id-allow-key-update", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"text\"\nallow_key_update = true\n", "u", "allow_key_update", "only vector tables"},
		{"wrong-type", "shards = \"four\"\n" + goodItems, "", "", "shards"},
		{"id-cross-shard", "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"text\"\ncross_shard_ranking = \"all\"\n", "u", "cross_shard_ranking", "only vector tables"},
	}
	dir := t.TempDir()
	for _, f := range []string{"c3k4.json", "c3k3s3.json"} {
		b, err := os.ReadFile(filepath.Join(testdata, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "ragged.json"), []byte(`[[1,0,0],[0,1]]`), 0o644)
	for _, tc := range cases {
		path := filepath.Join(dir, tc.name+".toml")
		if err := os.WriteFile(path, []byte(tc.toml), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded %+v", tc.name, c)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: %T %v is not a *Error", tc.name, err, err)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", tc.name, msg)
		if ce.File != path || !strings.HasPrefix(msg, path) {
			t.Errorf("%s: %q does not name the file", tc.name, msg)
		}
		if ce.Table != tc.table {
			t.Errorf("%s: table %q, want %q (%s)", tc.name, ce.Table, tc.table, msg)
		}
		if ce.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, ce.Field, tc.field, msg)
		}
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.msg)) {
			t.Errorf("%s: %q does not contain %q", tc.name, msg, tc.msg)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.toml")); err == nil {
		t.Error("absent file loaded")
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, schema, rel string }{
		{"items", "", "items"},
		{"public.items", "public", "items"},
		{`"My Schema"."Items"`, "My Schema", "Items"},
		{`"a""b"`, "", `a"b`},
		{`s."t.x"`, "s", "t.x"},
	} {
		s, r, err := splitName(c.in)
		if err != nil || s != c.schema || r != c.rel {
			t.Errorf("splitName(%q) = %q, %q, %v", c.in, s, r, err)
		}
	}
	for _, bad := range []string{"", ".", "a.", `"a`, "a b", `"a"x`, "a.b.c"} {
		if _, _, err := splitName(bad); err == nil {
			t.Errorf("splitName(%q) succeeded", bad)
		}
	}
}

// TestConfigMessages pins the whole text of the configuration errors that
// point at a line: TOML syntax (on the line of the mistake, not the next
// one), unknown keys with a suggestion. errors.As still finds the
// Error and the parser's toml.ParseError beneath it.
func TestConfigMessages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c3k4.json"), mustRead(t, filepath.Join(testdata, "c3k4.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, toml, want string }{
		{"unclosed-array-header", "shards = 4\n[[tables]\nname = \"items\"\n",
			`line 2, column 9: TOML syntax: expected end of table array name delimiter ']', but got the end of the line instead (the line reads "[[tables]"; a table array header is written [[tables]])`},
		{"unclosed-header", "shards = 4\n[extra\nx = 1\n" + goodItems,
			`line 2, column 7: TOML syntax: expected '.' or ']' to end table name, but got the end of the line instead (the line reads "[extra"; a table header is written [name])`},
		{"missing-value", goodItems + "probes =\n",
			`line 7, column 9: TOML syntax: expected value but found the end of the line instead (the line reads "probes =")`},
		{"misspelt-table-key", goodItems + "vector_colum = \"x\"\n",
			`line 7: table "items": vector_colum: unknown key; did you mean vector_column?`},
		{"misspelt-top-key", "shard = 4\n" + goodItems, `line 1: shard: unknown key; did you mean shards?`},
		{"two-unknown", "shard = 4\nfoo = 1\n" + goodItems, `line 1: shard: unknown key; did you mean shards? (also unknown: foo)`},
		{"unrelated-key", goodItems + "colour = \"red\"\n",
			`line 7: table "items": colour: unknown key (the keys in [[tables]] are name, key, vector_column, vector_type, centroids, metric, probes, dim, id_column, id_type, allow_key_update, cross_shard_ranking)`},
		{"misspelt-cross-shard-key", goodItems + "cross_shard = \"all\"\n",
			`line 7: table "items": cross_shard: unknown key; did you mean cross_shard_ranking?`},
		{"unknown-section", goodItems + "[extra]\nx = 1\n",
			`line 7: extra: unknown key (the keys at the top level are shards, plan_cache_size, plan_cache_bytes, tables)`},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".toml")
		if err := os.WriteFile(path, []byte(tt.toml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || err.Error() != path+": "+tt.want {
			t.Errorf("%s:\n got %v\nwant %s: %s", tt.name, err, path, tt.want)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Line == 0 {
			t.Errorf("%s: not a located *Error: %#v", tt.name, err)
		}
	}
	_, err := Load(filepath.Join(dir, "unclosed-array-header.toml"))
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		t.Errorf("the toml.ParseError is not reachable through %T", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConfigErrorKeepsCause: a configuration error wraps its cause, so
// errors.Is and errors.As see through it (a missing centroid file is
// fs.ErrNotExist, located as a *Error).
func TestConfigErrorKeepsCause(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vecshard.toml")
	conf := "[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"gone.json\"\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var ce *Error
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ce) || ce.Field != "centroids" || ce.Table != "items" {
		t.Fatalf("Load: %v (%T): want a *Error for items.centroids wrapping fs.ErrNotExist", err, err)
	}
	// A reworded cause is still reachable.
	conf = "[[tables]]\nname = \"u\"\nkey = \"id\"\nid_column = \"id\"\nid_type = \"int\"\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var ie *idkey.Error
	if !errors.As(err, &ie) || err.Error() != path+`: table "u": id_type: "int" is not bigint, uuid or text` {
		t.Errorf("Load: %v (%T): want the message reworded and the *idkey.Error beneath it", err, err)
	}
}

// TestParseRankingPolicy: the two spellings, and a suggestion for a near miss.
func TestParseRankingPolicy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want RankingPolicy
		err  string
	}{
		{"mergeable", RankMergeable, ""},
		{"all", RankAll, ""},
		{"", 0, `"" is not "mergeable" or "all"`},
		{"All", 0, `did you mean "all"?`},
		{"merge", 0, `did you mean "mergeable"?`},
		{"never", 0, `"never" is not "mergeable" or "all"`},
	} {
		got, err := ParseRankingPolicy(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: %v, want an error with %q", c.in, err, c.err)
		}
	}
	if RankAll.String() != "all" || RankMergeable.String() != "mergeable" {
		t.Error("String")
	}
}
