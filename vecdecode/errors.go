package vecdecode

import "strconv"

// SQLSTATE codes of the errors PostgreSQL with pgvector raises for bad input.
const (
	CodeSyntax          = "22P02" // invalid_text_representation
	CodeOutOfRange      = "22003" // numeric_value_out_of_range
	CodeData            = "22000" // data_exception: NaN, Inf, dimensions, indices
	CodeLimit           = "54000" // program_limit_exceeded: too many dimensions
	CodeProtocol        = "08P01" // protocol_violation: binary value too short
	CodeBinaryFormat    = "22P03" // invalid_binary_representation: bytes left over
	codeNotSupported    = "0A000" // feature_not_supported: Dense given sparsevec
	detailStartBracket  = `Vector contents must start with "[".`
	detailStartBrace    = `Vector contents must start with "{".`
	detailJunkBracket   = "Junk after closing right brace."
	detailJunkSparse    = "Junk after closing."
	detailUnexpectedEnd = "Unexpected end of input."
)

// Error reports a value the server would reject, in the server's words.
//
// Msg is the message PostgreSQL (with pgvector 0.8) sends for the same input
// and Code its SQLSTATE, so a proxy can answer the client as the server
// would. One difference is unavoidable: for bytes left over after a binary
// value the server names the parameter ("incorrect binary data format in
// bind parameter 2"); Msg stops before " in bind parameter N", which the
// caller knows and may append.
type Error struct {
	Type   Type   // the type being decoded
	Offset int    // byte offset in the input where decoding failed
	Code   string // SQLSTATE, e.g. "22P02"
	Msg    string // the server's message
	Detail string // the server's DETAIL line, or ""
}

// Error returns Msg followed by the type and byte offset, so that the
// server's message comes first.
func (e *Error) Error() string {
	return e.Msg + " (" + e.Type.String() + " input, byte " + strconv.Itoa(e.Offset) + ")"
}

func newError(t Type, off int, code, msg string) *Error {
	return &Error{Type: t, Offset: off, Code: code, Msg: msg}
}

// errSyntax quotes the whole input, as the server does.
func errSyntax(t Type, src []byte, off int, detail string) *Error {
	e := newError(t, off, CodeSyntax, "invalid input syntax for type "+t.String()+": "+quote(src))
	e.Detail = detail
	return e
}

// quote wraps s in double quotes the way PostgreSQL's "\"%s\"" does: no
// escaping.
func quote(s []byte) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return string(append(b, '"'))
}

func errOutOfRange(t Type, tok []byte, off int) *Error {
	return newError(t, off, CodeOutOfRange, quote(tok)+" is out of range for type "+t.String())
}

func errNoDims(t Type, off int) *Error {
	return newError(t, off, CodeData, t.String()+" must have at least 1 dimension")
}

func errTooManyDims(t Type, off int) *Error {
	max := MaxDim
	if t == Sparsevec {
		max = MaxSparseDim
	}
	return newError(t, off, CodeLimit, t.String()+" cannot have more than "+strconv.Itoa(max)+" dimensions")
}

func errTooManyNonZero(off int) *Error {
	return newError(Sparsevec, off, CodeLimit, "sparsevec cannot have more than 16000 non-zero elements")
}

// errNotFinite reports a NaN or an infinity.
func errNotFinite(t Type, nan bool, off int) *Error {
	if nan {
		return newError(t, off, CodeData, "NaN not allowed in "+t.String())
	}
	return newError(t, off, CodeData, "infinite value not allowed in "+t.String())
}

func errUnused(t Type, unused int, off int) *Error {
	return newError(t, off, CodeData, "expected unused to be 0, not "+strconv.Itoa(unused))
}

func errShort(t Type, off int) *Error {
	return newError(t, off, CodeProtocol, "insufficient data left in message")
}

func errExtra(t Type, off int) *Error {
	return newError(t, off, CodeBinaryFormat, "incorrect binary data format")
}
