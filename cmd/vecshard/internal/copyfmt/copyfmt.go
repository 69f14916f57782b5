// Package copyfmt reads the two row formats of PostgreSQL's COPY FROM,
// text and CSV, one row at a time, giving each row's raw bytes (exactly as
// they appear in the input, line terminator included) and its parsed
// fields.
//
// The rules are the server's (src/backend/commands/copyfromparse.c):
//
//   - Rows end at a line feed, a carriage return followed by a line feed, or a
//     lone carriage return; the first row fixes which, and a different
//     terminator later is an error ("literal carriage return found in data").
//     The last row may end at the end of the input instead.
//   - Text: fields are split at the delimiter (tab by default). A backslash
//     escapes the next byte: \b \f \n \r \t \v, \NNN (1-3 octal digits),
//     \xHH (1-2 hex digits), and any other byte stands for itself, including
//     the delimiter, a backslash and a literal line feed. A field whose raw
//     bytes equal the NULL string (\N by default) is NULL.
//   - CSV: fields are split at the delimiter (comma by default); a quote
//     (") starts and ends a quoted section in which delimiters and line
//     terminators are data and the escape (by default the quote itself)
//     followed by a quote or an escape stands for that byte. An unquoted
//     field equal to the NULL string (empty by default) is NULL; a quoted
//     empty field is the empty string.
//
// The end-of-data marker \. is refused rather than honoured: a splitter that
// stopped there would silently drop everything after it.
package copyfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Format is a COPY format.
type Format uint8

// The COPY formats.
const (
	Text Format = iota
	CSV
)

// String returns COPY's name of the format: "text" or "csv".
func (f Format) String() string {
	if f == CSV {
		return "csv"
	}
	return "text"
}

// Options are the COPY options that change how rows are read. The zero
// value of each byte option means COPY's default for the format.
type Options struct {
	Format    Format
	Delimiter byte // text: '\t', CSV: ','
	Quote     byte // CSV only: '"'
	Escape    byte // CSV only: the quote
	// Null is the string that reads as NULL: text `\N`, CSV "" (an unquoted
	// empty field). NullSet says Null was given; without it the default
	// applies.
	Null    string
	NullSet bool
	Header  bool // the first line is a header
}

// normalize fills in defaults and checks the combination as COPY does.
func (o *Options) normalize() error {
	if o.Format != Text && o.Format != CSV {
		return fmt.Errorf("copyfmt: unknown format %d", o.Format)
	}
	if o.Delimiter == 0 {
		o.Delimiter = '\t'
		if o.Format == CSV {
			o.Delimiter = ','
		}
	}
	if !o.NullSet {
		o.Null = `\N`
		if o.Format == CSV {
			o.Null = ""
		}
	}
	if o.Format == CSV {
		if o.Quote == 0 {
			o.Quote = '"'
		}
		if o.Escape == 0 {
			o.Escape = o.Quote
		}
		if o.Delimiter == o.Quote {
			return errors.New("COPY delimiter and quote must be different")
		}
	} else if o.Quote != 0 || o.Escape != 0 {
		return errors.New("COPY quote and escape are available only in CSV mode")
	}
	switch o.Delimiter {
	case '\r', '\n':
		return errors.New("COPY delimiter cannot be newline or carriage return")
	case '\\':
		if o.Format == Text {
			return errors.New(`COPY delimiter cannot be backslash`)
		}
	}
	if o.Format == Text && o.Delimiter != 0 && (o.Delimiter >= 'a' && o.Delimiter <= 'z' || o.Delimiter >= '0' && o.Delimiter <= '9' || o.Delimiter == '.') {
		// These would be read as escapes (\n, \1, \.) after a backslash.
		return fmt.Errorf("COPY delimiter cannot be %q", o.Delimiter)
	}
	if bytes.ContainsAny([]byte(o.Null), "\r\n") {
		return errors.New("COPY null representation cannot use newline or carriage return")
	}
	if bytes.IndexByte([]byte(o.Null), o.Delimiter) >= 0 {
		return errors.New("COPY delimiter must not appear in the NULL specification")
	}
	if o.Format == CSV && bytes.IndexByte([]byte(o.Null), o.Quote) >= 0 {
		return errors.New("CSV quote character must not appear in the NULL specification")
	}
	return nil
}

// Error is a malformed row, located by its line in the input.
type Error struct {
	Line int // 1-based line where the row starts
	Row  int // 1-based data row (the header is row 0)
	Msg  string
}

