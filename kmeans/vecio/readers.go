package vecio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vecshard/vecshard/vecdecode"
)

// ParseVector decodes a pgvector text value ("[1,2,3]") or a PostgreSQL
// float array ("{1,2,3}") into dst[:0].
func ParseVector(dst []float32, b []byte) ([]float32, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		return parseArray(dst[:0], b)
	}
	return vecdecode.VectorText(dst, b)
}

// parseArray reads a one-dimensional float array in PostgreSQL's text form.
func parseArray(dst []float32, b []byte) ([]float32, error) {
	if len(b) < 2 || b[len(b)-1] != '}' {
		return dst, errors.New("malformed array literal: missing \"}\"")
	}
	body := b[1 : len(b)-1]
	if len(bytes.TrimSpace(body)) == 0 {
		return dst, errors.New("empty array")
	}
	for len(body) > 0 {
		var tok []byte
		if i := bytes.IndexByte(body, ','); i >= 0 {
			tok, body = body[:i], body[i+1:]
			if len(body) == 0 {
				return dst, errors.New("malformed array literal: trailing \",\"")
			}
		} else {
			tok, body = body, nil
		}
		tok = bytes.TrimSpace(tok)
		if len(tok) > 0 && tok[0] == '{' {
			return dst, errors.New("multidimensional arrays are not vectors")
		}
		v, err := strconv.ParseFloat(string(tok), 32)
		if err != nil {
			return dst, fmt.Errorf("bad array element %q", tok)
		}
		dst = append(dst, float32(v))
	}
	return dst, nil
}

// textReader reads one vector per line; blank lines are skipped.
type textReader struct {
	name string
	sc   *bufio.Scanner
	line int
}

func newTextReader(name string, r io.Reader) *textReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 64<<20)
	return &textReader{name: name, sc: sc}
}

func (t *textReader) pos() (string, string, int) { return t.name, "line", t.line }

func (t *textReader) Next(dst []float32) ([]float32, error) {
	for t.sc.Scan() {
		t.line++
		b := t.sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		v, err := ParseVector(dst, b)
		if err != nil {
			return v, &RowError{Source: t.name, Unit: "line", Row: t.line, Err: err}
		}
		return v, nil
	}
	if err := t.sc.Err(); err != nil {
		return dst[:0], &RowError{Source: t.name, Unit: "line", Row: t.line + 1, Err: err, Fatal: true}
	}
	return dst[:0], io.EOF
}

func (t *textReader) Close() error { return nil }

// csvReader takes one column of a CSV or TSV file.
type csvReader struct {
	name string
	r    *csv.Reader
	col  int
	line int
}

func newCSVReader(name string, r io.Reader, tsv bool, opt Options) (*csvReader, error) {
	cr := csv.NewReader(r)
	if tsv {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	c := &csvReader{name: name, r: cr}
	if opt.Column == "" {
		return nil, fmt.Errorf("%s: CSV/TSV input needs a column (name or 0-based index)", name)
	}
	idx, numErr := strconv.Atoi(opt.Column)
	byName := numErr != nil
	header := opt.Header || byName
	if !byName && idx < 0 {
		return nil, fmt.Errorf("column index %d is negative", idx)
	}
	c.col = idx
	if header {
		rec, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the header: %w", name, err)
		}
		c.line = 1
		if byName {
			c.col = -1
			for i, h := range rec {
				if strings.TrimSpace(h) == opt.Column {
					c.col = i
					break
				}
			}
			if c.col < 0 {
				return nil, fmt.Errorf("%s: line 1: no column %q in the header %q%s", name, opt.Column, strings.Join(rec, string(cr.Comma)), delimiterHint(rec, tsv))
			}
		}
	}
	return c, nil
}

func (c *csvReader) pos() (string, string, int) { return c.name, "line", c.line }

func (c *csvReader) Next(dst []float32) ([]float32, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return dst[:0], io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.line = pe.StartLine
			// encoding/csv resumes at the next line after a parse error.
			return dst[:0], &RowError{Source: c.name, Unit: "line", Row: pe.StartLine, Err: pe.Err}
		}
		return dst[:0], &RowError{Source: c.name, Unit: "line", Row: c.line + 1, Err: err, Fatal: true}
	}
	c.line, _ = c.r.FieldPos(0)
	if c.col >= len(rec) {
		return dst[:0], &RowError{Source: c.name, Unit: "line", Row: c.line, Err: fmt.Errorf("no column %d (the line has %d fields)%s", c.col, len(rec), delimiterHint(rec, c.r.Comma == '\t'))}
	}
	v, err := ParseVector(dst, []byte(rec[c.col]))
	if err != nil {
		return v, &RowError{Source: c.name, Unit: "line", Row: c.line, Err: err}
	}
	return v, nil
}

