package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/internal/atomicfile"
	"github.com/vecshard/vecshard/internal/pgident"

	"github.com/vecshard/vecshard/cmd/vecshard/internal/copyfmt"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

// progressMin is the input size from which split shows a progress bar.
const progressMin = 16 << 20

// splitOptions are the flags of vecshard split.
type splitOptions struct {
	configFlags
	table, input, out, format, null, columns string
	from                                     string
	fromShards                               int
	header, quiet                            bool
	delim, quote, escape                     byteFlag
}

func newSplitCmd(stderr io.Writer) *cobra.Command {
	var o splitOptions
	c := &cobra.Command{
		Use:   "split --config FILE [--shards N] --table T --input FILE --out DIR [flags]",
		Short: "Split a COPY file into one file per shard, as the plugin would place each row",
		Long: `split splits a file in PostgreSQL COPY format (text or CSV) into one file
per shard, DIR/shard-<n>.txt or DIR/shard-<n>.csv, ready for
COPY T (columns) FROM on each shard with the same options. Each row goes to
the shard that INSERT INTO T (key) VALUES (the row's key) would be sent to:
the plugin's router decides (router.Snapshot.Place), with all its rules and
errors. Rows are copied byte for byte, in input order; with --header the
header line is repeated at the top of every output file. Every input row
ends up in exactly one output file, or the command fails naming the file,
line and row and leaves no output files behind.

--format is taken from the input's name when not given: .csv is csv;
.txt, .tsv, .copy and .dat are text; standard input (--input -) is text.
The key column is found by name in --columns (the column list you give
COPY) or, failing that, in the header line. A progress bar is shown on a
terminal for large inputs (not with --quiet). --shards defaults to the
configuration's shards.

The plugin refuses COPY into a configured table (PgDog hands it the data in
arbitrary chunks); split the file with this command and COPY each part
directly into its shard instead.

Moving rows after a reshard: with --from OLD-CONFIG (the configuration the
shards use now; --config is the new one, e.g. naming the file that
train-centroids reshard wrote and the new shard count), split places every
row under both and writes only what must change:
  DIR/move-to-shard-<n>.csv|txt   the rows whose shard becomes n (COPY them
                                  into shard n, same options as the input)
  DIR/delete-from-shard-<m>.txt   the id_column values of the rows leaving
                                  shard m, one per line in COPY text format
Rows that stay are not written. Every row is either kept where it is or in
exactly one move file and one delete file. A live migration: COPY the move
files into their shards, point PgDog at the new configuration, then on each
source shard: CREATE TEMP TABLE gone (id <id_type>); \copy gone FROM
delete-from-shard-<m>.txt; DELETE FROM T USING gone WHERE T.id = gone.id.
The table needs id_column in the new configuration.`,
		Example: `  vecshard split --config vecshard.toml --shards 4 --table items \
    --input items.csv --header --out parts/
  for n in 0 1 2 3; do psql "$SHARD_$n" -c "\copy items FROM parts/shard-$n.csv (FORMAT csv, HEADER)"; done
  vecshard split --config vecshard-17.toml --from vecshard.toml --table items --input items.csv --header --out moves/`,
		Args: cli.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c, c.OutOrStdout(), stderr)
		},
	}
	fs := c.Flags()
	o.register(fs, "the pooler's shard count `N` (default: the configuration's shards)")
	fs.StringVarP(&o.table, "table", "t", "", "the configured table `T` the rows belong to (required)")
	fs.StringVarP(&o.input, "input", "i", "", "the COPY `FILE` to split (- for standard input; required)")
	fs.StringVarP(&o.out, "out", "o", "", "the `DIR` to write shard-<n> files into (created if missing; required)")
	fs.StringVar(&o.out, "out-dir", "", "the same as --out")
	fs.MarkHidden("out-dir")
	fs.StringVar(&o.format, "format", "", "COPY `FORMAT`: text or csv (default: from the input's name)")
	fs.BoolVar(&o.header, "header", false, "the first line is a header (COPY's HEADER)")
	fs.Var(&o.delim, "delimiter", "field delimiter `C` (default tab for text, comma for csv)")
	fs.Var(&o.quote, "quote", "CSV quote character `C` (default \")")
	fs.Var(&o.escape, "escape", "CSV escape character `C` (default the quote)")
	fs.StringVar(&o.null, "null", "", "the `STRING` that means NULL (default \\N for text, an unquoted empty field for csv)")
	fs.StringVar(&o.columns, "columns", "", "the file's columns in order, `a,b,c` (as in COPY T (a,b,c) FROM)")
	fs.StringVar(&o.from, "from", "", "the `OLD-CONFIG` the shards use now: write only the rows that move and the keys to delete")
	fs.IntVar(&o.fromShards, "from-shards", 0, "the shard count `N` under --from (default: its configuration's shards)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar")
	return c
}

