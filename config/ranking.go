package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vecshard/vecshard/internal/suggest"
)

// RankingPolicy is a table's answer to a ranking that needs more than one
// shard when the pooler cannot merge its ORDER BY (cross_shard_ranking).
type RankingPolicy uint8

// The policies. The zero value is the default, and the safe one.
const (
	// RankMergeable sends a ranking to ALL only when the pooler merges its
	// ORDER BY; otherwise the nearest centroid's shard (top probes
	// centroids on several shards) or a refusal (rows on every shard).
	RankMergeable RankingPolicy = iota
	// RankAll sends a ranking that needs every shard to ALL whatever the
	// pooler does with it: for a pooler that merges every ORDER BY.
	RankAll
)

// rankingPolicyNames are the config spellings, by value.
var rankingPolicyNames = []string{"mergeable", "all"}

// String returns the config spelling.
func (p RankingPolicy) String() string {
	if int(p) < len(rankingPolicyNames) {
		return rankingPolicyNames[p]
	}
	return "RankingPolicy(" + strconv.Itoa(int(p)) + ")"
}

// ParseRankingPolicy reads a cross_shard_ranking value; an unknown value's
// error suggests the spelling it is nearest to.
func ParseRankingPolicy(s string) (RankingPolicy, error) {
	for i, n := range rankingPolicyNames {
		if s == n {
			return RankingPolicy(i), nil
		}
	}
	msg := fmt.Sprintf("%q is not %q or %q", s, rankingPolicyNames[RankMergeable], rankingPolicyNames[RankAll])
	if c := suggest.Closest(strings.ToLower(s), rankingPolicyNames); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	}
	return 0, errors.New(msg)
}