func (c *csvReader) Close() error { return nil }

// fvecsReader reads little-endian (int32 dim, dim x float32) records.
type fvecsReader struct {
	name string
	r    *bufio.Reader
	rec  int
	raw  []byte
}

func (f *fvecsReader) pos() (string, string, int) { return f.name, "record", f.rec }

func (f *fvecsReader) Next(dst []float32) ([]float32, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		if err == io.EOF {
			return dst[:0], io.EOF
		}
		return dst[:0], &RowError{Source: f.name, Unit: "record", Row: f.rec + 1, Err: errors.New("truncated dimension"), Fatal: true}
	}
	f.rec++
	d := int32(binary.LittleEndian.Uint32(hdr[:]))
	if d < 1 || d > vecdecode.MaxDim {
		return dst[:0], &RowError{Source: f.name, Unit: "record", Row: f.rec, Err: fmt.Errorf("bad dimension %d", d), Fatal: true}
	}
	n := int(d) * 4
	if cap(f.raw) < n {
		f.raw = make([]byte, n)
	}
	raw := f.raw[:n]
	if _, err := io.ReadFull(f.r, raw); err != nil {
		return dst[:0], &RowError{Source: f.name, Unit: "record", Row: f.rec, Err: fmt.Errorf("truncated: %d dimensions announced", d), Fatal: true}
	}
	dst = dst[:0]
	for i := 0; i < n; i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
	}
	return dst, nil
}

func (f *fvecsReader) Close() error { return nil }

// matrixReader reads fixed-size rows of a dense array (npy, IDX).
type matrixReader struct {
	name  string
	unit  string
	r     io.Reader
	rows  int
	dim   int
	size  int // bytes per element
	conv  func(dst []float32, raw []byte) []float32
	row   int
	raw   []byte
	block []byte // several rows read at once
	off   int
}

func (m *matrixReader) pos() (string, string, int) { return m.name, m.unit, m.row }
func (m *matrixReader) rowsHint() (int, int)       { return m.rows, m.dim }

func (m *matrixReader) Next(dst []float32) ([]float32, error) {
	if m.row >= m.rows {
		return dst[:0], io.EOF
	}
	rowBytes := m.dim * m.size
	if m.off >= len(m.block) {
		// Read up to 1 MiB of whole rows at a time.
		nr := min(m.rows-m.row, max(1, (1<<20)/rowBytes))
		if cap(m.raw) < nr*rowBytes {
			m.raw = make([]byte, nr*rowBytes)
		}
		m.block = m.raw[:nr*rowBytes]
		m.off = 0
		if n, err := io.ReadFull(m.r, m.block); err != nil {
			return dst[:0], &RowError{Source: m.name, Unit: m.unit, Row: m.row + n/rowBytes + 1,
				Err: fmt.Errorf("truncated: the header announces %d rows", m.rows), Fatal: true}
		}
	}
	m.row++
	raw := m.block[m.off : m.off+rowBytes]
	m.off += rowBytes
	return m.conv(dst[:0], raw), nil
}

func (m *matrixReader) Close() error { return nil }

func newIDXReader(name string, r io.Reader) (*matrixReader, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%s: not an IDX file: %w", name, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[3] < 1 {
		return nil, fmt.Errorf("%s: not an IDX file (magic % x)", name, hdr)
	}
	dims := make([]byte, 4*int(hdr[3]))
	if _, err := io.ReadFull(r, dims); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header", name)
	}
	m := &matrixReader{name: name, unit: "row", r: r, dim: 1}
	for i := 0; i < int(hdr[3]); i++ {
		n := int(binary.BigEndian.Uint32(dims[4*i:]))
		if i == 0 {
			m.rows = n
		} else if m.dim *= n; m.dim > vecdecode.MaxDim {
			break // checked below; stop before the product can overflow
		}
	}
	if m.dim < 1 || m.dim > vecdecode.MaxDim {
		return nil, fmt.Errorf("%s: IDX rows have %d values (want 1..%d)", name, m.dim, vecdecode.MaxDim)
	}
	switch hdr[2] {
	case 0x08:
		m.size, m.conv = 1, func(dst []float32, raw []byte) []float32 {
			for _, b := range raw {
				dst = append(dst, float32(b))
			}
			return dst
		}
	case 0x09:
		m.size, m.conv = 1, func(dst []float32, raw []byte) []float32 {
			for _, b := range raw {
				dst = append(dst, float32(int8(b)))
			}
			return dst
		}
	case 0x0B:
		m.size, m.conv = 2, func(dst []float32, raw []byte) []float32 {
			for i := 0; i < len(raw); i += 2 {
				dst = append(dst, float32(int16(binary.BigEndian.Uint16(raw[i:]))))
			}
			return dst
		}
	case 0x0C:
		m.size, m.conv = 4, func(dst []float32, raw []byte) []float32 {
			for i := 0; i < len(raw); i += 4 {
				dst = append(dst, float32(int32(binary.BigEndian.Uint32(raw[i:]))))
			}
			return dst
		}
	case 0x0D:
		m.size, m.conv = 4, f32conv(binary.BigEndian)
	case 0x0E:
		m.size, m.conv = 8, f64conv(binary.BigEndian)
	default:
		return nil, fmt.Errorf("%s: unknown IDX element type 0x%02x", name, hdr[2])
	}
	return m, nil
}