// copyFormat is the COPY format of the input: --format, else its name's.
func (o *splitOptions) copyFormat() (copyfmt.Format, error) {
	f := strings.ToLower(o.format)
	if f == "" {
		switch strings.ToLower(filepath.Ext(o.input)) {
		case ".csv":
			f = "csv"
		case ".txt", ".tsv", ".copy", ".dat", ".text":
			f = "text"
		default:
			if o.input != "-" {
				return 0, cli.Usagef("cannot tell the COPY format of %s from its name: give --format text or --format csv", o.input)
			}
			f = "text"
		}
	}
	switch f {
	case "text":
		return copyfmt.Text, nil
	case "csv":
		return copyfmt.CSV, nil
	}
	return 0, cli.Usagef("--format %q: want text or csv (COPY's formats; binary is not supported)", o.format)
}

func (o *splitOptions) run(c *cobra.Command, stdout, stderr io.Writer) error {
	if err := cli.Require(c, "config", "table", "input"); err != nil {
		return err
	}
	if o.out == "" {
		return cli.Usagef("--out is required: the directory to write the shard files into (see %s --help)", c.CommandPath())
	}
	if cli.Changed(c.Flags(), "shards") && o.shards < 1 {
		return cli.Usagef("--shards %d: want at least 1", o.shards)
	}
	format, err := o.copyFormat()
	if err != nil {
		return err
	}
	opt := copyfmt.Options{Format: format, Header: o.header, Delimiter: o.delim.b, Quote: o.quote.b, Escape: o.escape.b}
	if cli.Changed(c.Flags(), "null") {
		opt.Null, opt.NullSet = o.null, true
	}
	var cols []string
	if o.columns != "" {
		if cols, err = parseColumns(o.columns); err != nil {
			return cli.Usagef("--columns %q: %w", o.columns, err)
		}
	}
	if o.input != "-" {
		if _, err := os.Stat(o.input); err != nil {
			return fmt.Errorf("--input: %w", err)
		}
	}
	snap, err := router.Load(o.config, router.WithText(sqltext.Parser{}))
	if err != nil {
		return err
	}
	shards := o.hostShards(snap)
	if shards == 0 {
		return cli.Usagef("--shards is required: %s sets no shards, so give the pooler's shard count", o.config)
	}
	t := findTable(snap, o.table)
	if t == nil {
		names := make([]string, 0, len(snap.Tables()))
		for _, t := range snap.Tables() {
			names = append(names, t.Name)
		}
		return fmt.Errorf("table %q is not in %s (configured: %s): give --table one of them", o.table, o.config, strings.Join(names, ", "))
	}
	s := &splitter{
		snap: snap, table: t, shards: shards, opt: opt, columns: cols,
		input: o.input, outDir: o.out, stderr: stderr, quiet: o.quiet,
	}
	if o.from != "" {
		if err := o.loadFrom(s); err != nil {
			return err
		}
	}
	n, err := s.run()
	if err != nil {
		return err
	}
	if s.from != nil {
		moved := 0
		for _, c := range s.counts {
			moved += c
		}
		fmt.Fprintf(stdout, "%s: %d rows of %s, %d move (%.2f%%) from %d to %d shards, %d stay; files in %s\n",
			displayName(o.input), n, t.Name, moved, 100*float64(moved)/float64(max(1, n)), s.fromShards, shards, n-moved, o.out)
		for i, c := range s.counts {
			if c > 0 {
				fmt.Fprintf(stdout, "  %s: %d rows\n", s.outName(i), c)
			}
		}
		for i, c := range s.deletes {
			if c > 0 {
				fmt.Fprintf(stdout, "  %s: %d keys\n", deleteName(i), c)
			}
		}
		return nil
	}
	fmt.Fprintf(stdout, "%s: %d rows of %s split by %s into %d files in %s\n", displayName(o.input), n, t.Name, t.KeyColumn(), shards, o.out)
	for i, c := range s.counts {
		fmt.Fprintf(stdout, "  %s: %d rows\n", s.outName(i), c)
	}
	return nil
}

