package router

import (
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
