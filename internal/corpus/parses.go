package corpus

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Parse is what PostgreSQL 18's grammar (libpg_query) makes of one case's
// SQL: Kind "JSON" with the raw parse tree's JSON as Body, or Kind "ERROR"
// with the error message.
type Parse struct {
	Kind, Body string
}

// ReadParses reads a file of "name\tKIND\tbody" lines, one a case, as
// internal/pg18json writes them for Cases (pgtree/testdata/corpus18.txt),
// into a map by case name. A line without two tabs is an error.
func ReadParses(path string) (map[string]Parse, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]Parse{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "\t")
		kind, body, ok2 := strings.Cut(rest, "\t")
		if !ok || !ok2 {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		m[name] = Parse{Kind: kind, Body: body}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
