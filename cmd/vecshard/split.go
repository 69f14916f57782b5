package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vecshard/vecshard/cmd/vecshard/internal/copyfmt"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

const splitHelp = `
Usage: vecshard split --config FILE --shards N --table T --input FILE --out-dir DIR
                      [--format csv|text] [--header] [--delimiter C] [--null S]
                      [--quote C] [--escape C] [--columns a,b,c]

Splits a file in PostgreSQL COPY format (text by default, or CSV) into one
file per shard, DIR/shard-<n>.txt or DIR/shard-<n>.csv, ready for
COPY T (columns) FROM on each shard with the same options. Each row goes to
the shard that INSERT INTO T (key) VALUES (the row's key) would be sent to:
the plugin's router decides (router.Snapshot.Place), with all its rules and
errors. Rows are copied
byte for byte, in input order; with --header the header line is repeated at
the top of every output file. Every input row ends up in exactly one output
file, or the command fails naming the file, line and row and leaves no
output files behind.

The key column is found by name in --columns (the column list you give
COPY) or, failing that, in the header line. --input - reads standard input.
A progress bar is shown on a terminal for large inputs.

The plugin refuses COPY into a configured table (PgDog hands it the data in
arbitrary chunks); split the file with this command and COPY each part
directly into its shard instead.

Example:
  vecshard split --config vecshard.toml --shards 4 --table items \
    --input items.csv --format csv --header --out-dir parts/
  for n in 0 1 2 3; do psql "$SHARD_$n" -c "\copy items FROM parts/shard-$n.csv (FORMAT csv, HEADER)"; done
`

// progressMin is the input size from which split shows a progress bar.
const progressMin = 16 << 20

func runSplit(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("split", splitHelp, stderr)
	config := fs.String("config", "", "the plugin's TOML configuration `FILE`")
	shards := fs.Int("shards", 0, "the pooler's shard count `N`")
	table := fs.String("table", "", "the configured table `T` the rows belong to")
	input := fs.String("input", "", "the COPY `FILE` to split (- for standard input)")
	outDir := fs.String("out-dir", "", "the `DIR` to write shard-<n> files into (created if missing)")
	format := fs.String("format", "text", "COPY `format`: text or csv")
	header := fs.Bool("header", false, "the first line is a header (COPY's HEADER)")
	var delim, quote, escape byteFlag
	fs.Var(&delim, "delimiter", "field delimiter `C` (default tab for text, comma for csv)")
	fs.Var(&quote, "quote", "CSV quote character `C` (default \")")
	fs.Var(&escape, "escape", "CSV escape character `C` (default the quote)")
	null := fs.String("null", "", "the `S`tring that means NULL (default \\N for text, an unquoted empty field for csv)")
	columns := fs.String("columns", "", "the file's columns in order, `a,b,c` (as in COPY T (a,b,c) FROM)")
	if stop, status := parseFlags(fs, args, stdout); stop {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vecshard split: unexpected argument %q (see --help)\n", fs.Arg(0))
		return exitUsage
	}
	if !requireFlags(fs, stderr, "config", "shards", "table", "input", "out-dir") {
		return exitUsage
	}
	if *shards < 1 {
		fmt.Fprintf(stderr, "vecshard split: --shards must be at least 1, not %d\n", *shards)
		return exitUsage
	}
	opt := copyfmt.Options{Header: *header, Delimiter: delim.b, Quote: quote.b, Escape: escape.b}
	switch strings.ToLower(*format) {
	case "text":
		opt.Format = copyfmt.Text
	case "csv":
		opt.Format = copyfmt.CSV
	default:
		fmt.Fprintf(stderr, "vecshard split: --format %q: want text or csv\n", *format)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "null" {
			opt.Null, opt.NullSet = *null, true
		}
	})
	var cols []string
	if *columns != "" {
		var err error
		if cols, err = parseColumns(*columns); err != nil {
			fmt.Fprintf(stderr, "vecshard split: --columns: %v\n", err)
			return exitUsage
		}
	}

	snap, err := router.Load(*config, router.WithText(sqltext.Parser{}))
	if err != nil {
		fmt.Fprintf(stderr, "vecshard split: %v\n", err)
		return exitProblem
	}
	t := findTable(snap, *table)
	if t == nil {
		names := make([]string, 0, len(snap.Tables()))
		for _, t := range snap.Tables() {
			names = append(names, t.Name)
		}
		fmt.Fprintf(stderr, "vecshard split: table %q is not in %s (configured: %s)\n", *table, *config, strings.Join(names, ", "))
		return exitProblem
	}
	s := &splitter{
		snap: snap, table: t, shards: *shards, opt: opt, columns: cols,
		input: *input, outDir: *outDir, stderr: stderr,
	}
	n, err := s.run()
	if err != nil {
		fmt.Fprintf(stderr, "vecshard split: %v\n", err)
		return exitProblem
	}
	fmt.Fprintf(stdout, "%s: %d rows of %s split by %s into %d files in %s\n", displayName(*input), n, t.Name, t.KeyColumn(), *shards, *outDir)
	for i, c := range s.counts {
		fmt.Fprintf(stdout, "  %s: %d rows\n", s.outName(i), c)
	}
	return exitOK
}

