package centroids

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Format is the value of the "format" member of the object form of a
// centroid file.
const Format = "vecshard-centroids/1"

// Training records how a centroid file was made. It is informational: the
// router ignores it.
type Training struct {
	Points     int     // number of training vectors
	Iterations int     // k-means iterations run
	Seed       int64   // random seed of the initialisation
	Objective  float64 // final k-means objective (metric dependent)
	Sizes      []int   // training vectors assigned to each centroid
	Source     string  // where the training vectors came from
	Created    string  // RFC 3339 time of creation
}

// File is the content of a centroid file.
type File struct {
	Metric Metric
	Dim    int // numbers in every centroid

	// Shards is the number of shards the centroids map to. It is 0 for
	// PgDog's bare array form, which fixes no shard count: like PgDog's
	// built-in vector sharding, centroid i then goes to shard i % n under a
	// pooler of n shards, for any number of centroids (see Set.Bare).
	Shards int

	Centroids [][]float32 // k >= max(1, Shards) rows of Dim numbers

	// ShardOf[i] is the shard of centroid i. nil means centroid i belongs
	// to shard i % Shards. With Shards 0 it must be nil or the identity.
	ShardOf []int

	Training *Training // nil when unknown
}

// Load reads and validates the centroid file at path (see Parse).
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and validates a centroid file's content; name is used only
// in error messages, which have the form "name: row 3: has 783 numbers, want
// 784" (rows are counted from 0, as centroid indices are).
//
// data is either PgDog's bare array of arrays of numbers, which yields a
// File with Metric Cosine (the caller may change it), Shards 0 and no
// ShardOf, or a JSON object with members "format" (exactly Format),
// "metric", "shards", "centroids", and optionally "dim", "shard_of" and
// "training"; unknown members are errors. Numbers are rounded once from
// decimal to float32 and must be within float32 range. Parse checks
// everything New checks.
func Parse(name string, data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// errTrailing is text after the array of rows.
var errTrailing = errors.New("data after the centroids")

// rowsError is a problem in the array of rows at byte offset off of the
// array's text.
type rowsError struct {
	off int
	err error
}

func (e *rowsError) Error() string { return e.err.Error() }
func (e *rowsError) Unwrap() error { return e.err }

func rowsErr(off int, format string, args ...any) error {
	return &rowsError{off: off, err: fmt.Errorf(format, args...)}
}

// located prefixes err with the line and column of offset base+off in
// data, when err is a rowsError (off relative to the rows' text).
func located(data []byte, base int, err error) error {
	var re *rowsError
	if !errors.As(err, &re) || base < 0 {
		return err
	}
	return fmt.Errorf("%s: %w", position(data, base+re.off), err)
}

// position describes a byte offset of data as a text editor shows it.
func position(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d (offset %d)", line, col, off)
}

func parse(data []byte) (*File, error) {
	p := skipSpace(data, 0)
	if p == len(data) {
		return nil, errors.New("empty file")
	}
	switch data[p] {
	case '[':
		rows, dim, err := parseRows(data, 0)
		if err != nil {
			return nil, located(data, 0, err)
		}
		return &File{Metric: Cosine, Dim: dim, Centroids: rows}, nil
	case '{':
		return parseObject(data)
	}
	return nil, fmt.Errorf("offset %d: want a JSON array or object", p)
}

// fileJSON is the object form. Pointers tell a missing member from a zero.
type fileJSON struct {
	Format    *string         `json:"format"`
	Metric    *string         `json:"metric"`
	Dim       *int            `json:"dim"`
	Shards    *int            `json:"shards"`
	Centroids json.RawMessage `json:"centroids"`
	ShardOf   []int           `json:"shard_of"`
	Training  *trainingJSON   `json:"training"`
}

type trainingJSON struct {
	Points     int     `json:"points"`
	Iterations int     `json:"iterations"`
	Seed       int64   `json:"seed"`
	Objective  float64 `json:"objective"`
	Sizes      []int   `json:"sizes,omitempty"`
	Source     string  `json:"source,omitempty"`
	Created    string  `json:"created,omitempty"`
}

func parseObject(data []byte) (*File, error) {
	var j fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, objectError(data, err)
	}
	if p := skipSpace(data, int(dec.InputOffset())); p != len(data) {
		return nil, fmt.Errorf("offset %d: data after the JSON object", p)
	}
	// encoding/json matches member names without regard to case; the
	// format's names are exact.
	if err := memberNames(data); err != nil {
		return nil, err
	}
	switch {
	case j.Format == nil:
		return nil, fmt.Errorf("missing \"format\" (want %q)", Format)
	case *j.Format != Format:
		return nil, fmt.Errorf("format %q, want %q", *j.Format, Format)
	case j.Metric == nil:
		return nil, errors.New("missing \"metric\"")
	case j.Shards == nil:
		return nil, errors.New("missing \"shards\"")
	case *j.Shards < 1:
		return nil, fmt.Errorf("shards is %d, want at least 1", *j.Shards)
	case len(j.Centroids) == 0 || string(j.Centroids) == "null":
		return nil, errors.New("missing \"centroids\"")
	}
	m, err := ParseMetric(*j.Metric)
	if err != nil {
		return nil, err
	}
	want := 0
	if j.Dim != nil {
		if *j.Dim < 1 {
			return nil, fmt.Errorf("dim is %d, want at least 1", *j.Dim)
		}
		want = *j.Dim
	}
	rows, dim, err := parseRows(j.Centroids, want)
	if err != nil {
		return nil, located(data, bytes.Index(data, j.Centroids), err)
	}
	f := &File{Metric: m, Dim: dim, Shards: *j.Shards, Centroids: rows, ShardOf: j.ShardOf}
	if t := j.Training; t != nil {
		f.Training = &Training{t.Points, t.Iterations, t.Seed, t.Objective, t.Sizes, t.Source, t.Created}
	}
	return f, nil
}

