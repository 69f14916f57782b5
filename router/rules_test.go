package router

import "testing"

// Regressions found in review (each failed before its fix), grouped by the
// routing rule they test.

// cteScopeCases: a WITH query never shadows the target of INSERT, UPDATE,
// DELETE or MERGE; it still shadows a table that is only read.
var cteScopeCases = []routeCase{
	{"cte-shadow/delete", "WITH users AS (SELECT 1 AS id) DELETE FROM users", nil, 0, allW()},
	{"cte-shadow/delete-key", "WITH users AS (SELECT 1 AS id) DELETE FROM users WHERE id = 42", nil, 0, shW(0)},
	{"cte-shadow/update", "WITH users AS (SELECT 1 AS id) UPDATE users SET x = 1", nil, 0, allW()},
	{"cte-shadow/update-key", "WITH users AS (SELECT 1 AS id) UPDATE users SET x = 1 WHERE id = 1", nil, 0, shW(3)},
	{"cte-shadow/insert", "WITH users AS (SELECT 1 AS id) INSERT INTO users (id) VALUES (1)", nil, 0, shW(3)},
	{"cte-shadow/insert-nokey", "WITH users AS (SELECT 1 AS id) INSERT INTO users (x) VALUES (1)", nil, 0, fails("42P10", "does not set its sharding key")},
	{"cte-shadow/merge", "WITH users AS (SELECT 1 AS id) MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED THEN DELETE", nil, 0, allW()},
	{"cte-shadow/recursive", "WITH RECURSIVE users AS (SELECT 1 AS id UNION ALL SELECT id + 1 FROM users WHERE id < 3) DELETE FROM users WHERE id = 42", nil, 0, shW(0)},
	{"cte-shadow/nested-with", "WITH users AS (SELECT 1 AS id), d AS (DELETE FROM users WHERE id = 1 RETURNING id) SELECT * FROM d", nil, 0, shW(3)},
	{"cte-shadow/nested-with-all", "WITH users AS (SELECT 1 AS id), d AS (DELETE FROM users RETURNING id) SELECT * FROM d", nil, 0, allW()},
	{"cte-shadow/read-still-shadowed", "WITH users AS (SELECT 1 AS id) SELECT * FROM users", nil, 0, none()},
	{"cte-shadow/using-still-shadowed", "WITH tags AS (SELECT 1 AS uid) DELETE FROM users USING tags WHERE users.id = 42", nil, 0, shW(0)},
}

// crossWriteCases: an UPDATE, DELETE or MERGE sent to all shards whose
// statement also uses another configured table is refused (stmtGroup);
// a write that only uses its own table, or is on one shard, is not.
var crossWriteCases = []routeCase{
	{"cross-write/update-from", "UPDATE users SET x = 1 FROM tags WHERE users.id = 1", nil, 0, fails("0A000", "each shard would only see its own rows of tags")},
	{"cross-write/delete-using", "DELETE FROM users USING tags WHERE users.id = tags.uid", nil, 0, fails("0A000", "writes users (delete) on all shards and also uses tags")},
	{"cross-write/delete-in-select", "DELETE FROM users WHERE id IN (SELECT uid FROM tags)", nil, 0, fails("0A000", "its own rows of tags")},
	{"cross-write/delete-key-in-select", "DELETE FROM users WHERE id = 1 AND x IN (SELECT uid FROM tags)", nil, 0, fails("0A000", "its own rows of tags")},
	{"cross-write/merge-using", "MERGE INTO users u USING tags t ON u.id = t.uid WHEN MATCHED THEN DELETE", nil, 0, fails("0A000", "its own rows of tags")},
	{"cross-write/cte-delete", "WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM tags WHERE uid IN (SELECT id FROM d)", nil, 0, fails("0A000", "tags")},
	{"cross-write/both-keyed", "DELETE FROM users USING tags WHERE users.id = 1 AND tags.name = 'hello world'", nil, 0, fails("0A000", "shard 3")},
	{"cross-write/same-shard", "DELETE FROM users USING tags WHERE users.id = 1 AND tags.name = $1", ps(txt("y")), 0, shW(3)},
	{"cross-write/read-all", "SELECT * FROM users JOIN tags ON users.id = tags.uid", nil, 0, allR()},
	{"cross-write/own-table-only", "DELETE FROM users", nil, 0, allW()},
	{"cross-write/own-table-only-update", "UPDATE users SET x = 1 WHERE x > 2", nil, 0, allW()},
	{"cross-write/separate-statements", "UPDATE users SET x = 1 WHERE id = 1; DELETE FROM tags", nil, 0, allW()},
	{"cross-write/separate-ok-then-all", "DELETE FROM users USING tags WHERE users.id = 42 AND tags.name = 'x'; DELETE FROM items", nil, 0, allW()},
	{"cross-write/truncate-two", "TRUNCATE users, tags", nil, 0, allW()},
}