func displayName(input string) string {
	if input == "-" {
		return "standard input"
	}
	return input
}

// findTable finds the configured table that name denotes: its configured
// name, or its relation name with or without schema.
func findTable(snap *router.Snapshot, name string) *router.Table {
	for _, t := range snap.Tables() {
		if t.Name == name || t.Rel == name || (t.Schema != "" && t.Schema+"."+t.Rel == name) {
			return t
		}
	}
	if schema, rel, ok := strings.Cut(name, "."); ok {
		return snap.Table(schema, rel)
	}
	return snap.Table("", name)
}

// parseColumns reads a COPY column list: identifiers separated by commas,
// folded to lower case unless double-quoted, as PostgreSQL reads them.
func parseColumns(s string) ([]string, error) {
	var cols []string
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t")
		var col string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					return nil, errors.New("unterminated quoted identifier")
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if strings.HasPrefix(s[i:], `"`) {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			col, s = b.String(), strings.TrimLeft(s[i:], " \t")
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			col, s = strings.ToLower(strings.TrimSpace(s[:i])), s[i:]
		}
		if col == "" {
			return nil, errors.New("empty column name")
		}
		cols = append(cols, col)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected a comma after %q", col)
		}
		s = s[1:]
		if strings.TrimSpace(s) == "" {
			return nil, errors.New("empty column name after the last comma")
		}
	}
	return cols, nil
}

// splitter is one run of split.
type splitter struct {
	snap    *router.Snapshot
	table   *router.Table
	shards  int
	opt     copyfmt.Options
	columns []string
	input   string
	outDir  string
	stderr  io.Writer

	counts []int
}

func (s *splitter) ext() string {
	if s.opt.Format == copyfmt.CSV {
		return "csv"
	}
	return "txt"
}

func (s *splitter) outName(shard int) string {
	return fmt.Sprintf("shard-%d.%s", shard, s.ext())
}

// shardFile is one output: written under a temporary name and renamed when
// the whole input has been split, so that a failed run leaves no file that
// looks complete.
type shardFile struct {
	f    *os.File
	w    *bufio.Writer
	tmp  string
	path string
}