// objectError locates a JSON error of the object form. A syntax error
// inside "centroids" (a NaN, say, which encoding/json reports only as
// "invalid character 'N'") is described by the row parser, which names the
// row and the number; any other by its line and column.
func objectError(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: %q is a JSON %s, want %s", position(data, int(te.Offset)), te.Field, te.Value, te.Type)
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			// Say which object, and what it may hold.
			if nerr := memberNames(data); nerr != nil {
				return nerr
			}
		}
		return err
	}
	if start := centroidsValue(data); start >= 0 && int(se.Offset) > start {
		if _, _, rerr := parseRows(data[start:], 0); rerr != nil {
			var re *rowsError
			// Only a problem the row parser finds where the JSON
			// parser did; it does not see where the array ends.
			if errors.As(rerr, &re) && re.err != errTrailing && start+re.off <= int(se.Offset) {
				return located(data, start, rerr)
			}
		}
	}
	return fmt.Errorf("%s: not valid JSON: %w", position(data, int(se.Offset)-1), err)
}

// centroidsValue is the offset of the value of the top-level "centroids"
// member, found by reading the object's tokens up to it; -1 if there is
// none before the syntax error.
func centroidsValue(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return -1
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return -1
		}
		if t == "centroids" {
			p := int(dec.InputOffset())
			for p < len(data) && (isSpace(data[p]) || data[p] == ':') {
				p++
			}
			return p
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return -1
		}
	}
	return -1
}

