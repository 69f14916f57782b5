// Command vecshard is the operators' tool for the vecshard PgDog plugin. It
// loads the plugin's configuration exactly as the plugin does and routes
// through the plugin's own router, so what it reports is what the plugin
// would do:
//
//	vecshard check   --config FILE [--shards N]
//	vecshard explain --config FILE --shards N "SQL" [--param VALUE ...] [--binary]
//	vecshard split   --config FILE --shards N --table T --input FILE --out-dir DIR
//
// check validates a configuration and its centroid files; explain shows the
// decision for one statement and why; split divides a COPY file into one
// file per shard, each row on the shard an INSERT of it would go to.
//
// Exit status: 0 success, 1 a problem was found (bad configuration, a row
// that cannot be placed), 2 a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `vecshard: operators' tool for the vecshard PgDog plugin

Usage:
  vecshard check   --config FILE [--shards N]
  vecshard explain --config FILE --shards N "SQL" [--param VALUE ...] [--binary]
  vecshard split   --config FILE --shards N --table T --input FILE --out-dir DIR [--format csv|text] [--header] ...

Run "vecshard COMMAND --help" for the details of a command.
`

// exit statuses
const (
	exitOK      = 0
	exitProblem = 1
	exitUsage   = 2
)

// run is the whole program, with its output streams, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "check":
		return runCheck(rest, stdout, stderr)
	case "explain":
		return runExplain(rest, stdout, stderr)
	case "split":
		return runSplit(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "vecshard: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlagSet returns a FlagSet for a subcommand whose -help prints help
// (synopsis, flags, example) to stdout.
func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vecshard "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(out, strings.TrimLeft(help, "\n"))
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs. It returns the exit status to use when
// the command must stop: help was asked for (0, help on stdout) or the
// flags are wrong (2, message on stderr).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (stop bool, status int) {
	// The flag package prints the usage itself, to the error output, on
	// -help too; print it here instead, to the right stream.
	show := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = show
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		show()
		return true, exitOK
	}
	if err != nil {
		show() // after the flag package's one-line error, on stderr
		return true, exitUsage
	}
	return false, 0
}

// interspersed reorders args so that flags come before positional
// arguments, letting users write flags after the SQL of explain. It uses fs
// to know which flags take a value. "--" ends the flags.
func interspersed(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), pos...)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// byteFlag is a flag holding one byte, given as one character or as an
// escape (\t, \x1f).
type byteFlag struct {
	b   byte
	set bool
}

func (f *byteFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.QuoteRune(rune(f.b))
}

func (f *byteFlag) Set(v string) error {
	switch v {
	case `\t`, "tab":
		f.b, f.set = '\t', true
		return nil
	}
	if len(v) == 1 {
		f.b, f.set = v[0], true
		return nil
	}
	if u, err := strconv.Unquote(`"` + v + `"`); err == nil && len(u) == 1 {
		f.b, f.set = u[0], true
		return nil
	}
	return fmt.Errorf("%q is not a single one-byte character", v)
}

// requireFlags reports a missing required flag as a usage error.
func requireFlags(fs *flag.FlagSet, stderr io.Writer, names ...string) bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range names {
		if !set[n] {
			fmt.Fprintf(stderr, "%s: --%s is required (see --help)\n", fs.Name(), n)
			return false
		}
	}
	return true
}