// run splits the input and returns the number of data rows.
func (s *splitter) run() (rows int, err error) {
	var src io.Reader
	var size int64 = -1
	if s.input == "-" {
		src = os.Stdin
	} else {
		f, err := os.Open(s.input)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		src = f
	}
	if size >= progressMin && isTerminal(s.stderr) {
		bar := progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(s.stderr),
			progressbar.OptionSetDescription("splitting "+s.input),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100e6),
			progressbar.OptionClearOnFinish(),
		)
		defer bar.Finish()
		src = io.TeeReader(src, bar)
	}
	r, err := copyfmt.NewReader(src, s.opt)
	if err != nil {
		return 0, err
	}
	name := displayName(s.input)

	if err := os.MkdirAll(s.outDir, 0o755); err != nil {
		return 0, err
	}
	out := make([]*shardFile, s.shards)
	defer func() {
		// On failure remove every partial output.
		for _, o := range out {
			if o == nil {
				continue
			}
			if o.f != nil {
				o.f.Close()
			}
			if err != nil {
				os.Remove(o.tmp)
			}
		}
	}()
	for i := range out {
		path := filepath.Join(s.outDir, s.outName(i))
		f, err := os.CreateTemp(s.outDir, "."+s.outName(i)+".*.partial")
		if err != nil {
			return 0, err
		}
		out[i] = &shardFile{f: f, w: bufio.NewWriterSize(f, 256<<10), tmp: f.Name(), path: path}
	}
	s.counts = make([]int, s.shards)

	keyCol := -1
	if s.columns != nil {
		if keyCol = indexOf(s.columns, s.table.KeyColumn()); keyCol < 0 {
			return 0, fmt.Errorf("--columns %s does not include %s's key column %s", strings.Join(s.columns, ","), s.table.Name, s.table.KeyColumn())
		}
	}
	ncols := len(s.columns)

	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		at := fmt.Sprintf("%s: line %d (row %d)", name, row.Line, row.N)
		if row.N == 0 {
			// The header: names the columns unless --columns did.
			if keyCol < 0 {
				names, _ := row.Fields()
				if keyCol = indexOf(names, s.table.KeyColumn()); keyCol < 0 {
					return 0, fmt.Errorf("%s: line %d (header): no column %s (%s's key column) among %s", name, row.Line, s.table.KeyColumn(), s.table.Name, strings.Join(names, ", "))
				}
				ncols = len(names)
			} else if ncols != row.NumFields() {
				return 0, fmt.Errorf("%s: line %d (header): %d columns, but --columns names %d", name, row.Line, row.NumFields(), ncols)
			}
			for _, o := range out {
				if _, err := o.w.Write(row.Raw); err != nil {
					return 0, err
				}
			}
			continue
		}
		if keyCol < 0 {
			return 0, fmt.Errorf("%s: cannot tell which field is %s: give --columns (the file's column list) or --header", name, s.table.KeyColumn())
		}
		if row.NumFields() != ncols {
			return 0, fmt.Errorf("%s: %d fields, want %d (the columns %s)", at, row.NumFields(), ncols, s.columnsText())
		}
		// Place the row as an INSERT of its key would be placed, with the
		// key as a text parameter: the router's rule, errors included.
		key, null := row.Field(keyCol)
		param := router.Param{Data: key}
		if null {
			param.Data = nil
		}
		shard, err := s.snap.Place(s.table, param, s.shards)
		if err != nil {
			return 0, fmt.Errorf("%s: %s = %s: %v", at, s.table.KeyColumn(), clip(key, null), err)
		}
		if shard < 0 || shard >= s.shards {
			return 0, fmt.Errorf("%s: the router chose shard %d of %d", at, shard, s.shards)
		}
		if _, err := out[shard].w.Write(row.Raw); err != nil {
			return 0, err
		}
		s.counts[shard]++
		rows++
	}
	for _, o := range out {
		if err := o.w.Flush(); err != nil {
			return 0, err
		}
		if err := o.f.Close(); err != nil {
			o.f = nil
			return 0, err
		}
		o.f = nil
	}
	for _, o := range out {
		if err := os.Rename(o.tmp, o.path); err != nil {
			return 0, err
		}
	}
	return rows, nil
}

func (s *splitter) columnsText() string {
	if s.columns != nil {
		return "--columns " + strings.Join(s.columns, ",")
	}
	return "of the header"
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// clip shows a key value in an error message, shortened.
func clip(v []byte, null bool) string {
	if null {
		return "NULL"
	}
	const max = 60
	if len(v) > max {
		return fmt.Sprintf("%q... (%d bytes)", v[:max], len(v))
	}
	return fmt.Sprintf("%q", v)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
