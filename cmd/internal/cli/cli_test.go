package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
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

// Exit status 2 is for usage errors as cobra and pflag report them through
// Setup's hooks, not for any error whose text reads like one: EINVAL's
// "invalid argument" from a write is a problem (1).
func TestUsageByType(t *testing.T) {
	einval := &fs.PathError{Op: "write", Path: "out.json", Err: syscall.EINVAL}
	newRoot := func() *cobra.Command {
		root := &cobra.Command{Use: "tool", Args: NoArgs, RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
		var n int
		one := &cobra.Command{Use: "one ARG", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
		one.Flags().IntVar(&n, "n", 0, "a number")
		io := &cobra.Command{Use: "io", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return fmt.Errorf("--out: %w", einval) }}
		root.AddCommand(one, io)
		return root
	}
	for _, tt := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"io"}, ExitProblem, "tool: --out: write out.json: invalid argument\n"},
		{[]string{"one", "a"}, ExitOK, ""},
		{[]string{"one", "a", "--n", "x"}, ExitUsage, `tool: invalid argument "x" for "--n" flag: strconv.ParseInt: parsing "x": invalid syntax (see tool one --help)` + "\n"},
		{[]string{"one", "a", "--m", "1"}, ExitUsage, "tool: unknown flag: --m (see tool one --help)\n"},
		{[]string{"one"}, ExitUsage, "tool: accepts 1 arg(s), received 0 (see tool one --help)\n"},
		{[]string{"one", "a", "b"}, ExitUsage, "tool: accepts 1 arg(s), received 2 (see tool one --help)\n"},
		{[]string{"io", "extra"}, ExitUsage, "tool: unknown command \"extra\" for \"tool io\" (see tool io --help)\n"},
		{[]string{"completion", "bash", "extra"}, ExitUsage, ""},
		{[]string{"tow"}, ExitUsage, ""},
	} {
		var out, errb bytes.Buffer
		root := newRoot()
		Setup(root, &out, &errb)
		status := Run(root, tt.args)
		if status != tt.status || tt.stderr != "" && errb.String() != tt.stderr || tt.stderr == "" && tt.status == ExitOK && errb.Len() > 0 {
			t.Errorf("%q: status %d, stderr %q; want %d, %q", tt.args, status, errb.String(), tt.status, tt.stderr)
		}
	}
}

// Wrapf reads as its message alone and keeps its cause.
func TestWrapf(t *testing.T) {
	err := error(&UsageError{Err: Wrapf(fs.ErrInvalid, "--n %q: want a count", "x")})
	if err.Error() != `--n "x": want a count` || !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("%q: the text or the cause is wrong", err)
	}
}
