package config

import (
	"errors"
	"fmt"
	"strings"
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

func splitIdent(s string) ([]string, error) {
	var parts []string
	for {
		var part string
		if strings.HasPrefix(s, `"`) {
			end := 1
			var b strings.Builder
			for {
				i := strings.IndexByte(s[end:], '"')
				if i < 0 {
					return nil, errors.New("unterminated quoted identifier")
				}
				b.WriteString(s[end : end+i])
				end += i + 1
				if strings.HasPrefix(s[end:], `"`) {
					b.WriteByte('"')
					end++
					continue
				}
				break
			}
			part, s = b.String(), s[end:]
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
