// Package router turns a statement and its bound parameters into a routing
// decision, as docs/ROUTING.md specifies: a shard, all shards,
// no decision, or an error for the client; and whether it reads or writes.
//
// Its invariant: a row is stored on exactly one shard, and every later
// statement that can find or change that row is sent to that shard or to
// all shards. The router never guesses: what it cannot tell goes to all
// shards (or, for writes that must land on one shard, is refused).
//
// A Snapshot is the plugin's TOML configuration with its centroid files
// loaded. The rules read one statement form, package sqlir, whichever front
// end wrote it: SQL text through a TextFrontEnd (sqltext, pg_query) for
// Route and Explain, or a PostgreSQL 18 parse tree read by pgtree for
// RouteTree. A statement is analysed once into a small plan (which
// configured tables it touches, and which parameter or literal feeds each
// one's key), kept in a bounded cache keyed by the text or by the tree's
// canonical encoding; later calls only decode the key values (vecdecode,
// idkey) and compute their shards (centroids, jump hash). On a cached plan
// neither Route nor RouteTree allocates or takes a lock.
//
// Known limits: only AND-ed conditions at the level of a table's own
// SELECT/UPDATE/DELETE (and its inner-join ON clauses) count as keys;
// PREPARE/EXECUTE in the simple protocol is left to PgDog (no decision);
// under the C ABI a NULL parameter and an empty one cannot be told apart,
// so the C ABI library passes both as NULL (a nil Param.Data).
package router
