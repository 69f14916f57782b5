package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vecshard/vecshard/internal/suggest"
)

// Error is a problem with the configuration file, located as precisely
// as the problem allows. Its message is the one the user reads:
// "file: line L, column C: table \"name\": field: what is wrong".
type Error struct {
	File  string // the TOML file
	Line  int    // 1-based line of the problem, 0 when not known
	Col   int    // 1-based column (bytes) when Line is a syntax error's, else 0
	Table string // the [[tables]] name, "" for file-level problems
	Field string // the TOML key, "" when the problem is not one field's
	Err   error
}

// Error returns the message the user reads.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ", column %d", e.Col)
		}
	}
	if e.Table != "" {
		fmt.Fprintf(&b, ": table %q", e.Table)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause: errors.Is and errors.As see through an Error
// (fs.ErrNotExist for a missing file, the TOML parser's toml.ParseError).
func (e *Error) Unwrap() error { return e.Err }

// syntaxError locates a TOML error. BurntSushi/toml reports the line
// after the lexer has moved past a newline (an unclosed [[tables]
// header is reported on the next line), so the line and column are
// recomputed from the error's byte offset, which points at the character
// that was not expected.
func syntaxError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: path, Err: err}
	}
	line, col := pe.Position.Line, pe.Position.Col
	if st := pe.Position.Start; st >= 0 && st <= len(data) {
		line = 1 + strings.Count(string(data[:st]), "\n")
		col = st - strings.LastIndexByte(string(data[:st]), '\n')
	}
	msg := strings.ReplaceAll(pe.Message, `'\n'`, "the end of the line")
	text := ""
	if lines := strings.Split(string(data), "\n"); line >= 1 && line <= len(lines) {
		text = strings.TrimSpace(lines[line-1])
	}
	if text != "" {
		msg = fmt.Sprintf("%s (the line reads %q", msg, text)
		if strings.HasPrefix(text, "[[") && !strings.Contains(text, "]]") {
			msg += `; a table array header is written [[tables]]`
		} else if strings.HasPrefix(text, "[") && !strings.Contains(text, "]") {
			msg += `; a table header is written [name]`
		}
		msg += ")"
	}
	return &Error{File: path, Line: line, Col: col, Err: &reworded{msg: "TOML syntax: " + msg, err: err}}
}

// reworded is an error whose message is rewritten for the configuration's
// user; it unwraps to the original (the TOML parser's toml.ParseError, an
// *idkey.Error), so that errors.Is and errors.As still reach it.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// The keys the configuration knows, for "did you mean".
var (
	topKeys   = []string{"shards", "plan_cache_size", "plan_cache_bytes", "tables"}
	tableKeys = []string{"name", "key", "vector_column", "vector_type", "centroids", "metric", "probes", "dim", "id_column", "id_type", "allow_key_update", "cross_shard_ranking"}
)

// unknownKeyError names the first unknown key with its line, its table
// and the known key it is most likely a misspelling of.
func unknownKeyError(path string, data []byte, und []toml.Key) error {
	k := und[0]
	ce := &Error{File: path, Field: k.String(), Line: keyLine(data, k)}
	known := topKeys
	if len(k) >= 2 && k[0] == "tables" {
		ce.Field = k[len(k)-1]
		ce.Table = tableOfUndecoded(data, k)
		known = tableKeys
	}
	where := "at the top level"
	if len(k) >= 2 && k[0] == "tables" {
		where = "in [[tables]]"
	}
	msg := "unknown key"
	if s := suggest.Closest(ce.Field, known); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += fmt.Sprintf(" (the keys %s are %s)", where, strings.Join(known, ", "))
	}
	if len(und) > 1 {
		others := make([]string, 0, len(und)-1)
		for _, o := range und[1:] {
			if !strings.HasPrefix(o.String(), k.String()+".") {
				others = append(others, o.String())
			}
		}
		if len(others) > 0 {
			msg += " (also unknown: " + strings.Join(others, ", ") + ")"
		}
	}
	ce.Err = errors.New(msg)
	return ce
}

// keyLine finds the line of key in a TOML text: an assignment of its last
// part under the header of the rest, or the header itself. 0: not found.
func keyLine(data []byte, key toml.Key) int {
	section := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	cur := ""
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			h := strings.TrimSpace(strings.Trim(strings.SplitN(l, "#", 2)[0], " []"))
			if len(key) == 1 && h == last {
				return i + 1
			}
			cur = h
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if ok && cur == section && strings.Trim(strings.TrimSpace(name), `"'`) == last {
			return i + 1
		}
	}
	return 0
}

// tableOfUndecoded finds the name of the n-th [[tables]] entry for an
// undecoded key such as tables.foo; BurntSushi/toml does not report array
// indices, so the name is recovered by decoding the names alone.
func tableOfUndecoded(data []byte, key toml.Key) string {
	var names struct {
		Tables []map[string]any `toml:"tables"`
	}
	if _, err := toml.Decode(string(data), &names); err != nil {
		return ""
	}
	field := key[len(key)-1]
	for _, t := range names.Tables {
		if _, ok := t[field]; ok {
			if n, ok := t["name"].(string); ok {
				return n
			}
		}
	}
	return ""
}
