package pgident

import (
	"errors"
	"testing"
)

func TestQuoted(t *testing.T) {
	for _, c := range []struct {
		in, ident, rest string
		err             error
	}{
		{`"Items"`, "Items", "", nil},
		{`"My ""x"" Table".rest`, `My "x" Table`, ".rest", nil},
		{`"" , b`, "", " , b", nil},
		{`""""`, `"`, "", nil},
		{`"open`, "", `"open`, ErrUnterminated},
		{`"a""`, "", `"a""`, ErrUnterminated},
	} {
		ident, rest, err := Quoted(c.in)
		if ident != c.ident || rest != c.rest || !errors.Is(err, c.err) {
			t.Errorf("Quoted(%q) = %q, %q, %v; want %q, %q, %v", c.in, ident, rest, err, c.ident, c.rest, c.err)
		}
	}
	if _, _, err := Quoted("plain"); err == nil {
		t.Error("Quoted(plain) accepted an unquoted identifier")
	}
}

func FuzzQuoted(f *testing.F) {
	f.Add(`"a""b"c`)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) == 0 || s[0] != '"' {
			return
		}
		ident, rest, err := Quoted(s)
		if err != nil {
			return
		}
		// Quoting the identifier again gives back what was read.
		q := `"`
		for i := 0; i < len(ident); i++ {
			if ident[i] == '"' {
				q += `"`
			}
			q += ident[i : i+1]
		}
		if q+`"`+rest != s {
			t.Errorf("Quoted(%q) = %q, %q: requoted %q", s, ident, rest, q+`"`+rest)
		}
	})
}
