// Package cli holds what the two commands (train-centroids, vecshard) share
// on top of cobra: exit statuses, usage errors, --version from the build
// information, one-line error printing, progress bars that only draw on a
// terminal and "did you mean" suggestions.
//
// Why cobra (with pflag): GNU-style long and short flags, nested
// subcommands, generated --help for every command and shell completion
// are what users of other command-line tools expect, and cobra is the
// library most Go tools (kubectl, gh, hugo) provide them with; a hand-made
// layer over the flag package got each of them slightly wrong.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses of both commands.
const (
	ExitOK      = 0 // success
	ExitProblem = 1 // the command ran and found a problem (bad input, bad configuration)
	ExitUsage   = 2 // the command line is wrong
)

// UsageError is a wrong command line: a missing or conflicting flag, an
// unknown argument. Commands exit with ExitUsage for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message (%w wraps).
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Wrapf returns an error whose text is the formatted message alone and
// whose cause (errors.Is, errors.As) is cause: for messages that already
// say in the user's terms what cause's own text would repeat (a flag value
// strconv rejects, say). Wrap it in a UsageError for a usage error.
func Wrapf(cause error, format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), cause: cause}
}

type wrapped struct {
	msg   string
	cause error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.cause }

// ProblemError is a problem that the command has already reported on its
// output; Run exits with ExitProblem without printing it again.
type ProblemError struct{ Err error }

func (e *ProblemError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ProblemError) Unwrap() error { return e.Err }

// Version describes the running binary: its module version and what the Go
// toolchain recorded about the build (Go version, VCS revision when built
// from a checkout with VCS stamping).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	path := bi.Main.Path
	if path == "" { // test binaries record no main module
		path = "github.com/vecshard/vecshard"
	}
	parts := []string{path + " " + v, bi.GoVersion}
	var rev, modified, vcsTime string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			vcsTime = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		r := "revision " + rev
		if vcsTime != "" {
			r += " of " + vcsTime
		}
		if modified == "true" {
			r += " (modified)"
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, ", ")
}

// Setup prepares a command tree built by a constructor: output streams,
// --version on the root, no usage dump after an error (the error says what
// to fix and names --help), and a help command. Call it on the root once
// its subcommands are added.
//
// Usage errors are typed where cobra makes them, never recognised by their
// text: a flag that does not parse goes through cobra's flag error hook
// (SetFlagErrorFunc), and every command's Args validator, cobra's own
// (cobra.NoArgs, cobra.ExactArgs, ...) included, is wrapped so that what it
// rejects becomes a *UsageError. Commands must not use cobra's required or
// grouped flags, whose errors have no hook; they call Require instead.
func Setup(root *cobra.Command, stdout, stderr io.Writer) {
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.Version = Version()
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.SuggestionsMinimumDistance = 2
	if root.Args == nil && root.HasSubCommands() {
		// cobra's default for such a root rejects any argument that is not
		// a command, with a plain error; NoArgs does so with a usage error.
		root.Args = NoArgs
	}
	// Execute would add these on its first run; adding them now lets the
	// walk below reach them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		// Flags are sorted in the order they were added: they are grouped
		// by meaning there, which alphabetical order would scatter.
		c.Flags().SortFlags = false
		c.PersistentFlags().SortFlags = false
		if c.Args != nil {
			c.Args = usageArgs(c.Args)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// usageArgs wraps an Args validator so that what it rejects is a
// *UsageError naming --help (a validator's own *UsageError passes as is).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		err := check(c, args)
		var ue *UsageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &UsageError{Err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	}
}

// Run executes root with args and returns the exit status. An error is
// printed once, on one line, after the command's name: "name: message".
func Run(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var pe *ProblemError
	if errors.As(err, &pe) {
		return ExitProblem
	}
	fmt.Fprintf(root.ErrOrStderr(), "%s: %s\n", root.Name(), Clean(err.Error()))
	// Only a *UsageError (made by Setup's hooks, Usagef or Require) is a
	// usage error: a problem's text may read like one (EINVAL is "invalid
	// argument").
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitProblem
}

// Clean makes an error message fit one line: newlines become "; ", runs
// of spaces collapse, and empty trailing parts (": ", " | ") are dropped.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	var b strings.Builder
	seen := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		// Drivers repeat a line per attempt (pgx: one per TLS mode).
		l = strings.TrimSpace(l)
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(l)
	}
	s = b.String()
	for {
		t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), ":"), "|")
		if t == s {
			return s
		}
		s = t
	}
}

// NoArgs is cobra.NoArgs with a message that says what to do.
func NoArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.HasAvailableSubCommands() {
		msg := fmt.Sprintf("unknown command %q for %s", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(": did you mean %s?", strings.Join(s, " or "))
		}
		var names []string
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				names = append(names, s.Name())
			}
		}
		return Usagef("%s (commands: %s; flags start with --; see %s --help)", msg, strings.Join(names, ", "), c.CommandPath())
	}
	return Usagef("unexpected argument %q: %s takes only flags (see %s --help)", args[0], c.CommandPath(), c.CommandPath())
}

// Changed reports whether the flag name was given on the command line.
func Changed(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}

// Require returns a usage error naming the first of names not given.
func Require(c *cobra.Command, names ...string) error {
	for _, n := range names {
		if !Changed(c.Flags(), n) {
			return Usagef("--%s is required (see %s --help)", n, c.CommandPath())
		}
	}
	return nil
}

// IsTerminal reports whether w is a terminal (progress bars draw only there).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f)
}

// HelpIfBare wraps a command's run function: a command given no flags at
// all prints its help (and succeeds) instead of complaining about the
// first missing flag, as a bare command should.
func HelpIfBare(run func(stdout io.Writer) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, _ []string) error {
		if c.Flags().NFlag() == 0 {
			return c.Help()
		}
		return run(c.OutOrStdout())
	}
}
