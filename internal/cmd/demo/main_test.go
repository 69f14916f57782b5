package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/centroids"
)

// The expected decision comes from the centroid file alone (float64
// cosine, the file's shard_of), names the nearest centroids with their
// similarity, and every statement's expectation can fail.
func TestExpected(t *testing.T) {
	f := &centroids.File{Metric: centroids.Cosine, Dim: 2, Shards: 2,
		Centroids: [][]float32{{1, 0}, {0, 1}, {-1, 0}}, ShardOf: []int{0, 1, 1}}
	tests := []struct {
		s         stmt
		want, why string
	}{
		{stmt{expect: "nearest read", vec: []float32{0.1, 1}}, "shard=1 read", "nearest centroids: c1 0.9950 (shard 1), c0 0.0995"},
		{stmt{expect: "nearest write", vec: []float32{-1, -0.2}}, "shard=1 write", "nearest centroids: c2 0.9806 (shard 1), c1 -0.1961"},
		{stmt{expect: "nearest read", vec: []float32{1, 0.2}}, "shard=0 read", "nearest centroids: c0 0.9806 (shard 0), c1 0.1961"},
		{stmt{expect: "id read", id: 42}, "shard=0 read", "jump(hash(42), 2) = 0"},
		{stmt{expect: "all write"}, "all write", ""},
		{stmt{expect: "blocked"}, "blocked", ""},
	}
	for _, tt := range tests {
		want, why := expected(tt.s, f, 2)
		if want != tt.want || why != tt.why {
			t.Errorf("%+v: %q, %q; want %q, %q", tt.s, want, why, tt.want, tt.why)
		}
	}
}

// Unknown expectation forms are refused, with the file's line.
func TestReadStatementsRejectsUnknownExpectations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.tsv")
	os.WriteFile(p, []byte("# comment\nall read\tSELECT 1\nanything\tSELECT 2\n"), 0o644)
	_, err := readStatements(p, nil)
	if err == nil || !strings.Contains(err.Error(), p+`:3: expectation "anything" is not one of`) {
		t.Errorf("error %v", err)
	}
	vectors, err := readLines("../../../testdata/demo/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	sts, err := readStatements("../../../testdata/demo/statements.tsv", vectors)
	if err != nil || len(sts) < 20 {
		t.Fatalf("statements.tsv: %d statements, %v", len(sts), err)
	}
	for _, s := range sts {
		if strings.HasPrefix(s.expect, "nearest") && s.vec == nil {
			t.Errorf("statements.tsv:%d: a nearest expectation without a vector", s.line)
		}
	}
}
