// Package docs holds the project's prose and the tests that keep it true:
// the facts the pages repeat (the package map, the corpus's size, make
// targets, environment knobs, links between pages) are checked against the
// tree, so a rename or a new package fails here instead of leaving a page
// behind.
package docs

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/internal/corpus"
)

// root is the repository root, seen from this package's directory.
const root = ".."

// pages are the documents a newcomer reads.
func pages(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, filepath.Join(root, "README.md"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// goPackages lists the directories holding Go files, relative to the root,
// as the go command sees them (testdata, build outputs and directories
// starting with "_" or "." excluded).
func goPackages(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "build" || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(seen, "docs") // this test
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TestPackageMap holds ARCHITECTURE.md's package table to the tree: every
// package has a row and every row names a package (or a directory) that
// exists.
func TestPackageMap(t *testing.T) {
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	listed := map[string]bool{}
	for _, m := range row.FindAllSubmatch(doc, -1) {
		p := string(m[1])
		listed[p] = true
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("ARCHITECTURE.md lists %s, which is not in the tree: remove its row or fix the path", p)
		}
	}
	if len(listed) == 0 {
		t.Fatal("ARCHITECTURE.md: no package table rows found (rows look like \"| `path` | job | deps |\")")
	}
	for _, p := range goPackages(t) {
		if !listed[p] {
			t.Errorf("package %s has no row in ARCHITECTURE.md's package table: add one (path, job, dependencies)", p)
		}
	}
}

// TestCorpusCount holds every page that counts the routing corpus to its
// size.
func TestCorpusCount(t *testing.T) {
	n := len(corpus.Cases())
	count := regexp.MustCompile(`([0-9][0-9,]*) (?:routing statements|statements with parameters|cases with)`)
	found := 0
	for name, b := range pages(t) {
		for _, m := range count.FindAllSubmatch(b, -1) {
			found++
			got, err := strconv.Atoi(strings.ReplaceAll(string(m[1]), ",", ""))
			if err != nil || got != n {
				t.Errorf("%s says %q: the corpus has %d cases (internal/corpus)", name, m[0], n)
			}
		}
	}
	if found == 0 {
		t.Error("no page counts the corpus any more: drop this test or the pattern")
	}
}

// TestMakeTargets holds every `make X` the pages name to a Makefile rule.
func TestMakeTargets(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	rule := regexp.MustCompile(`(?m)^([a-z0-9][a-z0-9_-]*):`)
	rules := map[string]bool{}
	for _, m := range rule.FindAllSubmatch(mk, -1) {
		rules[string(m[1])] = true
	}
	use := regexp.MustCompile("`(?:[A-Z_]+=\\S+ )*make ((?:[A-Z_]+=\\S+ )*)([a-z][a-z0-9_-]*)")
	for name, b := range pages(t) {
		for _, m := range use.FindAllSubmatch(b, -1) {
			if target := string(m[2]); !rules[target] {
				t.Errorf("%s names `make %s`, which the Makefile does not define", name, target)
			}
		}
	}
}

// TestEnvKnobs holds every VECSHARD_* variable the pages name to the code
// that reads it.
func TestEnvKnobs(t *testing.T) {
	var code bytes.Buffer
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if path != root && (n == "build" || n == "docs" || strings.HasPrefix(n, "_") || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".c", ".rs", ".sh":
		default:
			if filepath.Base(path) != "Makefile" {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		code.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	knob := regexp.MustCompile(`VECSHARD_[A-Z0-9_]*[A-Z0-9]`)
	for name, b := range pages(t) {
		for _, k := range knob.FindAll(b, -1) {
			if !bytes.Contains(code.Bytes(), k) {
				t.Errorf("%s names %s, which no code reads", name, k)
			}
		}
	}
}

// TestLinks holds the relative links between pages to files that exist.
func TestLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#:\s]+)(#[^)]*)?\)`)
	for name, b := range pages(t) {
		for _, m := range link.FindAllSubmatch(b, -1) {
			target := filepath.Join(filepath.Dir(name), string(m[1]))
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s, which does not exist", name, m[1])
			}
		}
	}
}
