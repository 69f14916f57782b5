package copyfmt

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// N marks a NULL field in the expected rows.
const N = "\x00NULL"

type wantRow struct {
	raw    string
	fields []string // N for NULL
	line   int
}

var readTests = []struct {
	name string
	opt  Options
	in   string
	rows []wantRow
	err  string // substring of the error after the rows
}{
	{
		name: "text basic",
		in:   "1\t[1,2]\tx\n2\t[3,4]\ty\n",
		rows: []wantRow{
			{"1\t[1,2]\tx\n", []string{"1", "[1,2]", "x"}, 1},
			{"2\t[3,4]\ty\n", []string{"2", "[3,4]", "y"}, 2},
		},
	},
	{
		name: "text no final newline",
		in:   "1\ta\n2\tb",
		rows: []wantRow{
			{"1\ta\n", []string{"1", "a"}, 1},
			{"2\tb", []string{"2", "b"}, 2},
		},
	},
	{
		name: "text escapes",
		in:   "a\\tb\\nc\\\\d\\\te\t\\101\\x41\\x4a\\xg\\q\t\\N\t\\\\N\tN\t\n",
		rows: []wantRow{{
			"a\\tb\\nc\\\\d\\\te\t\\101\\x41\\x4a\\xg\\q\t\\N\t\\\\N\tN\t\n",
			[]string{"a\tb\nc\\d\te", "AAJxgq", N, "\\N", "N", ""}, 1,
		}},
	},
	{
		name: "text octal stops after three digits and at non-octal",
		in:   "\\0101\t\\18\t\\b\\f\\r\\v\n",
		rows: []wantRow{{"\\0101\t\\18\t\\b\\f\\r\\v\n", []string{"\x081", "\x018", "\b\f\r\v"}, 1}},
	},
	{
		name: "text escaped newline is data",
		in:   "1\tline one\\\nline two\n2\tx\n",
		rows: []wantRow{
			{"1\tline one\\\nline two\n", []string{"1", "line one\nline two"}, 1},
			{"2\tx\n", []string{"2", "x"}, 3},
		},
	},
	{
		name: "text CRLF",
		in:   "1\ta\r\n2\tb\r\n",
		rows: []wantRow{
			{"1\ta\r\n", []string{"1", "a"}, 1},
			{"2\tb\r\n", []string{"2", "b"}, 2},
		},
	},
	{
		name: "text CR",
		in:   "1\ta\r2\tb\r",
		rows: []wantRow{
			{"1\ta\r", []string{"1", "a"}, 1},
			{"2\tb\r", []string{"2", "b"}, 2},
		},
	},
	{
		name: "text CR in NL file",
		in:   "1\ta\n2\tb\rc\n",
		rows: []wantRow{{"1\ta\n", []string{"1", "a"}, 1}},
		err:  `line 2 (row 2): literal carriage return found in data`,
	},
	{
		name: "text NL in CRLF file",
		in:   "1\ta\r\n2\tb\n",
		rows: []wantRow{{"1\ta\r\n", []string{"1", "a"}, 1}},
		err:  `line 2 (row 2): literal newline found in data`,
	},
	{
		name: "text lone CR in CRLF file",
		in:   "1\ta\r\n2\tb\rc\r\n",
		rows: []wantRow{{"1\ta\r\n", []string{"1", "a"}, 1}},
		err:  `literal carriage return found in data`,
	},
	{
		name: "text empty lines are one empty field",
		in:   "\n\n",
		rows: []wantRow{{"\n", []string{""}, 1}, {"\n", []string{""}, 2}},
	},
	{
		name: "text end marker",
		in:   "1\ta\n\\.\n2\tb\n",
		rows: []wantRow{{"1\ta\n", []string{"1", "a"}, 1}},
		err:  `line 2 (row 2): end-of-data marker \. found`,
	},
	{
		name: "text end marker inside a line",
		in:   "1\ta\\.b\n",
		err:  `end-of-data marker`,
	},
	{
		name: "text header and custom delimiter and null",
		opt:  Options{Delimiter: '|', Null: "NULL", NullSet: true, Header: true},
		in:   "id|name\n1|NULL\n2|\\N\n",
		rows: []wantRow{
			{"id|name\n", []string{"id", "name"}, 1},
			{"1|NULL\n", []string{"1", N}, 2},
			{"2|\\N\n", []string{"2", "N"}, 3},
		},
	},
	{
		name: "csv basic",
		opt:  Options{Format: CSV},
		in:   "1,\"[1,2]\",x\n2,\"[3,4]\",\n",
		rows: []wantRow{
			{"1,\"[1,2]\",x\n", []string{"1", "[1,2]", "x"}, 1},
			{"2,\"[3,4]\",\n", []string{"2", "[3,4]", N}, 2},
		},
	},
	{
		name: "csv quotes",
		opt:  Options{Format: CSV},
		in:   "\"\",\"a\"\"b\",a\"b,c\"d,\"multi\nline\r\nfield\",\\N,\"\\N\"\n3,x\n",
		rows: []wantRow{
			{"\"\",\"a\"\"b\",a\"b,c\"d,\"multi\nline\r\nfield\",\\N,\"\\N\"\n",
				[]string{"", "a\"b", "ab,cd", "multi\nline\r\nfield", "\\N", "\\N"}, 1},
			{"3,x\n", []string{"3", "x"}, 4},
		},
	},
	{
		name: "csv unquoted empty is NULL, quoted empty is not",
		opt:  Options{Format: CSV},
		in:   ",\"\",\n",
		rows: []wantRow{{",\"\",\n", []string{N, "", N}, 1}},
	},
	{
		name: "csv NULL option",
		opt:  Options{Format: CSV, Null: `\N`, NullSet: true},
		in:   "\\N,,\"\\N\"\n",
		rows: []wantRow{{"\\N,,\"\\N\"\n", []string{N, "", "\\N"}, 1}},
	},
	{
		name: "csv custom escape",
		opt:  Options{Format: CSV, Escape: '\\'},
		in:   "\"a\\\"b\\\\c\\d\"\n",
		rows: []wantRow{{"\"a\\\"b\\\\c\\d\"\n", []string{"a\"b\\c\\d"}, 1}},
	},
	{
		name: "csv semicolon delimiter and CRLF",
		opt:  Options{Format: CSV, Delimiter: ';', Header: true},
		in:   "id;v\r\n1;\"[1;2]\"\r\n",
		rows: []wantRow{
			{"id;v\r\n", []string{"id", "v"}, 1},
			{"1;\"[1;2]\"\r\n", []string{"1", "[1;2]"}, 2},
		},
	},
	{
		name: "csv unterminated quote",
		opt:  Options{Format: CSV},
		in:   "1,a\n2,\"b\n3,c\n",
		rows: []wantRow{{"1,a\n", []string{"1", "a"}, 1}},
		err:  "line 2 (row 2): unterminated CSV quoted field",
	},
	{
		name: "csv CR in NL file",
		opt:  Options{Format: CSV},
		in:   "1,a\n2,b\r3\n",
		rows: []wantRow{{"1,a\n", []string{"1", "a"}, 1}},
		err:  "unquoted carriage return found in data",
	},
	{
		name: "csv quoted CR in NL file is data",
		opt:  Options{Format: CSV},
		in:   "1,\"a\rb\"\n",
		rows: []wantRow{{"1,\"a\rb\"\n", []string{"1", "a\rb"}, 1}},
	},
	{
		name: "csv end marker",
		opt:  Options{Format: CSV},
		in:   "1,a\n\\.\n",
		rows: []wantRow{{"1,a\n", []string{"1", "a"}, 1}},
		err:  `end-of-data marker`,
	},
	{
		name: "csv end marker at end without newline",
		opt:  Options{Format: CSV},
		in:   "1,a\n\\.",
		rows: []wantRow{{"1,a\n", []string{"1", "a"}, 1}},
		err:  `end-of-data marker`,
	},
	{
		name: "csv end marker at a line start inside quotes",
		opt:  Options{Format: CSV},
		in:   "1,\"a\n\\.\nb\"\n",
		err:  `end-of-data marker`,
	},
	{
		name: "csv backslash-period that is data",
		opt:  Options{Format: CSV},
		in:   "\\.x,a\\.\n",
		rows: []wantRow{{"\\.x,a\\.\n", []string{"\\.x", "a\\."}, 1}},
	},
}