// loadFrom loads --from, the configuration the shards use now, for a
// migration.
func (o *splitOptions) loadFrom(s *splitter) error {
	from, err := router.Load(o.from, router.WithText(sqltext.Parser{}))
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	s.from, s.fromShards = from, o.fromShards
	if s.fromShards == 0 {
		s.fromShards = from.Shards()
	}
	if s.fromShards < 1 {
		return cli.Usagef("--from-shards is required: %s sets no shards, so give the shard count it runs with", o.from)
	}
	if s.fromTable = findTable(from, o.table); s.fromTable == nil {
		return fmt.Errorf("table %q is not in --from %s: both configurations must describe it", o.table, o.from)
	}
	if s.table.IDColumn == "" {
		return fmt.Errorf("%s: table %s has no id_column: a migration deletes moved rows by their id; set id_column", o.config, s.table.Name)
	}
	if s.fromTable.KeyColumn() != s.table.KeyColumn() {
		return fmt.Errorf("table %s is placed by %s in --from %s but by %s in %s: a migration needs the same key column", s.table.Name, s.fromTable.KeyColumn(), o.from, s.table.KeyColumn(), o.config)
	}
	return nil
}

// deleteName is the file of keys to delete from a source shard.
func deleteName(shard int) string { return fmt.Sprintf("delete-from-shard-%d.txt", shard) }

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
			var err error
			if col, s, err = pgident.Quoted(s); err != nil {
				return nil, err
			}
			s = strings.TrimLeft(s, " \t")
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
	quiet   bool

	// A migration (--from): the old placement; counts are then the rows
	// moving to each shard and deletes the keys leaving each old shard.
	from       *router.Snapshot
	fromTable  *router.Table
	fromShards int
	deletes    []int

	counts []int
}

func (s *splitter) ext() string {
	if s.opt.Format == copyfmt.CSV {
		return "csv"
	}
	return "txt"
}

func (s *splitter) outName(shard int) string {
	if s.from != nil {
		return fmt.Sprintf("move-to-shard-%d.%s", shard, s.ext())
	}
	return fmt.Sprintf("shard-%d.%s", shard, s.ext())
}

// shardFile is one output: written under a temporary name and renamed when
// the whole input has been split, so that a failed run leaves no file that
// looks complete.
type shardFile struct {
	f *atomicfile.File
	w *bufio.Writer
}

// run splits the input and returns the number of data rows.
func (s *splitter) run() (rows int, err error) {
	src, closeInput, err := s.openInput()
	if err != nil {
		return 0, err
	}
	defer closeInput()
	r, err := copyfmt.NewReader(src, s.opt)
	if err != nil {
		return 0, err
	}
	p := &splitPass{splitter: s, name: displayName(s.input), keyCol: -1, idCol: -1}
	defer func() {
		// On failure remove every partial output.
		if err != nil {
			p.abort()
		}
	}()
	if err := p.createOutputs(); err != nil {
		return 0, err
	}
	if err := p.columnsFromFlag(); err != nil {
		return 0, err
	}
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.name, err)
		}
		if row.N == 0 {
			err = p.header(row)
		} else {
			err = p.place(row)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := p.commit(); err != nil {
		return 0, err
	}
	return p.rows, nil
}

