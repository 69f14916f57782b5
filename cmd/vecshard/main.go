// Command vecshard is the operators' tool for the vecshard PgDog plugin. It
// loads the plugin's configuration exactly as the plugin does and routes
// through the plugin's own router, so what it reports is what the plugin
// would do:
//
//	vecshard check   --config FILE [--shards N]
//	vecshard explain --config FILE [--shards N] "SQL" [--param VALUE ...] [--binary]
//	vecshard split   --config FILE [--shards N] --table T --input FILE --out DIR
//
// check validates a configuration and its centroid files; explain shows the
// decision for one statement and why; split divides a COPY file into one
// file per shard, each row on the shard an INSERT of it would go to.
//
// The command tree is built by newRootCmd, one file per subcommand, so
// tests run it in-process and a new subcommand is one more file and one
// AddCommand.
//
// Exit status: 0 success, 1 a problem was found (bad configuration, a row
// that cannot be placed), 2 a usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exit statuses
const (
	exitOK      = cli.ExitOK
	exitProblem = cli.ExitProblem
	exitUsage   = cli.ExitUsage
)

// run is the whole program, with its output streams, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Run(newRootCmd(stdout, stderr), args)
}

// newRootCmd builds the command tree.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "vecshard",
		Short: "Operators' tool for the vecshard PgDog plugin",
		Long: `vecshard loads the plugin's configuration exactly as the plugin does and
routes through the plugin's own router, so what it reports is what the
plugin would do.

Exit status: 0 success, 1 a problem was found, 2 a usage error.`,
		Example: `  vecshard check -c /etc/pgdog/vecshard.toml
  vecshard explain -c vecshard.toml "SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT 10" --param '[0.1,0.2,0.3]'
  vecshard split -c vecshard.toml --table items -i items.csv --header -o parts/`,
		Args: cli.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	root.AddCommand(newCheckCmd(), newExplainCmd(), newSplitCmd(stderr))
	cli.Setup(root, stdout, stderr)
	return root
}

// configFlags are the flags every subcommand has: the plugin's
// configuration and the pooler's shard count.
type configFlags struct {
	config string
	shards int
}

func (f *configFlags) register(fs *pflag.FlagSet, shardsHelp string) {
	fs.StringVarP(&f.config, "config", "c", "", "the plugin's TOML configuration `FILE` (required)")
	fs.IntVarP(&f.shards, "shards", "s", 0, shardsHelp)
}

// load checks the flags and loads the configuration as the plugin does,
// with opts.
func (f *configFlags) load(c *cobra.Command, opts ...router.Option) (*router.Snapshot, error) {
	if err := cli.Require(c, "config"); err != nil {
		return nil, err
	}
	if cli.Changed(c.Flags(), "shards") && f.shards < 1 {
		return nil, cli.Usagef("--shards %d: want at least 1", f.shards)
	}
	return router.Load(f.config, append([]router.Option{router.WithText(sqltext.Parser{})}, opts...)...)
}

// hostShards is the pooler's shard count: --shards, else the
// configuration's shards; 0 when neither says.
func (f *configFlags) hostShards(snap *router.Snapshot) int {
	if f.shards > 0 {
		return f.shards
	}
	return snap.Shards()
}

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

// Type names the value in --help.
func (f *byteFlag) Type() string { return "char" }

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
