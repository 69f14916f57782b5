// Package pgident reads PostgreSQL's double-quoted identifiers, the one
// lexical rule the configuration's table names and split's COPY column
// lists share.
package pgident

import "errors"

// ErrUnterminated is returned for a quoted identifier without its closing
// quote.
var ErrUnterminated = errors.New("unterminated quoted identifier")

// Quoted reads the double-quoted identifier at the start of s, which must
// begin with '"'. Inside the quotes a doubled quote stands for one, and
// nothing else is special (case is kept, as PostgreSQL keeps it). It
// returns the identifier and what follows its closing quote.
func Quoted(s string) (ident, rest string, err error) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, errors.New("not a quoted identifier")
	}
	var b []byte
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b = append(b, s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b = append(b, '"')
			i++
			continue
		}
		return string(b), s[i+1:], nil
	}
	return "", s, ErrUnterminated
}