// openInput opens the input (- is standard input) and, for a regular file
// big enough to be worth it, a progress bar on stderr counting its bytes.
// done finishes the bar and closes the file.
func (s *splitter) openInput() (src io.Reader, done func(), err error) {
	var size int64 = -1
	var closers []func()
	if s.input == "-" {
		src = os.Stdin
	} else {
		f, err := os.Open(s.input)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { f.Close() })
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		src = f
	}
	if size >= progressMin {
		bar := cli.NewProgress(s.stderr, s.quiet, size, "splitting "+s.input, true)
		closers = append(closers, bar.Finish)
		src = bar.Reader(src)
	}
	return src, func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}, nil
}

// splitPass is the state of one pass of a splitter over its input.
type splitPass struct {
	*splitter
	name  string       // the input as messages name it
	files []*shardFile // every output, for the cleanup on failure and the commit at the end
	out   []*shardFile // the rows for each shard (moving to it, with --from)
	dels  []*shardFile // with --from: the ids leaving each old shard
	// Field indexes of the key and of the id (which --from's delete files
	// list), -1 until --columns or the header names them; ncols is the
	// number of fields every row must have.
	keyCol, idCol, ncols int
	rows                 int // data rows read
}

// createOutputs creates the output directory and every output file under
// a temporary name: one per shard, and with --from one delete file per
// old shard.
func (p *splitPass) createOutputs() error {
	if err := os.MkdirAll(p.outDir, 0o755); err != nil {
		return err
	}
	p.out = make([]*shardFile, p.shards)
	for i := range p.out {
		o, err := p.create(p.outName(i), 256<<10)
		if err != nil {
			return err
		}
		p.out[i] = o
	}
	p.counts = make([]int, p.shards)
	if p.from == nil {
		return nil
	}
	p.dels = make([]*shardFile, p.fromShards)
	for i := range p.dels {
		o, err := p.create(deleteName(i), 64<<10)
		if err != nil {
			return err
		}
		p.dels[i] = o
	}
	p.deletes = make([]int, p.fromShards)
	return nil
}

func (p *splitPass) create(name string, bufSize int) (*shardFile, error) {
	f, err := atomicfile.Create(filepath.Join(p.outDir, name))
	if err != nil {
		return nil, err
	}
	o := &shardFile{f: f, w: bufio.NewWriterSize(f, bufSize)}
	p.files = append(p.files, o)
	return o, nil
}

// columnsFromFlag finds the id (with --from) and key fields in --columns,
// if given.
func (p *splitPass) columnsFromFlag() error {
	if p.columns == nil {
		return nil
	}
	if p.from != nil {
		if p.idCol = indexOf(p.columns, p.table.IDColumn); p.idCol < 0 {
			return fmt.Errorf("--columns %s does not include %s's id column %s, which the delete files list", strings.Join(p.columns, ","), p.table.Name, p.table.IDColumn)
		}
	}
	if p.keyCol = indexOf(p.columns, p.table.KeyColumn()); p.keyCol < 0 {
		return fmt.Errorf("--columns %s does not include %s's key column %s", strings.Join(p.columns, ","), p.table.Name, p.table.KeyColumn())
	}
	p.ncols = len(p.columns)
	return nil
}

// header reads the header row: it names the columns unless --columns did
// (then it must have as many), and it goes to every shard's file.
func (p *splitPass) header(row *copyfmt.Row) error {
	if p.keyCol < 0 {
		names, _ := row.Fields()
		if p.keyCol = indexOf(names, p.table.KeyColumn()); p.keyCol < 0 {
			return fmt.Errorf("%s: line %d (header): no column %s (%s's key column) among %s%s", p.name, row.Line, p.table.KeyColumn(), p.table.Name, quoteList(names), p.formatHint(names))
		}
		p.ncols = len(names)
	} else if p.ncols != row.NumFields() {
		return fmt.Errorf("%s: line %d (header): %d columns, but --columns names %d", p.name, row.Line, row.NumFields(), p.ncols)
	}
	if p.from != nil && p.idCol < 0 {
		names, _ := row.Fields()
		if p.idCol = indexOf(names, p.table.IDColumn); p.idCol < 0 {
			return fmt.Errorf("%s: line %d (header): no column %s (%s's id column, which the delete files list) among %s", p.name, row.Line, p.table.IDColumn, p.table.Name, quoteList(names))
		}
	}
	for _, o := range p.out {
		if _, err := o.w.Write(row.Raw); err != nil {
			return err
		}
	}
	return nil
}