// arrayTextCases: an array parameter's text is read as array_in reads it:
// {x\ } is the one element "x ", not "x\" or "x".
var arrayTextCases = []routeCase{
	{"array-escape/trailing-space", "DELETE FROM tags WHERE name = ANY($1)", ps(txt(`{x\ }`)), 0, shW(2)},
	{"array-escape/trailing-space-then-blank", "DELETE FROM tags WHERE name = ANY($1)", ps(txt(`{x\   }`)), 0, shW(2)},
	{"array-escape/same-as-quoted", "SELECT * FROM tags WHERE name = ANY($1)", ps(txt(`{"x ",x\ }`)), 0, sh(2)},
	{"array-escape/unescaped-trimmed", "SELECT * FROM tags WHERE name = ANY($1)", ps(txt(`{ x  , "x"}`)), 0, sh(0)},
	{"array-escape/escaped-backslash", "SELECT * FROM tags WHERE name = ANY($1)", ps(txt(`{x\\ }`)), 0, sh(1)},
}

// castCases: a key value routes only when the router reads it as the
// server compares it (castsKeep): not through a cast that may change it,
// not as a numeric constant, not as a halfvec compared with a vector
// column.
var castCases = []routeCase{
	// A cast in a chain that may change the value makes it unusable.
	{"cast-chain/float8-read", "SELECT * FROM users WHERE id = '9007199254740993'::float8::bigint", nil, 0, allR()},
	{"cast-chain/float8-delete", "DELETE FROM users WHERE id = '9007199254740993'::float8::bigint", nil, 0, allW()},
	{"cast-chain/float8-param", "UPDATE users SET x = 1 WHERE id = $1::float8::bigint", ps(txt("9007199254740993")), 0, allW()},
	{"cast-chain/float8-insert", "INSERT INTO users (id) VALUES ('9007199254740993'::float8::bigint)", nil, 0, fails("0A000", "cannot evaluate")},
	{"cast-chain/numeric", "DELETE FROM users WHERE id = '42'::numeric::bigint", nil, 0, allW()},
	{"cast-chain/bpchar-read", "SELECT * FROM tags WHERE name = 'x  '::bpchar", nil, 0, allR()},
	{"cast-chain/bpchar-delete", "DELETE FROM tags WHERE name = 'x  '::bpchar", nil, 0, allW()},
	{"cast-chain/char-n", "DELETE FROM tags WHERE name = 'x'::char(3)", nil, 0, allW()},
	{"cast-chain/varchar-n", "DELETE FROM tags WHERE name = 'abcdef'::varchar(3)", nil, 0, allW()},
	{"cast-chain/varchar-n-inner", "DELETE FROM tags WHERE name = 'abcdef'::varchar(3)::text", nil, 0, allW()},
	{"cast-chain/varchar-n-insert", "INSERT INTO tags (name) VALUES ('abcdef'::varchar(3))", nil, 0, fails("0A000", "cannot evaluate")},
	{"cast-chain/name", "SELECT * FROM tags WHERE name = 'x'::name", nil, 0, allR()},
	{"cast-chain/varchar-n-array", "DELETE FROM tags WHERE name = ANY('{abcdef}'::varchar(3)[])", nil, 0, allW()},
	{"cast-chain/int-in-text-key", "DELETE FROM tags WHERE name = '1'::int4::text", nil, 0, allW()},
	// Casts that keep the value still route.
	{"cast-chain/int4-bigint", "DELETE FROM users WHERE id = '42'::int4::bigint", nil, 0, shW(0)},
	{"cast-chain/varchar", "DELETE FROM tags WHERE name = 'x'::varchar", nil, 0, shW(0)},
	{"cast-chain/text-varchar", "DELETE FROM tags WHERE name = 'x'::text::varchar", nil, 0, shW(0)},
	{"cast-chain/text-bigint-param", "DELETE FROM users WHERE id = $1::text::bigint", ps(bin("42")), 0, shW(0)},
	{"cast-chain/vector-typmod", "DELETE FROM items WHERE embedding = '[3,1,0]'::vector(3)", nil, 0, shW(0)},
	// A numeric constant is compared as numeric or rounded by a cast: the
	// server accepts these, the router cannot place them exactly.
	{"numeric-const/equal", "DELETE FROM users WHERE id = 2.0", nil, 0, allW()},
	{"numeric-const/cast", "SELECT * FROM users WHERE id = 1.5::bigint", nil, 0, allR()},
	{"numeric-const/big", "SELECT * FROM users WHERE id = 9223372036854775808", nil, 0, allR()},
	{"numeric-const/insert", "INSERT INTO users (id) VALUES (2.0)", nil, 0, fails("0A000", "cannot evaluate")},
	{"numeric-const/int-still-routes", "DELETE FROM users WHERE id = 2", nil, 0, shW(0)},
	// A vector column compared with a halfvec: compared as halfvec.
	{"halfvec-on-vector/delete", "DELETE FROM items WHERE embedding = '[1,1,0]'::halfvec", nil, 0, allW()},
	{"halfvec-on-vector/read", "SELECT * FROM items WHERE embedding = '[1,0,0]'::halfvec", nil, 0, allR()},
	{"halfvec-on-vector/param", "SELECT * FROM items WHERE embedding = $1::halfvec", ps(halfBin(1, 0, 0)), 0, allR()},
	{"halfvec-on-vector/chain", "DELETE FROM items WHERE embedding = '[1,0,0]'::halfvec::vector", nil, 0, allW()},
	{"halfvec-on-vector/chain-insert", "INSERT INTO items (embedding) VALUES ('[1,0,0]'::halfvec::vector)", nil, 0, fails("0A000", "cannot evaluate")},
	{"halfvec-on-vector/plain-vector", "DELETE FROM items WHERE embedding = '[1,0,0]'::vector", nil, 0, shW(0)},
}

