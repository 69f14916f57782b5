package router

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vecshard/vecshard/config"
)

// TestLoadGood: the snapshot of testdata/good.toml and how a reference
// finds its table (package config tests the tables themselves).
func TestLoadGood(t *testing.T) {
	s := loadGood(t)
	if s.Shards() != 4 || len(s.Tables()) != 9 || s.Path() != "testdata/good.toml" {
		t.Fatalf("shards %d, %d tables, path %s", s.Shards(), len(s.Tables()), s.Path())
	}
	items := s.Table("", "items")
	if items == nil || items.Key != KeyVector || items.KeyColumn() != "embedding" || items.CrossShard != config.RankMergeable {
		t.Errorf("items: %+v", items)
	}
	docs := s.Table("public", "docs")
	if docs == nil || docs.Name != "public.docs" {
		t.Errorf("docs: %+v", docs)
	}
	if s.Table("other", "docs") != nil || s.Table("", "docs") != docs || s.Table("any", "items") != items {
		t.Error("schema matching")
	}
	if ol := s.Table("", "Order Lines"); ol == nil || ol.IDColumn != "OrderId" {
		t.Errorf("quoted name: %+v", ol)
	}
	if s.Table("", "order lines") != nil {
		t.Error("quoted names are case-sensitive")
	}
	p, err := Load("testdata/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	if all := p.Table("", "all1"); all == nil || all.CrossShard != config.RankAll {
		t.Errorf("all1: %+v", all)
	}
}

// TestLoadBadRankingPolicy: a cross_shard_ranking that is not a policy is
// the configuration's error, with the policies' spelling help.
func TestLoadBadRankingPolicy(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/c3k4.json")
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
		var ce *config.Error
		if !errors.As(err, &ce) || err.Error() != path+": "+tt.want {
			t.Errorf("%s:\n got %v\nwant %s: %s", tt.name, err, path, tt.want)
		}
	}
}

// TestConfigErrorKeepsCause: a configuration error wraps its cause, so
// errors.Is and errors.As see through it (a missing centroid file is
// fs.ErrNotExist, located as a *config.Error).
func TestConfigErrorKeepsCause(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vecshard.toml")
	conf := "[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"gone.json\"\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var ce *config.Error
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ce) || ce.Field != "centroids" || ce.Table != "items" {
		t.Fatalf("Load: %v (%T): want a *config.Error for items.centroids wrapping fs.ErrNotExist", err, err)
	}
}
