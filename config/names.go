package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vecshard/vecshard/internal/pgident"
)

// splitName splits a configured table name into schema and relation. Names
// are compared as PostgreSQL stores them: write them in lower case unless
// the table was created with a quoted identifier; double quotes are allowed
// and removed ("My Table"."Items").
func splitName(name string) (schema, rel string, err error) {
	parts, err := splitIdent(name)
	if err != nil {
		return "", "", err
	}
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("%q: want table or schema.table", name)
}

// splitIdent splits a dotted name into its identifiers; quoted ones keep
// their case, unquoted ones are taken as written.
func splitIdent(s string) ([]string, error) {
	var parts []string
	for {
		var part string
		if strings.HasPrefix(s, `"`) {
			var err error
			if part, s, err = pgident.Quoted(s); err != nil {
				return nil, err
			}
		} else {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				i = len(s)
			}
			part, s = s[:i], s[i:]
			if strings.ContainsAny(part, " \t\"") {
				return nil, fmt.Errorf("%q: quote identifiers that contain spaces or quotes", part)
			}
		}
		if part == "" {
			return nil, errors.New("empty identifier")
		}
		parts = append(parts, part)
		if s == "" {
			return parts, nil
		}
		if s[0] != '.' {
			return nil, errors.New("junk after quoted identifier")
		}
		s = s[1:]
	}
}
