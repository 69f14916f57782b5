// Package suggest finds the known word a mistyped one most likely meant:
// the "did you mean" of the configuration's messages.
package suggest

import "strings"

// Closest returns the candidate nearest to s in edit distance, when it is
// near enough to be a misspelling (at most a third of its length, and at
// most 3 edits), else the one candidate s is a prefix of (at least 5
// bytes: a shortened key such as cross_shard), else "".
func Closest(s string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && d <= max(1, len(c)/3) {
			best, bestD = c, d
		}
	}
	if best != "" || len(s) < 5 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, s) {
			if best != "" {
				return "" // several: no suggestion
			}
			best = c
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b in bytes (keys
// are ASCII); 20 lines do not earn a dependency.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