// memberNames checks the member names of the object and of its training
// object against the format's, spelled exactly.
func memberNames(data []byte) error {
	if err := exactNames(data, "format", "metric", "dim", "shards", "centroids", "shard_of", "training"); err != nil {
		return err
	}
	var raw struct {
		Training json.RawMessage `json:"training"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Training) == 0 || string(raw.Training) == "null" {
		return nil
	}
	if err := exactNames(raw.Training, "points", "iterations", "seed", "objective", "sizes", "source", "created"); err != nil {
		return fmt.Errorf("training: %w", err)
	}
	return nil
}

// exactNames reports an error if the JSON object obj has a member whose name
// is not one of names, spelled exactly.
func exactNames(obj []byte, names ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return err
	}
	for name := range m {
		if !slices.Contains(names, name) {
			return fmt.Errorf("unknown member %q (the members are %s)", name, strings.Join(names, ", "))
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, p int) int {
	for p < len(b) && isSpace(b[p]) {
		p++
	}
	return p
}

// afterElem reads what follows an array element ending at p: a ',' (more
// is true) or the closing ']' (more is false), skipping white space around
// either, and returns where the next token starts. ok is false for
// anything else, which then starts at p.
func afterElem(b []byte, p int) (next int, more, ok bool) {
	p = skipSpace(b, p)
	if p < len(b) && b[p] == ',' {
		return skipSpace(b, p+1), true, true
	}
	if p < len(b) && b[p] == ']' {
		return p + 1, false, true
	}
	return p, false, false
}

// parseRows parses a JSON array of arrays of numbers into rows sharing one
// backing array. want is the required row length, or 0 to take the first
// row's. It returns the rows and their length; trailing data is an error.
func parseRows(b []byte, want int) ([][]float32, int, error) {
	p := skipSpace(b, 0)
	if p == len(b) || b[p] != '[' {
		return nil, 0, rowsErr(p, "centroids: want '[' starting the array of rows")
	}
	p = skipSpace(b, p+1)
	var flat []float32
	var ends []int
	if p < len(b) && b[p] == ']' {
		p++
	} else {
		for row := 0; ; row++ {
			if p == len(b) || b[p] != '[' {
				return nil, 0, rowsErr(p, "row %d: want '[' starting a row of numbers", row)
			}
			p = skipSpace(b, p+1)
			start := len(flat)
			if p < len(b) && b[p] == ']' {
				p++
			} else {
				for {
					e, x, err := parseNumber(b, p)
					if err != nil {
						return nil, 0, rowsErr(p, "row %d: number %d: %w", row, len(flat)-start, err)
					}
					flat = append(flat, x)
					var more, ok bool
					if p, more, ok = afterElem(b, e); !ok {
						return nil, 0, rowsErr(p, "row %d: after number %d: want ',' or ']'", row, len(flat)-start-1)
					}
					if !more {
						break
					}
				}
			}
			n := len(flat) - start
			rowEnd := p - 1
			if want == 0 {
				want = n
				if n == 0 {
					return nil, 0, rowsErr(rowEnd, "row %d: has no numbers", row)
				}
			}
			if n != want {
				return nil, 0, rowsErr(rowEnd, "row %d: has %d numbers, want %d", row, n, want)
			}
			ends = append(ends, len(flat))
			var more, ok bool
			if p, more, ok = afterElem(b, p); !ok {
				return nil, 0, rowsErr(p, "after row %d: want ',' or ']'", row)
			}
			if !more {
				break
			}
		}
	}
	if p = skipSpace(b, p); p != len(b) {
		return nil, 0, &rowsError{off: p, err: errTrailing}
	}
	rows := make([][]float32, len(ends))
	start := 0
	for i, end := range ends {
		rows[i] = flat[start:end:end]
		start = end
	}
	return rows, want, nil
}

// parseNumber parses the JSON number at b[p:] as a float32 (one rounding,
// from decimal) and returns the offset after it.
func parseNumber(b []byte, p int) (int, float32, error) {
	s := p
	if p < len(b) && b[p] == '-' {
		p++
	}
	digits := func() int {
		d := p
		for p < len(b) && '0' <= b[p] && b[p] <= '9' {
			p++
		}
		return p - d
	}
	switch n := digits(); {
	case n == 0:
		for _, w := range []string{"NaN", "nan", "Infinity", "infinity", "Inf", "inf"} {
			if bytes.HasPrefix(b[p:], []byte(w)) {
				return 0, 0, fmt.Errorf("%s%s is not a finite number (JSON has none, and every centroid coordinate must be finite): retrain, or replace it", b[s:p], w)
			}
		}
		return 0, 0, errors.New("want a number")
	case n > 1 && b[p-n] == '0':
		return 0, 0, fmt.Errorf("%q: leading zero", b[s:p])
	}
	if p < len(b) && b[p] == '.' {
		p++
		if digits() == 0 {
			return 0, 0, fmt.Errorf("%q: want digits after '.'", b[s:p])
		}
	}
	if p < len(b) && (b[p] == 'e' || b[p] == 'E') {
		p++
		if p < len(b) && (b[p] == '+' || b[p] == '-') {
			p++
		}
		if digits() == 0 {
			return 0, 0, fmt.Errorf("%q: want digits in the exponent", b[s:p])
		}
	}
	x, err := strconv.ParseFloat(string(b[s:p]), 32)
	if err != nil { // the syntax is checked above: only strconv.ErrRange is left
		return 0, 0, fmt.Errorf("%s is out of float32 range", b[s:p])
	}
	return p, float32(x), nil
}

// validate checks the invariants New relies on.
func (f *File) validate() error {
	k := len(f.Centroids)
	switch {
	case !f.Metric.valid():
		return fmt.Errorf("unknown metric %v", f.Metric)
	case k == 0:
		return errors.New("no centroids")
	case f.Dim < 1:
		return fmt.Errorf("dim is %d, want at least 1", f.Dim)
	case f.Shards < 0:
		return fmt.Errorf("shards is %d, want at least 1", f.Shards)
	case f.Shards > k:
		return fmt.Errorf("%d centroids for %d shards: want at least one centroid per shard", k, f.Shards)
	}
	for i, c := range f.Centroids {
		if len(c) != f.Dim {
			return fmt.Errorf("row %d: has %d numbers, want %d", i, len(c), f.Dim)
		}
		for j, x := range c {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("row %d: number %d is %v", i, j, x)
			}
		}
	}
	if f.ShardOf == nil {
		return nil
	}
	shards := f.Shards
	if shards == 0 {
		shards = k
	}
	if len(f.ShardOf) != k {
		return fmt.Errorf("shard_of has %d entries, want one per centroid (%d)", len(f.ShardOf), k)
	}
	owned := make([]bool, shards)
	for i, s := range f.ShardOf {
		if f.Shards == 0 && s != i {
			// The bare form maps centroid i to i % (the pooler's shards).
			return fmt.Errorf("shard_of[%d] is %d without shards: the bare form maps centroid i to shard i modulo the shard count", i, s)
		}
		if s < 0 || s >= shards {
			return fmt.Errorf("shard_of[%d] is %d, want 0 <= shard < %d", i, s, shards)
		}
		owned[s] = true
	}
	for s, ok := range owned {
		if !ok {
			return fmt.Errorf("shard %d owns no centroid", s)
		}
	}
	return nil
}

// Marshal validates f and returns its object form: numbers in their
// shortest float32 round-trip form, one centroid per line, a final newline.
// Writing the bytes to a file (atomically, for the commands) is the
// caller's business: this package is linked into the plugins, which only
// read centroid files.
func (f *File) Marshal() ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	shards := f.Shards
	if shards == 0 {
		shards = len(f.Centroids)
	}
	b := make([]byte, 0, 128+len(f.Centroids)*(f.Dim*12+2))
	b = fmt.Appendf(b, "{\"format\":%q,\"metric\":%q,\"dim\":%d,\"shards\":%d,\n\"centroids\":", Format, f.Metric, f.Dim, shards)
	b = appendRows(b, f.Centroids)
	if f.ShardOf != nil {
		b = append(b, ",\n\"shard_of\":["...)
		for i, s := range f.ShardOf {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(s), 10)
		}
		b = append(b, ']')
	}
	if t := f.Training; t != nil {
		tj, err := json.Marshal(trainingJSON{t.Points, t.Iterations, t.Seed, t.Objective, t.Sizes, t.Source, t.Created})
		if err != nil {
			return nil, fmt.Errorf("training: %w", err)
		}
		b = append(b, ",\n\"training\":"...)
		b = append(b, tj...)
	}
	return append(b, "}\n"...), nil
}

// MarshalBare validates f and returns its centroids as PgDog's bare array
// of arrays, in the form Marshal writes them. The bare form has no metric,
// shard count or mapping: under a pooler of n shards it means centroid i is
// shard i % n, so MarshalBare refuses a File whose mapping is anything else
// under its own shard count (a shard_of other than i % Shards). The metric,
// shard count and training record are left out.
func (f *File) MarshalBare() ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	k := len(f.Centroids)
	n := f.Shards
	if n == 0 {
		n = k
	}
	for i, s := range f.ShardOf {
		if s != i%n {
			return nil, fmt.Errorf("bare form: centroid %d is on shard %d; the bare form means centroid i is shard i %% %d", i, s, n)
		}
	}
	b := make([]byte, 0, 2+k*(f.Dim*12+2))
	return append(appendRows(b, f.Centroids), '\n'), nil
}

func appendRows(b []byte, rows [][]float32) []byte {
	b = append(b, '[')
	for i, row := range rows {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, '[')
		for j, x := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}
