package corpus_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/internal/corpus"
)

func TestCases(t *testing.T) {
	cases := corpus.Cases()
	if len(cases) < 330 {
		t.Errorf("only %d cases, want at least 330", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if c.Name == "" || strings.TrimSpace(c.SQL) == "" {
			t.Errorf("case %q: empty name or SQL", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("duplicate case name %s", c.Name)
		}
		seen[c.Name] = true
		if c.Shards <= 0 {
			t.Errorf("%s: shards %d", c.Name, c.Shards)
		}
		hint := strings.HasPrefix(c.Name, "hint/")
		if !hint && (strings.Contains(c.SQL, "/*") || strings.Contains(c.SQL, "--")) {
			t.Errorf("%s: a comment outside the hint/ cases", c.Name)
		}
		if !hint && strings.Contains(c.SQL, "pgdog_") {
			t.Errorf("%s: names a pgdog hint but is not a hint/ case", c.Name)
		}
	}
	if again := corpus.Cases(); !reflect.DeepEqual(cases, again) {
		t.Error("Cases is not deterministic")
	}
}

func TestConfigDir(t *testing.T) {
	dir := corpus.ConfigDir()
	if !filepath.IsAbs(dir) {
		t.Errorf("ConfigDir %q is not absolute", dir)
	}
	for _, f := range []string{"vecshard.toml", "c3k4.json", "c3k8.json", "l2k4.json", "bare.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