func readAll(t *testing.T, src io.Reader, opt Options) ([]wantRow, error) {
	t.Helper()
	r, err := NewReader(src, opt)
	if err != nil {
		t.Fatal(err)
	}
	var got []wantRow
	for {
		row, err := r.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		vals, nulls := row.Fields()
		for i, null := range nulls {
			if null {
				vals[i] = N
			}
		}
		got = append(got, wantRow{string(row.Raw), vals, row.Line})
	}
}

func TestRead(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			readers := map[string]func() io.Reader{
				"whole":    func() io.Reader { return strings.NewReader(tt.in) },
				"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.in)) },
				"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(tt.in)) },
			}
			for name, mk := range readers {
				got, err := readAll(t, mk(), tt.opt)
				if !reflect.DeepEqual(got, tt.rows) && !(len(got) == 0 && len(tt.rows) == 0) {
					t.Errorf("%s: rows\n got %#v\nwant %#v", name, got, tt.rows)
				}
				switch {
				case tt.err == "" && err != nil:
					t.Errorf("%s: unexpected error %v", name, err)
				case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
					t.Errorf("%s: error %v, want one containing %q", name, err, tt.err)
				}
				if err != nil {
					var e *Error
					if !errors.As(err, &e) {
						t.Errorf("%s: error %T is not an *Error", name, err)
					}
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	bad := []Options{
		{Format: 7},
		{Format: CSV, Delimiter: '"'},
		{Format: Text, Quote: '\''},
		{Delimiter: '\n'},
		{Delimiter: '\\'},
		{Delimiter: 'n'},
		{Delimiter: '.'},
		{Null: "a\nb", NullSet: true},
		{Null: "a\tb", NullSet: true},
		{Format: CSV, Null: `"`, NullSet: true},
	}
	for _, o := range bad {
		if _, err := NewReader(strings.NewReader(""), o); err == nil {
			t.Errorf("NewReader(%+v) accepted", o)
		}
	}
	r, err := NewReader(strings.NewReader(""), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if o := r.Options(); o.Delimiter != ',' || o.Quote != '"' || o.Escape != '"' || o.Null != "" {
		t.Errorf("CSV defaults: %+v", o)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("empty input: %v, want io.EOF", err)
	}
}

// TestLongRows checks rows much longer than the read buffer: their raw
// bytes and fields come back whole.
func TestLongRows(t *testing.T) {
	var in bytes.Buffer
	var want []string
	for i := 0; i < 3; i++ {
		v := "[" + strings.Repeat("0.123456,", 100000) + "1]"
		want = append(want, v)
		in.WriteString("1,\"" + v + "\"\n")
	}
	got, err := readAll(t, bytes.NewReader(in.Bytes()), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var raw strings.Builder
	for i, row := range got {
		raw.WriteString(row.raw)
		if row.fields[1] != want[i] {
			t.Errorf("row %d: field of %d bytes, want %d", i, len(row.fields[1]), len(want[i]))
		}
	}
	if raw.String() != in.String() {
		t.Error("raw rows do not add up to the input")
	}
}

// FuzzRead checks that any input either reads completely, with the rows'
// raw bytes adding up to the input exactly, or fails; and that how the
// input is chunked changes nothing.
func FuzzRead(f *testing.F) {
	for _, tt := range readTests {
		f.Add(tt.in, tt.opt.Format == CSV, tt.opt.Header)
	}
	f.Fuzz(func(t *testing.T, in string, csv, header bool) {
		opt := Options{Header: header}
		if csv {
			opt.Format = CSV
		}
		got, err := readAll(t, strings.NewReader(in), opt)
		got1, err1 := readAll(t, iotest.OneByteReader(strings.NewReader(in)), opt)
		if !reflect.DeepEqual(got, got1) || (err == nil) != (err1 == nil) {
			t.Fatalf("chunking changes the result: %#v %v vs %#v %v", got, err, got1, err1)
		}
		if err != nil {
			return
		}
		var raw strings.Builder
		for _, row := range got {
			raw.WriteString(row.raw)
			if len(row.fields) == 0 {
				t.Fatalf("row with no fields: %q", row.raw)
			}
		}
		if raw.String() != in {
			t.Fatalf("rows %#v do not add up to the input %q", got, in)
		}
	})
}

// BenchmarkRead reads 1000 CSV rows of a 768-dimensional vector each.
func BenchmarkRead(b *testing.B) {
	var in strings.Builder
	for i := 0; i < 1000; i++ {
		in.WriteString("42,\"[")
		for j := 0; j < 768; j++ {
			if j > 0 {
				in.WriteByte(',')
			}
			in.WriteString("-0.012345")
		}
		in.WriteString("]\",some title\n")
	}
	data := in.String()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(strings.NewReader(data), Options{Format: CSV})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
