package router

// What the pooler does with the rows of a read vecshard sends to ALL
// shards decides whether a ranking sent there returns the right rows: the
// pooler must merge the shards' rows in the ORDER BY the client asked for,
// then apply the LIMIT. A Host lists what one pooler does; the library that
// speaks its ABI hands it to Load (WithHost), and the analysis of each
// statement reads it once, when the plan is built.

// HostCap is one thing a pooler may do when it merges the rows of a read
// sent to every shard.
type HostCap uint8

// The capabilities vecshard asks about.
const (
	// SortPosition: ORDER BY n (an output position) is merged in that order.
	SortPosition HostCap = iota
	// SortColumnName: ORDER BY name, name a column the statement returns
	// (an output alias), is merged in that order.
	SortColumnName
	// SortDescending: DESC on a position or a returned column is honoured.
	SortDescending
	// SortFloat8: a float8 column (every pgvector distance) is compared as
	// a number, in the text and the binary format alike.
	SortFloat8
	// SortUsing: ORDER BY ... USING < / > is honoured.
	SortUsing
	// SortL2Expression: ORDER BY col <-> q (the expression itself) is merged
	// by the pooler computing the L2 distance, for every client.
	SortL2Expression
	// SortExpression: ORDER BY any other expression (col <=> q, a distance
	// function, arithmetic on a distance) is merged in that order.
	SortExpression
	// SortNulls: NULLS FIRST / NULLS LAST are honoured.
	SortNulls
	// LimitAfterSort: with a sort, LIMIT and OFFSET apply to the merged rows.
	LimitAfterSort
	// LimitWithoutSort: without a sort, LIMIT applies across shards.
	LimitWithoutSort
	// MergeNested: a ranking inside a subquery, CTE or set operation gets
	// the rows of its LIMIT across shards (the pooler merges only the
	// outermost ORDER BY, so each shard would apply the inner LIMIT to its
	// own rows).
	MergeNested

	numHostCaps
)

// HostCapEntry is one row of a host's capability table: whether the host
// does it, and where in the host's source that was read.
type HostCapEntry struct {
	Cap    HostCap
	Merges bool
	What   string // the capability in words, for docs and messages
	Source string // the host's source file(s) that say so
}

// Host is what one pooler does when it merges a read sent to every shard.
// A nil *Host is a pooler whose merge rules vecshard does not know: it
// sends a ranking that needs every shard to ALL, as it always has.
type Host struct {
	Name  string
	Table []HostCapEntry // the capability table, one entry per HostCap
	can   [numHostCaps]bool
}

// Can reports whether the host does c. A nil host does everything: vecshard
// then leaves the merge to it.
func (h *Host) Can(c HostCap) bool { return h == nil || h.can[c] }

// newHost indexes a capability table.
func newHost(name string, table []HostCapEntry) *Host {
	h := &Host{Name: name, Table: table}
	for _, e := range table {
		h.can[e.Cap] = e.Merges
	}
	return h
}

// PgDog is PgDog v0.1.54's merge of a read a plugin sends to all shards:
// the one table of its capabilities vecshard routes by under the vtable
// ABI, read from PgDog's sources (design notes PGDOG.md, section 3). Paths:
// R/ = pgdog/src/frontend/router/parser, C/ = pgdog/src/backend/pool/connection.
// None of it has been run against a PgDog binary yet.
var PgDog = newHost("PgDog v0.1.54", []HostCapEntry{
	{SortPosition, true, "ORDER BY an output position (ORDER BY 2)", "R/query/select.rs (select_sort), R/order_by.rs, C/buffer.rs"},
	{SortColumnName, true, "ORDER BY the name of a returned column (an output alias), found in the RowDescription; an unknown name is no sort", "R/query/select.rs (select_sort), R/order_by.rs, C/buffer.rs"},
	{SortDescending, true, "DESC on a position or a returned column", "R/order_by.rs, C/buffer.rs"},
	{SortFloat8, true, "float8 columns compared as numbers, in text and binary results alike", "C/buffer.rs"},
	{SortUsing, false, "ORDER BY ... USING an operator (not among the forms select_sort reads)", "R/query/select.rs (select_sort)"},
	{SortL2Expression, false, "ORDER BY col <-> q: PgDog computes L2 itself, always ascending, only when the vector column is returned in text format (invisible to a plugin); a binary q panics in the merge and drops the connection", "R/order_by.rs, C/buffer.rs, pgdog-vector/src/lib.rs"},
	{SortExpression, false, "ORDER BY any other expression (<=>, <#>, <+>, the distance functions, arithmetic): dropped silently", "R/query/select.rs (select_sort)"},
	{SortNulls, false, "NULLS FIRST / NULLS LAST: ignored", "R/order_by.rs, C/buffer.rs"},
	{LimitAfterSort, true, "with a sort, LIMIT and OFFSET applied after the merge (OFFSET sent as LIMIT n+m)", "C/buffer.rs, C/multi_shard/mod.rs"},
	{LimitWithoutSort, false, "without ORDER BY, aggregates, DISTINCT or OFFSET, LIMIT is not applied across shards: rows stream from every shard", "C/multi_shard/mod.rs, C/buffer.rs"},
	{MergeNested, false, "only the outermost statement's ORDER BY is merged; a subquery's LIMIT applies on each shard", "R/query/select.rs"},
})

// WithHost makes the snapshot route rankings by what host merges (see
// Host). The library that speaks the host's ABI sets it; without it, a
// ranking that needs every shard goes to ALL.
func WithHost(h *Host) Option { return func(s *Snapshot) { s.host = h } }