// place writes a data row to its shard's file, as an INSERT of its key
// would be placed: the key as a text parameter, the router's rule, errors
// included. With --from only a row whose shard changes is written, and
// its id goes to its old shard's delete file.
func (p *splitPass) place(row *copyfmt.Row) error {
	at := fmt.Sprintf("%s: line %d (row %d)", p.name, row.Line, row.N)
	if p.keyCol < 0 {
		return fmt.Errorf("%s: cannot tell which field is %s: give --columns (the file's column list) or --header", p.name, p.table.KeyColumn())
	}
	if row.NumFields() != p.ncols {
		return fmt.Errorf("%s: %d fields, want %d (the columns %s)", at, row.NumFields(), p.ncols, p.columnsText())
	}
	key, null := row.Field(p.keyCol)
	param := router.Param{Data: key}
	if null {
		param.Data = nil
	}
	shard, err := p.snap.Place(p.table, param, p.shards)
	if err != nil {
		return fmt.Errorf("%s: %s = %s: %w", at, p.table.KeyColumn(), clip(key, null), err)
	}
	if shard < 0 || shard >= p.shards {
		return fmt.Errorf("%s: the router chose shard %d of %d", at, shard, p.shards)
	}
	p.rows++
	if p.from != nil {
		old, err := p.from.Place(p.fromTable, param, p.fromShards)
		if err != nil {
			return fmt.Errorf("%s: %s = %s under --from: %w", at, p.table.KeyColumn(), clip(key, null), err)
		}
		if old == shard {
			return nil
		}
		if err := p.deleteFrom(old, row, at); err != nil {
			return err
		}
	}
	if _, err := p.out[shard].w.Write(row.Raw); err != nil {
		return err
	}
	p.counts[shard]++
	return nil
}

// deleteFrom lists the id of a row leaving shard old in old's delete file.
func (p *splitPass) deleteFrom(old int, row *copyfmt.Row, at string) error {
	if p.idCol < 0 {
		return fmt.Errorf("%s: cannot tell which field is %s: give --columns (the file's column list) or --header", p.name, p.table.IDColumn)
	}
	id, idNull := row.Field(p.idCol)
	if idNull {
		return fmt.Errorf("%s: %s is NULL: a moved row is deleted from shard %d by its id; give every row an id", at, p.table.IDColumn, old)
	}
	if _, err := p.dels[old].w.Write(appendCopyText(nil, id)); err != nil {
		return err
	}
	p.deletes[old]++
	return nil
}

// commit flushes every output, then renames each to its name.
func (p *splitPass) commit() error {
	for _, o := range p.files {
		if err := o.w.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", o.f.Path(), err)
		}
	}
	for _, o := range p.files {
		if err := o.f.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// abort removes every output not yet committed (on a failed commit, the
// outputs already renamed stay: each is complete).
func (p *splitPass) abort() {
	for _, o := range p.files {
		o.f.Abort()
	}
}

// appendCopyText appends v as one field of COPY's text format and a
// newline: backslash, tab, newline and carriage return escaped.
func appendCopyText(b, v []byte) []byte {
	for _, c := range v {
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\n')
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

// quoteList shows column names so that one name with commas in it does
// not read as several names.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// formatHint explains a header of one field that holds the other format's
// delimiter: a CSV file read as text (tab-separated), or the reverse.
func (s *splitter) formatHint(names []string) string {
	if len(names) != 1 {
		return ""
	}
	switch {
	case s.opt.Format == copyfmt.Text && strings.Contains(names[0], ","):
		return ": the header is one tab-separated field with commas in it; is this a CSV file? give --format csv"
	case s.opt.Format == copyfmt.CSV && strings.Contains(names[0], "\t"):
		return ": the header is one comma-separated field with tabs in it; is this a text (tab-separated) file? give --format text"
	}
	return ""
}
