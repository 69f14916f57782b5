package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vecshard/vecshard/cmd/internal/cli"
	"github.com/vecshard/vecshard/kmeans"
	"github.com/vecshard/vecshard/kmeans/vecio"
)

// inputFlags are the flags that describe where vectors come from. Every
// subcommand that reads vectors registers them, so they are spelled and
// checked the same everywhere.
type inputFlags struct {
	input, format, column, dsn, query string
	header, skipBad                   bool
	sample                            int
}

// register adds the input flags to fs; what says what the vectors are.
func (f *inputFlags) register(fs *pflag.FlagSet, what string) {
	fs.StringVarP(&f.input, "input", "i", "", what+" `FILE` (.txt/.vec, .csv, .tsv, .fvecs, .npy, .idx, optionally .gz)")
	fs.StringVar(&f.format, "format", "", "input `FORMAT`, when the file name does not tell: txt, csv, tsv, fvecs, npy, idx")
	fs.StringVar(&f.column, "column", "", "CSV/TSV column holding the vector: header `NAME` or 0-based index")
	fs.BoolVar(&f.header, "header", false, "the first CSV/TSV line is a header (implied when --column is a name)")
	fs.StringVar(&f.dsn, "dsn", "", "PostgreSQL connection `URL` to read vectors from, instead of --input (with --query)")
	fs.StringVar(&f.query, "query", "", "`SQL` whose first column is a vector as text or a float array (with --dsn)")
	fs.BoolVar(&f.skipBad, "skip-bad", false, "count and skip bad rows instead of failing")
	fs.IntVar(&f.sample, "sample", 0, "keep a uniform random sample of at most `N` rows (0: all)")
}

// validate checks the input flags before any work: exactly one source, a
// format that is known (given or told by the file name), --query only
// with --dsn.
func (f *inputFlags) validate() error {
	switch {
	case f.input != "" && f.dsn != "":
		return cli.Usagef("--input %s and --dsn both give training vectors: give one of them", f.input)
	case f.input == "" && f.dsn == "" && f.query != "":
		return cli.Usagef("--query needs --dsn: the PostgreSQL to run it on")
	case f.input == "" && f.dsn == "":
		return cli.Usagef("no input: give --input FILE, or --dsn URL with --query SQL")
	case f.dsn != "" && f.query == "":
		return cli.Usagef("--dsn needs --query: the SQL whose first column is the vector, e.g. --query \"SELECT embedding::text FROM items TABLESAMPLE SYSTEM (1)\"")
	case f.dsn != "" && f.format != "":
		return cli.Usagef("--format applies to --input files, not to --dsn")
	case f.sample < 0:
		return cli.Usagef("--sample %d: want 0 (all rows) or more", f.sample)
	}
	if f.input != "" {
		if _, err := f.formatOf(f.input); err != nil {
			return err
		}
	}
	return nil
}

// formatOf is the format path is read in: --format, else its name's.
func (f *inputFlags) formatOf(path string) (vecio.Format, error) {
	if f.format != "" {
		ft, err := vecio.ParseFormat(f.format)
		if err != nil {
			return "", cli.Usagef("--format: %w", err)
		}
		return ft, nil
	}
	ft, _, err := vecio.DetectFormat(path)
	if err != nil {
		ext := filepath.Ext(strings.TrimSuffix(path, ".gz"))
		if ext == "" {
			return "", cli.Usagef("cannot tell the format of %s: the name has no extension; give --format (txt, csv, tsv, fvecs, npy or idx)", path)
		}
		return "", cli.Usagef("cannot tell the format of %s: %q is not a known extension (.txt, .vec, .csv, .tsv, .fvecs, .npy, .idx, each optionally .gz); give --format", path, ext)
	}
	if (ft == vecio.CSV || ft == vecio.TSV) && f.column == "" {
		return "", cli.Usagef("%s is %s: give --column, the header name or 0-based index of the vector column", path, strings.ToUpper(string(ft)))
	}
	return ft, nil
}

// read loads the vectors of path (a file), or of --dsn/--query when path
// is empty. progress is drawn on stderr unless quiet or not a terminal.
func (f *inputFlags) read(path string, seed int64, sample int, quiet bool, stderr io.Writer) (kmeans.Matrix, vecio.Stats, string, error) {
	var r vecio.Reader
	var err error
	source := path
	if path != "" {
		ft, ferr := f.formatOf(path)
		if ferr != nil {
			return kmeans.Matrix{}, vecio.Stats{}, "", ferr
		}
		r, err = vecio.Open(path, vecio.Options{Column: f.column, Header: f.header, Format: ft})
	} else {
		source = "postgres: " + f.query
		r, err = vecio.OpenPostgres(context.Background(), f.dsn, f.query)
	}
	if err != nil {
		return kmeans.Matrix{}, vecio.Stats{}, "", err
	}
	defer r.Close()
	what := path
	if path == "" {
		what = "PostgreSQL"
	}
	bar := cli.NewProgress(stderr, quiet, -1, "reading "+what+" (rows)", false)
	if bar != nil {
		r = vecio.Counted(r, func() { bar.Add(1) })
	}
	x, st, err := vecio.Collect(r, sample, seed, f.skipBad)
	bar.Finish()
	if err != nil {
		var re *vecio.RowError
		if errors.As(err, &re) && !f.skipBad && !re.Fatal {
			return x, st, "", fmt.Errorf("%w (fix the row, or give --skip-bad to skip bad rows)", err)
		}
		return x, st, "", err
	}
	if st.Skipped > 0 && !quiet {
		fmt.Fprintf(stderr, "skipped %d bad rows\n", st.Skipped)
	}
	return x, st, source, nil
}
