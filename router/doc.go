// Package router turns a statement and its bound parameters into a routing
// decision, as ../shared/design/ROUTING.md specifies: a shard, all shards,
// no decision, or an error for the client; and whether it reads or writes.
//
// Its invariant: a row is stored on exactly one shard, and every later
// statement that can find or change that row is sent to that shard or to
// all shards. The router never guesses: what it cannot tell goes to all
// shards (or, for writes that must land on one shard, is refused).
//
// A Snapshot is the plugin's TOML configuration with its centroid files
// loaded. Routing a statement parses its text once with pg_query into a
// small plan (which configured tables it touches, and which parameter or
// literal feeds each one's key), kept in a bounded cache keyed by the text;
// later calls only decode the key values (vecdecode, idkey) and compute
// their shards (centroids, jump hash). On a cached plan Route does not
// allocate and takes no lock.
//
// Known limits: only AND-ed conditions at the level of a table's own
// SELECT/UPDATE/DELETE (and its inner-join ON clauses) count as keys;
// PREPARE/EXECUTE in the simple protocol is left to PgDog (no decision);
// a NULL parameter and an empty one cannot be told apart (ABI), so an
// empty text id counts as NULL.
package router
