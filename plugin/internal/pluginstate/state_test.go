package pluginstate

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vecshard/vecshard/config"
)

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		in    string
		level slog.Level
		ok    bool
	}{
		{"", slog.LevelInfo, true},
		{"debug", slog.LevelDebug, true},
		{"info", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"loud", slog.LevelInfo, false},
		{"DEBUG", slog.LevelInfo, false},
	} {
		level, ok := LogLevel(tc.in)
		if level != tc.level || ok != tc.ok {
			t.Errorf("logLevel(%q) = %v, %v; want %v, %v", tc.in, level, ok, tc.level, tc.ok)
		}
	}
}

// TestConfigFiles: the watcher stats the files config.Files names, the
// config first.
func TestConfigFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vecshard.toml")
	writeFile(t, cfg, `
[[tables]]
name = "items"
key = "vector"
centroids = "c.json"
[[tables]]
name = "docs"
key = "vector"
centroids = "/abs/d.json"
[[tables]]
name = "again"
key = "vector"
centroids = "c.json"
[[tables]]
name = "users"
key = "id"
`)
	want := []string{cfg, filepath.Join(dir, "c.json"), "/abs/d.json"}
	if got := config.Files(cfg); !slices.Equal(got, want) {
		t.Errorf("config.Files = %q, want %q", got, want)
	}
	writeFile(t, cfg, "not = = toml")
	if got := config.Files(cfg); !slices.Equal(got, []string{cfg}) {
		t.Errorf("config.Files(bad) = %q, want just the config", got)
	}
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, "one")
	fp := stat([]string{a, b}) // b absent
	if fp.changed() {
		t.Fatal("changed without a change")
	}
	writeFile(t, b, "appears")
	if !fp.changed() {
		t.Fatal("a file that appeared is not a change")
	}
	fp = stat([]string{a, b})
	writeFile(t, a, "two") // same size: the modification time must tell
	if err := os.Chtimes(a, time.Time{}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !fp.changed() {
		t.Fatal("a rewritten file is not a change")
	}
	fp = stat([]string{a, b})
	os.Remove(b)
	if !fp.changed() {
		t.Fatal("a removed file is not a change")
	}
	if (fingerprint{}).changed() {
		t.Fatal("an empty fingerprint changed")
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
