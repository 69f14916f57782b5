package suggest

import "testing"

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"vector_colum", "vector_column", 1}, {"shard", "shards", 1}, {"kitten", "sitting", 3}, {"idtype", "id_type", 1}} {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"shards", "plan_cache_size", "plan_cache_bytes", "cross_shard_ranking"}
	for _, tt := range []struct{ in, want string }{
		{"shard", "shards"},                    // one edit
		{"colour", ""},                         // nothing near
		{"cross_shard", "cross_shard_ranking"}, // a shortened key
		{"plan_cache", ""},                     // the prefix of two keys: no suggestion
		{"pla", ""},                            // too short to be a prefix worth naming
	} {
		if got := Closest(tt.in, keys); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
