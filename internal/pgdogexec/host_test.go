package pgdogexec

import "testing"

// TestCaseLine: pgdog-host's case format (plugin/vtablehost/host.rs USAGE).
func TestCaseLine(t *testing.T) {
	for _, tc := range []struct {
		c    Call
		want string
	}{
		{Call{SQL: "SELECT 1", Simple: true}, "7\t4\tqP\t53454c4543542031\t-\n"},
		{Call{SQL: "S", Params: [][]byte{[]byte("42"), nil, {}}, Formats: []int16{0, 1}, Write: true, InTx: true}, "7\t4\twtP\t53\t0,1\t3432\t~\t\n"},
		{Call{SQL: "S", NoBind: true}, "7\t4\tdP\t53\t-\n"},
	} {
		if got := caseLine("7", 4, tc.c); got != tc.want {
			t.Errorf("caseLine(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestParseAnswer: every answer serve writes.
func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		want   Decision
		err    bool
	}{
		{[]string{"2", "read"}, Decision{Kind: Shard, Shard: 2}, false},
		{[]string{"ALL", "write"}, Decision{Kind: All, Write: true}, false},
		{[]string{"UNKNOWN", "unknown"}, Decision{Kind: Unknown}, false},
		{[]string{"BLOCKED", "read", `42601 query is blocked by plugin "vecshard"`}, Decision{Kind: Blocked, Note: `42601 query is blocked by plugin "vecshard"`}, false},
		{[]string{"NOCALL", "PgDog routes SET itself"}, Decision{Kind: NoCall, Note: "PgDog routes SET itself"}, false},
		{[]string{"PARSE_ERROR", "syntax error"}, Decision{Kind: ParseError, Note: "syntax error"}, false},
		{[]string{"BAD_CASE", "need 5 fields"}, Decision{}, true},
		{[]string{"-1", "read"}, Decision{}, true},
	} {
		got, err := parseAnswer(tc.fields)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseAnswer(%q) = %+v, %v; want %+v (error %v)", tc.fields, got, err, tc.want, tc.err)
		}
	}
}