func (e *Error) Error() string {
	if e.Row == 0 {
		return fmt.Sprintf("line %d (header): %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d (row %d): %s", e.Line, e.Row, e.Msg)
}

// Row is one row. It and every slice it returns are valid until the next
// call of Reader.Next.
type Row struct {
	// Raw is the row's bytes exactly as read, line terminator included (the
	// last row of an input may lack one).
	Raw  []byte
	Line int // 1-based line where the row starts
	N    int // 1-based data row number; the header is 0

	dec   []byte // decoded field bytes, back to back
	ends  []int  // end of field i in dec
	nulls []bool
}

// NumFields is the number of fields in the row.
func (r *Row) NumFields() int { return len(r.ends) }

// Field returns field i decoded (escapes and quotes removed), and whether it
// is NULL.
func (r *Row) Field(i int) (value []byte, null bool) {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.dec[start:r.ends[i]], r.nulls[i]
}

// Fields returns every field as a string (copies), and whether each is NULL
// (its value is then "").
func (r *Row) Fields() (values []string, nulls []bool) {
	values = make([]string, r.NumFields())
	for i := range values {
		v, _ := r.Field(i)
		values[i] = string(v)
	}
	return values, append([]bool(nil), r.nulls...)
}

type eolType uint8

const (
	eolUnknown eolType = iota
	eolNL
	eolCR
	eolCRNL
)

// Reader reads rows from an io.Reader in constant memory: one input buffer
// plus the largest row seen.
type Reader struct {
	src  io.Reader
	opt  Options
	rerr error // sticky read error (io.EOF at the end)

	buf   []byte // input chunk; buf[pos:end] is unread
	pos   int
	end   int
	start int    // offset in buf where the current row begins
	carry []byte // bytes of the current row from earlier chunks

	eol    eolType
	line   int // current line, 1-based
	rows   int // data rows returned
	header bool
	marker bool // the current row holds the end-of-data marker
	row    Row
	err    error // sticky parse error
}

// bufSize is the input chunk size: large enough that most rows, even of
// 1536-dimensional vectors in text, fit one chunk and are returned without a
// copy.
const bufSize = 256 << 10

// NewReader returns a Reader of src with the options opt.
func NewReader(src io.Reader, opt Options) (*Reader, error) {
	if err := opt.normalize(); err != nil {
		return nil, err
	}
	return &Reader{src: src, opt: opt, buf: make([]byte, bufSize), line: 1, header: opt.Header}, nil
}

// Options returns the options in effect, defaults filled in.
func (r *Reader) Options() Options { return r.opt }

// Next returns the next row: the header first when Options.Header is set
// (with Row.N == 0), then the data rows. At the end of the input it returns
// io.EOF. A malformed row is an *Error; reading stops there.
func (r *Reader) Next() (*Row, error) {
	if r.err != nil {
		return nil, r.err
	}
	row, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return row, nil
}

// getc returns the next input byte; ok is false at the end of the input.
func (r *Reader) getc() (c byte, ok bool) {
	if r.pos < r.end {
		c = r.buf[r.pos]
		r.pos++
		return c, true
	}
	return r.getcSlow()
}

// ungetc steps back over the byte getc just returned; it is always still in
// the buffer, because a refill keeps nothing of the old chunk but moves the
// new byte to the front.
func (r *Reader) ungetc() { r.pos-- }

func (r *Reader) getcSlow() (byte, bool) {
	// Keep the current row's bytes of this chunk, then refill.
	r.carry = append(r.carry, r.buf[r.start:r.end]...)
	r.start, r.pos, r.end = 0, 0, 0
	for r.rerr == nil && r.end == 0 {
		var n int
		n, r.rerr = r.src.Read(r.buf)
		r.end = n
	}
	if r.end == 0 {
		return 0, false
	}
	c := r.buf[0]
	r.pos = 1
	return c, true
}

// rowRaw returns the bytes of the current row read so far.
func (r *Reader) rowRaw() []byte {
	if len(r.carry) == 0 {
		return r.buf[r.start:r.pos]
	}
	r.carry = append(r.carry, r.buf[r.start:r.pos]...)
	r.start = r.pos
	return r.carry
}

func (r *Reader) fail(row *Row, format string, args ...any) error {
	return &Error{Line: row.Line, Row: row.N, Msg: fmt.Sprintf(format, args...)}
}

// endLine handles a line terminator c ('\r' or '\n', already read outside
// any quotes) as the server does: the first one fixes the style of the
// input, and any other style later is an error.
func (r *Reader) endLine(row *Row, c byte) error {
	csv := r.opt.Format == CSV
	if c == '\r' {
		if r.eol == eolUnknown || r.eol == eolCRNL {
			c2, ok := r.getc()
			if ok && c2 == '\n' {
				r.eol = eolCRNL
				r.line++
				return nil
			}
			if ok {
				r.ungetc()
			}
			if r.eol == eolCRNL {
				return r.crError(row, csv)
			}
			r.eol = eolCR
			r.line++
			return nil
		}
		if r.eol == eolNL {
			return r.crError(row, csv)
		}
		r.line++ // eolCR
		return nil
	}
	if r.eol == eolCR || r.eol == eolCRNL {
		if csv {
			return r.fail(row, "unquoted newline found in data (use quoted CSV field to represent newline)")
		}
		return r.fail(row, `literal newline found in data (use "\n" to represent newline)`)
	}
	r.eol = eolNL
	r.line++
	return nil
}

func (r *Reader) crError(row *Row, csv bool) error {
	if csv {
		return r.fail(row, "unquoted carriage return found in data (use quoted CSV field to represent carriage return)")
	}
	return r.fail(row, `literal carriage return found in data (use "\r" to represent carriage return)`)
}

// field is the state of the field being read.
type field struct {
	nullMatch int  // raw bytes matched against the NULL string, -1 once they differ
	quoted    bool // CSV: the field had a quoted section
}

func (r *Reader) rawByte(f *field, c byte) {
	if f.nullMatch >= 0 && f.nullMatch < len(r.opt.Null) && r.opt.Null[f.nullMatch] == c {
		f.nullMatch++
	} else {
		f.nullMatch = -1
	}
}

// copyUntil appends to row.dec the buffered bytes from the read position up
// to the first a, b, '\n' or '\r' (or the end of the chunk) and consumes
// them: a run of bytes that need no look is copied in one go, not a getc
// each.
func (r *Reader) copyUntil(row *Row, a, b byte) {
	buf, i := r.buf[:r.end], r.pos
	for i < len(buf) {
		if c := buf[i]; c == a || c == b || c == '\n' || c == '\r' {
			break
		}
		i++
	}
	row.dec = append(row.dec, buf[r.pos:i]...)
	r.pos = i
}

func (r *Reader) endField(row *Row, f *field) {
	row.ends = append(row.ends, len(row.dec))
	row.nulls = append(row.nulls, !f.quoted && f.nullMatch == len(r.opt.Null))
	*f = field{}
}

func (r *Reader) next() (*Row, error) {
	row := &r.row
	row.dec, row.ends, row.nulls = row.dec[:0], row.ends[:0], row.nulls[:0]
	r.carry = r.carry[:0]
	r.start = r.pos
	r.marker = false
	row.Line = r.line
	if r.header {
		row.N = 0
	} else {
		row.N = r.rows + 1
	}
	if _, ok := r.getc(); !ok {
		if r.rerr != nil && r.rerr != io.EOF {
			return nil, r.rerr
		}
		return nil, io.EOF
	}
	r.ungetc()
	var err error
	if r.opt.Format == CSV {
		err = r.readCSV(row)
	} else {
		err = r.readText(row)
	}
	if err != nil {
		return nil, err
	}
	if r.rerr != nil && r.rerr != io.EOF {
		return nil, r.rerr
	}
	if r.marker {
		// Splitting must not stop where COPY would: refuse instead.
		return nil, r.fail(row, `end-of-data marker \. found: COPY would stop reading here; remove it and anything after it`)
	}
	row.Raw = r.rowRaw()
	if r.header {
		r.header = false
	} else {
		r.rows++
	}
	return row, nil
}

func (r *Reader) readText(row *Row) error {
	delim := r.opt.Delimiter
	var f field
	for {
		c, ok := r.getc()
		if !ok {
			r.endField(row, &f)
			return nil
		}
		switch c {
		case delim:
			r.endField(row, &f)
		case '\n', '\r':
			r.endField(row, &f)
			return r.endLine(row, c)
		case '\\':
			r.rawByte(&f, c)
			c, ok = r.getc()
			if !ok {
				// A backslash at the very end: the server drops it.
				r.endField(row, &f)
				return nil
			}
			r.rawByte(&f, c)
			r.unescape(row, &f, c)
		default:
			r.rawByte(&f, c)
			row.dec = append(row.dec, c)
			if f.nullMatch < 0 {
				r.copyUntil(row, delim, '\\')
			}
		}
	}
}

// unescape decodes the escape sequence whose byte after the backslash is c.
func (r *Reader) unescape(row *Row, f *field, c byte) {
	switch c {
	case '.':
		// The server ends the input here; next refuses the row.
		r.marker = true
		row.dec = append(row.dec, '.')
	case 'b':
		row.dec = append(row.dec, '\b')
	case 'f':
		row.dec = append(row.dec, '\f')
	case 'n':
		row.dec = append(row.dec, '\n')
	case 'r':
		row.dec = append(row.dec, '\r')
	case 't':
		row.dec = append(row.dec, '\t')
	case 'v':
		row.dec = append(row.dec, '\v')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := c - '0'
		for n := 1; n < 3; n++ {
			d, ok := r.getc()
			if !ok {
				break
			}
			if d < '0' || d > '7' {
				r.ungetc()
				break
			}
			r.rawByte(f, d)
			v = v<<3 | (d - '0')
		}
		row.dec = append(row.dec, v)
	case 'x':
		var v byte
		n := 0
		for ; n < 2; n++ {
			d, ok := r.getc()
			if !ok {
				break
			}
			h := hexVal(d)
			if h > 15 {
				r.ungetc()
				break
			}
			r.rawByte(f, d)
			v = v<<4 | h
		}
		if n == 0 {
			row.dec = append(row.dec, 'x') // \x without digits is x
		} else {
			row.dec = append(row.dec, v)
		}
	default:
		if c == '\n' {
			r.line++ // an escaped line feed is data
		}
		row.dec = append(row.dec, c)
	}
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

func (r *Reader) readCSV(row *Row) error {
	delim, quote, esc := r.opt.Delimiter, r.opt.Quote, r.opt.Escape
	var f field
	lineStart := true // at the first byte of a physical line
	for {
		c, ok := r.getc()
		if !ok {
			r.endField(row, &f)
			return nil
		}
		if lineStart && c == '\\' && r.atMarkerCSV() {
			r.marker = true
		}
		lineStart = false
		switch c {
		case delim:
			r.endField(row, &f)
			continue
		case '\n', '\r':
			r.endField(row, &f)
			return r.endLine(row, c)
		}
		r.rawByte(&f, c)
		if c != quote {
			row.dec = append(row.dec, c)
			if f.nullMatch < 0 {
				r.copyUntil(row, delim, quote)
			}
			continue
		}
		// A quoted section: it runs to the closing quote, across delimiters
		// and line terminators, which are data here.
		f.quoted = true
	quoted:
		for {
			c, ok = r.getc()
			if !ok {
				return r.fail(row, "unterminated CSV quoted field")
			}
			// The server looks for the marker at the start of every
			// physical line, even inside quotes.
			if lineStart && c == '\\' && r.atMarkerCSV() {
				r.marker = true
			}
			lineStart = c == '\n' || c == '\r'
			if c == '\n' || c == '\r' && r.eol == eolCR {
				r.line++
			}
			switch {
			case c == esc && esc != quote:
				d, ok := r.getc()
				if ok && (d == quote || d == esc) {
					row.dec = append(row.dec, d)
					continue
				}
				if ok {
					r.ungetc()
				}
				row.dec = append(row.dec, c)
			case c == quote:
				if esc == quote {
					d, ok := r.getc()
					if ok && d == quote {
						row.dec = append(row.dec, quote) // "" stands for "
						continue
					}
					if ok {
						r.ungetc()
					}
				}
				break quoted
			default:
				row.dec = append(row.dec, c)
				if !lineStart {
					r.copyUntil(row, quote, esc)
				}
			}
		}
	}
}

// atMarkerCSV reports, having just read a backslash at the start of a line,
// whether the line is the end-of-data marker: the backslash, a period, then
// a line terminator or the end of the input. It consumes nothing.
func (r *Reader) atMarkerCSV() bool {
	if r.end-r.pos >= 2 {
		return r.buf[r.pos] == '.' && (r.buf[r.pos+1] == '\n' || r.buf[r.pos+1] == '\r')
	}
	// Rare: the two bytes of lookahead cross the chunk. Keep the row's
	// bytes so far, move the unread bytes to the front and read more.
	r.carry = append(r.carry, r.buf[r.start:r.pos]...)
	n := copy(r.buf, r.buf[r.pos:r.end])
	r.start, r.pos, r.end = 0, 0, n
	for r.rerr == nil && r.end < 2 {
		var m int
		m, r.rerr = r.src.Read(r.buf[r.end:])
		r.end += m
	}
	switch {
	case r.end == 0:
		return false
	case r.end == 1:
		return r.buf[0] == '.'
	}
	return r.buf[0] == '.' && (r.buf[1] == '\n' || r.buf[1] == '\r')
}
