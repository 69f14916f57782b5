package router

import (
	"strconv"
	"strings"
)

// scanHints finds the comment hints /* pgdog_shard: N */ and
// /* pgdog_sharding_key: V */ in query. The parser drops comments, so the
// raw text is scanned; PostgreSQL's own scanner tells comments from string
// literals and quoted identifiers that merely contain the words. The first
// hint of each kind wins. A pgdog_shard hint that is not a shard number is
// an error: silently ignoring it would send the statement elsewhere.
func scanHints(fe TextFrontEnd, query string, h *hint) *Decision {
	if !strings.Contains(query, "pgdog_shard") {
		return nil
	}
	bodies, err := fe.Comments(query)
	if err != nil {
		return nil // the parser will fail too: NO_DECISION
	}
	for _, body := range bodies {
		if h.shard < 0 {
			if v, ok := hintValue(body, "pgdog_shard"); ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return &Decision{Kind: Error, Code: sqlStateInvalidParameter,
						Message: "vecshard: pgdog_shard hint " + strconv.Quote(v) + " is not a shard number; write /* pgdog_shard: N */ with 0 <= N < shards"}
				}
				h.shard = n
				h.text = "pgdog_shard: " + v
			}
		}
		if !h.hasKey {
			if v, ok := hintValue(body, "pgdog_sharding_key"); ok {
				h.key = []byte(v)
				h.hasKey = true
				if h.shard < 0 {
					h.text = "pgdog_sharding_key: " + v
				}
			}
		}
	}
	return nil
}

// hintValue returns the value after "name:" in a comment body: up to the
// end of the comment (white space and one pair of quotes trimmed) for
// pgdog_sharding_key, the first word for pgdog_shard.
func hintValue(body, name string) (string, bool) {
	i := 0
	for {
		j := strings.Index(body[i:], name)
		if j < 0 {
			return "", false
		}
		i += j
		rest := body[i+len(name):]
		// pgdog_shard must not match the prefix of pgdog_sharding_key.
		if i > 0 && isIdentByte(body[i-1]) || len(rest) > 0 && isIdentByte(rest[0]) {
			i += len(name)
			continue
		}
		rest = strings.TrimLeft(rest, " \t\r\n")
		if !strings.HasPrefix(rest, ":") {
			i += len(name)
			continue
		}
		v := strings.TrimSpace(rest[1:])
		if name == "pgdog_shard" {
			if k := strings.IndexAny(v, " \t\r\n,;"); k >= 0 {
				v = v[:k]
			}
		}
		if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
			v = v[1 : len(v)-1]
		}
		return v, true
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