func f32conv(o binary.ByteOrder) func([]float32, []byte) []float32 {
	return func(dst []float32, raw []byte) []float32 {
		for i := 0; i < len(raw); i += 4 {
			dst = append(dst, math.Float32frombits(o.Uint32(raw[i:])))
		}
		return dst
	}
}

func f64conv(o binary.ByteOrder) func([]float32, []byte) []float32 {
	return func(dst []float32, raw []byte) []float32 {
		for i := 0; i < len(raw); i += 8 {
			dst = append(dst, float32(math.Float64frombits(o.Uint64(raw[i:]))))
		}
		return dst
	}
}

// newNpyReader reads a NumPy .npy file (format versions 1-3) holding a
// 2-D float32 or float64 array in C order.
func newNpyReader(name string, r io.Reader) (*matrixReader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not a .npy file", name)
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%s: truncated .npy header", name)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%s: truncated .npy header", name)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("%s: unsupported .npy version %d", name, pre[6])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("%s: .npy header of %d bytes", name, hlen)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, fmt.Errorf("%s: truncated .npy header", name)
	}
	hdr := string(h)
	descr, err := npyField(hdr, "descr")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m := &matrixReader{name: name, unit: "row", r: r}
	switch strings.Trim(descr, `'" `) {
	case "<f4", "=f4", "f4", "float32":
		m.size, m.conv = 4, f32conv(binary.LittleEndian)
	case ">f4":
		m.size, m.conv = 4, f32conv(binary.BigEndian)
	case "<f8", "=f8", "f8", "float64":
		m.size, m.conv = 8, f64conv(binary.LittleEndian)
	case ">f8":
		m.size, m.conv = 8, f64conv(binary.BigEndian)
	default:
		return nil, fmt.Errorf("%s: .npy dtype %s (want float32 or float64)", name, descr)
	}
	if fo, err := npyField(hdr, "fortran_order"); err != nil || strings.TrimSpace(fo) != "False" {
		return nil, fmt.Errorf("%s: .npy array must be in C order (fortran_order False)", name)
	}
	shape, err := npyField(hdr, "shape")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var dims []int
	for _, f := range strings.Split(strings.Trim(shape, "() "), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: bad .npy shape %s", name, shape)
		}
		dims = append(dims, n)
	}
	if len(dims) != 2 || dims[1] < 1 || dims[1] > vecdecode.MaxDim {
		return nil, fmt.Errorf("%s: .npy shape %s is not (rows, 1..%d)", name, shape, vecdecode.MaxDim)
	}
	m.rows, m.dim = dims[0], dims[1]
	return m, nil
}

// npyField returns the text of one value of the header's Python dict.
func npyField(hdr, key string) (string, error) {
	i := strings.Index(hdr, "'"+key+"'")
	if i < 0 {
		return "", fmt.Errorf(".npy header has no %q", key)
	}
	rest := strings.TrimSpace(hdr[i+len(key)+2:])
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	if strings.HasPrefix(rest, "(") {
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return "", errors.New(".npy header: unclosed shape")
		}
		return rest[:j+1], nil
	}
	j := strings.IndexAny(rest, ",}")
	if j < 0 {
		return "", fmt.Errorf(".npy header: bad %q", key)
	}
	return strings.TrimSpace(rest[:j]), nil
}

// delimiterHint explains a record of one field that contains the other
// format's delimiter: a CSV file read as TSV, or a TSV file read as CSV.
func delimiterHint(rec []string, tsv bool) string {
	if len(rec) != 1 {
		return ""
	}
	switch {
	case tsv && strings.Contains(rec[0], ","):
		return ": the line is one tab-separated field with commas in it; is this a CSV file? give --format csv"
	case !tsv && strings.Contains(rec[0], "\t"):
		return ": the line is one comma-separated field with tabs in it; is this a TSV file? give --format tsv"
	}
	return ""
}
