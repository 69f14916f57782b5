package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		// pgx prints one line per connection attempt (TLS, then plain).
		{"cannot connect to PostgreSQL (check --dsn): failed to connect to `user=x database=y`:\n\t127.0.0.1:1 (127.0.0.1): dial error: connection refused\n\t127.0.0.1:1 (127.0.0.1): dial error: connection refused",
			"cannot connect to PostgreSQL (check --dsn): failed to connect to `user=x database=y`: 127.0.0.1:1 (127.0.0.1): dial error: connection refused"},
		{"a\nb\n", "a; b"},
		{"fix the hint | ", "fix the hint"},
		{"detail: ", "detail"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Run prints an error once, on one line, after the command's name; the
// exit status tells usage errors from problems; wrapped causes stay
// reachable with errors.Is.
func TestRun(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "x.json", Err: fs.ErrNotExist}
	tests := []struct {
		err    error
		status int
		stderr string
	}{
		{nil, ExitOK, ""},
		{fmt.Errorf("--centroids: %w", cause), ExitProblem, "tool: --centroids: open x.json: file does not exist\n"},
		{Usagef("--k is required: %w", errors.New("the number of centroids")), ExitUsage, "tool: --k is required: the number of centroids\n"},
		{&ProblemError{Err: cause}, ExitProblem, ""},
	}
	for _, tt := range tests {
		var seen error
		c := &cobra.Command{Use: "tool", RunE: func(*cobra.Command, []string) error { seen = tt.err; return tt.err }}
		var out, errb bytes.Buffer
		Setup(c, &out, &errb)
		if status := Run(c, nil); status != tt.status || errb.String() != tt.stderr {
			t.Errorf("%v: status %d, stderr %q; want %d, %q", tt.err, status, errb.String(), tt.status, tt.stderr)
		}
		if tt.err != nil && tt.err != (*ProblemError)(nil) && !errors.Is(seen, fs.ErrNotExist) && !strings.Contains(tt.stderr, "--k") {
			t.Errorf("%v: the cause is not reachable", tt.err)
		}
	}
	var out, errb bytes.Buffer
	c := &cobra.Command{Use: "tool", Run: func(*cobra.Command, []string) {}}
	Setup(c, &out, &errb)
	if status := Run(c, []string{"--version"}); status != ExitOK || !strings.HasPrefix(out.String(), "tool github.com/vecshard/vecshard") && !strings.HasPrefix(out.String(), "tool ") {
		t.Errorf("--version: %d %q", status, out.String())
	}
}