// halfvecRoundCases: a halfvec column stores the binary16-rounded value,
// so its rows are placed and found by the rounded value: 0.81978 rounds
// to 0.81982421875, which is on the other side of a boundary of c3k8.
var halfvecRoundCases = []routeCase{
	{"halfvec-round/insert-vector-cast", "INSERT INTO docs (emb) VALUES ('[0.81978,1,0]'::vector)", nil, 0, shW(0)},
	{"halfvec-round/insert-halfvec", "INSERT INTO docs (emb) VALUES ('[0.81978,1,0]')", nil, 0, shW(0)},
	{"halfvec-round/insert-vector-param", "INSERT INTO docs (emb) VALUES ($1::vector)", ps(vecBin(0.81978, 1, 0)), 0, shW(0)},
	{"halfvec-round/insert-vector-text-param", "INSERT INTO docs (emb) VALUES ($1::vector)", ps(txt("[0.81978,1,0]")), 0, shW(0)},
	{"halfvec-round/delete-vector-cast", "DELETE FROM docs WHERE emb = '[0.81978,1,0]'::vector", nil, 0, shW(0)},
	{"halfvec-round/insert-overflow", "INSERT INTO docs (emb) VALUES ('[70000,1,0]'::vector)", nil, 0, fails("0A000", "cannot evaluate")},
}

// TestRules routes the review regressions, every group on one router.
func TestRules(t *testing.T) {
	var cases []routeCase
	for _, cs := range [][]routeCase{cteScopeCases, crossWriteCases, arrayTextCases, castCases, halfvecRoundCases} {
		cases = append(cases, cs...)
	}
	runCases(t, New(loadGood(t)), cases)
}
