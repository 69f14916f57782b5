package router

import (
	"encoding/binary"
	"github.com/vecshard/vecshard/sqltext"
	"strings"
	"testing"

	"strconv"

	"github.com/pgvector/pgvector-go"
	"github.com/vecshard/vecshard/internal/vecbin"
)

// The geometry of testdata/good.toml (see its comments):
//   items (vector, cosine, c3k4): +x -> 0, +y -> 1, +z -> 2, -x -> 3
//   docs (halfvec, c3k8, probes 2), sparse_items (sparsevec, c3k4),
//   places (l2, centroids 10 units along the axes), bare (inner_product).
// Jump hash golden values (FORMATS.md, 4 shards): bigint 1 -> 3, 42 -> 0,
// -1 -> 2, 9223372036854775807 -> 3; uuid 550e8400-... -> 0;
// text "alice" -> 1, "hello world" -> 2.

const uuid0 = "550e8400-e29b-41d4-a716-446655440000"

func loadGood(t testing.TB) *Snapshot {
	t.Helper()
	s, err := Load("testdata/good.toml", WithText(sqltext.Parser{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Parameter makers.
func txt(s string) Param         { return Param{Data: []byte(s)} }
func null() Param                { return Param{} }
func vecBin(v ...float32) Param  { return Param{Data: vecbin.Vector(v...), Binary: true} }
func halfBin(v ...float32) Param { return Param{Data: vecbin.Halfvec(v...), Binary: true} }
func sparseBin(dim int32, m map[int32]float32) Param {
	b, err := pgvector.NewSparseVectorFromMap(m, dim).EncodeBinary(nil)
	if err != nil {
		panic(err)
	}
	return Param{Data: b, Binary: true}
}
func i8(v int64) Param {
	return Param{Data: binary.BigEndian.AppendUint64(nil, uint64(v)), Binary: true}
}
func i4(v int32) Param {
	return Param{Data: binary.BigEndian.AppendUint32(nil, uint32(v)), Binary: true}
}
func i2(v int16) Param {
	return Param{Data: binary.BigEndian.AppendUint16(nil, uint16(v)), Binary: true}
}
func bin(s string) Param {
	return Param{Data: []byte(s), Binary: true}
}
func uuidBin(s string) Param {
	s = strings.ReplaceAll(s, "-", "")
	var b []byte
	for i := 0; i < 32; i += 2 {
		var x byte
		for _, c := range s[i : i+2] {
			x <<= 4
			switch {
			case c >= '0' && c <= '9':
				x |= byte(c - '0')
			default:
				x |= byte(c-'a') + 10
			}
		}
		b = append(b, x)
	}
	return Param{Data: b, Binary: true}
}

// int8Array is a binary int8[]; nil elements are NULL.
func int8Array(vals ...*int64) Param {
	return Param{Data: vecbin.Int8Array(vals...), Binary: true}
}

// textArrayBin is a binary array of element type oid holding the strings.
func textArrayBin(oid uint32, vals ...string) Param {
	var elems [][]byte
	for _, v := range vals {
		elems = append(elems, []byte(v))
	}
	return Param{Data: vecbin.Array(oid, elems...), Binary: true}
}

func p64(v int64) *int64 { return &v }

func ps(p ...Param) []Param { return p }

// want is the expected decision: kind, shard, write; for errors the
// SQLSTATE and a substring of the message.
type want struct {
	kind  Kind
	shard int
	write bool
	code  string
	msg   string
}

func sh(n int) want  { return want{kind: Shard, shard: n} }
func shW(n int) want { return want{kind: Shard, shard: n, write: true} }
func allR() want     { return want{kind: All} }
func allW() want     { return want{kind: All, write: true} }
func none() want     { return want{kind: NoDecision} }
func fails(code, msg string) want {
	return want{kind: Error, code: code, msg: msg}
}

type routeCase struct {
	name   string
	sql    string
	params []Param
	shards int // 0: 4
	want   want
}

var routeCases = []routeCase{
	// SELECT ... ORDER BY distance on a vector table.
	{"order/cosine-op/binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/cosine-op/text", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[1,2,3]")), 0, sh(2)},
	{"order/l2-op/binary", "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5", ps(vecBin(3, 1, 0)), 0, sh(0)},
	{"order/l2-op/text", "SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5", ps(txt("[3, 1, 0]")), 0, sh(0)},
	{"order/ip-op/binary", "SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 5", ps(vecBin(-2, 1, 0)), 0, sh(3)},
	{"order/ip-op/text", "SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 5", ps(txt("[-2,1,0]")), 0, sh(3)},
	{"order/cosine_distance", "SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 1", ps(vecBin(0, 5, 1)), 0, sh(1)},
	{"order/l2_distance/reversed", "SELECT id FROM items ORDER BY l2_distance($1, embedding) LIMIT 1", ps(txt("[0,5,1]")), 0, sh(1)},
	{"order/inner_product", "SELECT id FROM items ORDER BY inner_product(embedding, $1) DESC LIMIT 1", ps(vecBin(3, 1, 0)), 0, sh(0)},
	{"order/inner_product-asc", "SELECT id FROM items ORDER BY inner_product(embedding, $1) LIMIT 1", ps(vecBin(3, 1, 0)), 0, allR()},
	{"order/reversed-operands", "SELECT id FROM items ORDER BY $1 <=> embedding LIMIT 1", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/literal", "SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5", nil, 0, sh(2)},
	{"order/literal-cast", "SELECT id FROM items ORDER BY embedding <=> '[3,1,0]'::vector LIMIT 5", nil, 0, sh(0)},
	{"order/literal-cast-typmod", "SELECT id FROM items ORDER BY embedding <-> '[-2,1,0]'::vector(3) LIMIT 5", nil, 0, sh(3)},
	{"order/literal-CAST", "SELECT id FROM items ORDER BY embedding <-> CAST('[0,5,1]' AS vector(3)) LIMIT 5", nil, 0, sh(1)},
	{"order/param-cast/binary", "SELECT id FROM items ORDER BY embedding <=> $1::vector(3) LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/param-cast/text", "SELECT id FROM items ORDER BY embedding <=> $1::vector LIMIT 5", ps(txt("[1,2,3]")), 0, sh(2)},
	{"order/param-text-cast/binary-text", "SELECT id FROM items ORDER BY embedding <=> $1::text::vector LIMIT 5", ps(bin("[3,1,0]")), 0, sh(0)},
	{"order/alias", "SELECT i.id FROM items i ORDER BY i.embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/alias-as", "SELECT x.id FROM items AS x WHERE x.price > 1 ORDER BY x.embedding <=> $1 LIMIT 5", ps(vecBin(0, 5, 1)), 0, sh(1)},
	{"order/schema", "SELECT id FROM public.items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/quoted", `SELECT "id" FROM "items" ORDER BY "embedding" <=> $1 LIMIT 5`, ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/qualified-column", "SELECT id FROM items ORDER BY items.embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/target-alias", "SELECT id, embedding <=> $1 AS d FROM items ORDER BY d LIMIT 5", ps(vecBin(3, 1, 0)), 0, sh(0)},
	{"order/position", "SELECT id, embedding <-> $1 FROM items ORDER BY 2 LIMIT 5", ps(vecBin(3, 1, 0)), 0, sh(0)},
	{"order/similarity-expr", "SELECT id FROM items ORDER BY 1 - (embedding <=> $1) DESC LIMIT 5", ps(vecBin(0, 5, 1)), 0, sh(1)},
	{"order/negated-ip", "SELECT id FROM items ORDER BY (embedding <#> $1) * -1 DESC LIMIT 5", ps(vecBin(-2, 1, 0)), 0, sh(3)},
	{"order/negated-ip-asc", "SELECT id FROM items ORDER BY (embedding <#> $1) * -1 LIMIT 5", ps(vecBin(-2, 1, 0)), 0, allR()},
	{"order/zero-vector", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(0, 0, 0)), 0, sh(0)},
	{"order/where-too", "SELECT id FROM items WHERE category = $2 ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3), txt("books")), 0, sh(2)},
	{"order/null-param", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(null()), 0, allR()},
	{"order/subquery-value", "SELECT id FROM items ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 1) LIMIT 5", nil, 0, allR()},
	{"order/second-key-only", "SELECT id FROM items ORDER BY price, embedding <=> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, allR()},
	{"order/l1-operator", "SELECT id FROM items ORDER BY embedding <+> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/other-operator", "SELECT id FROM items ORDER BY embedding <@> $1 LIMIT 5", ps(vecBin(1, 2, 3)), 0, allR()},
	{"order/for-update", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1 FOR UPDATE", ps(vecBin(1, 2, 3)), 0, shW(2)},
	{"order/for-share", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1 FOR SHARE", ps(txt("[1,2,3]")), 0, shW(2)},
	{"order/for-update-of", "SELECT i.id FROM items i ORDER BY i.embedding <=> $1 LIMIT 1 FOR UPDATE OF i", ps(txt("[1,2,3]")), 0, shW(2)},
	{"order/subquery", "SELECT * FROM (SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10) s WHERE s.id > 3", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"order/cte", "WITH nn AS (SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10) SELECT * FROM nn", ps(vecBin(0, 5, 1)), 0, sh(1)},
	{"order/lateral-join-other-table", "SELECT o.id FROM orders o JOIN items i ON i.id = o.item_id ORDER BY i.embedding <=> $1 LIMIT 3", ps(vecBin(3, 1, 0)), 0, sh(0)},
	{"order/no-order", "SELECT * FROM items WHERE price > 3", nil, 0, allR()},
	{"order/unconfigured", "SELECT * FROM foo ORDER BY v <=> $1 LIMIT 1", ps(vecBin(1, 2, 3)), 0, none()},

	// Vector value errors: the client gets the decoder's or the dimension error.
	{"order/dim/binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(1, 2)), 0, fails("22000", "expected 3 dimensions, not 2")},
	{"order/dim/text", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[1,2,3,4]")), 0, fails("22000", "expected 3 dimensions, not 4")},
	{"order/dim/literal", "SELECT id FROM items ORDER BY embedding <=> '[1]' LIMIT 5", nil, 0, fails("22000", "expected 3 dimensions, not 1")},
	{"order/malformed", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[1,2")), 0, fails("22P02", `invalid input syntax for type vector: "[1,2"`)},
	{"order/nan", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[NaN,1,2]")), 0, fails("22000", "NaN not allowed in vector")},
	{"order/inf", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[inf,1,2]")), 0, fails("22000", "infinite value not allowed in vector")},
	{"order/out-of-range", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[1e39,1,2]")), 0, fails("22003", `"1e39" is out of range for type vector`)},
	{"order/empty", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[]")), 0, fails("22000", "vector must have at least 1 dimension")},
	{"order/binary-short", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(bin("\x00\x03\x00\x00\x3f\x80")), 0, fails("08P01", "insufficient data left in message")},
	{"order/binary-unused", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(bin("\x00\x01\x00\x01\x3f\x80\x00\x00")), 0, fails("22000", "expected unused to be 0, not 1")},
	{"order/binary-nan", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(bin("\x00\x01\x00\x00\x7f\xc0\x00\x00")), 0, fails("22000", "NaN not allowed")},
	{"order/too-many-dims/text", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(txt("[" + strings.Repeat("0,", 16000) + "0]")), 0, fails("54000", "vector cannot have more than 16000 dimensions")},
	{"order/too-many-dims/binary", "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 5", ps(vecBin(make([]float32, 16001)...)), 0, fails("54000", "more than 16000 dimensions")},
	{"order/literal-malformed", "SELECT id FROM items ORDER BY embedding <=> '[1,,2]' LIMIT 5", nil, 0, fails("22P02", `invalid input syntax for type vector: "[1,,2]"`)},

	// halfvec (docs: c3k8, probes 2).
	{"halfvec/order/text-one-shard", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(txt("[1,0.1,0]")), 0, sh(0)},
	{"halfvec/order/binary-one-shard", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(halfBin(1, 0.1, 0)), 0, sh(0)},
	{"halfvec/order/probes-span", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(txt("[0.3,1,0]")), 0, allR()},
	{"halfvec/order/probes-span-binary", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(halfBin(0.3, 1, 0)), 0, allR()},
	{"halfvec/order/shard3", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(halfBin(-1, -0.1, 0)), 0, sh(3)},
	{"halfvec/order/cast", "SELECT id FROM docs ORDER BY emb <=> $1::halfvec(3) LIMIT 5", ps(halfBin(1, 0.1, 0)), 0, sh(0)},
	{"halfvec/order/literal", "SELECT id FROM docs ORDER BY emb <=> '[1,0.1,0]'::halfvec LIMIT 5", nil, 0, sh(0)},
	{"halfvec/order/qualified", "SELECT id FROM public.docs ORDER BY emb <=> '[1,0.1,0]' LIMIT 5", nil, 0, sh(0)},
	{"halfvec/order/other-schema", "SELECT id FROM other.docs ORDER BY emb <=> '[1,0.1,0]' LIMIT 5", nil, 0, none()},
	{"halfvec/out-of-range", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(txt("[65520,0,0]")), 0, fails("22003", `"65520" is out of range for type halfvec`)},
	{"halfvec/dim", "SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 5", ps(halfBin(1, 0)), 0, fails("22000", "expected 3 dimensions, not 2")},
	{"halfvec/eq-nearest", "SELECT * FROM docs WHERE emb = $1", ps(txt("[0.3,1,0]")), 0, sh(1)},
	{"halfvec/insert", "INSERT INTO docs (id, emb) VALUES ($1, $2)", ps(txt("7"), halfBin(0.3, 1, 0)), 0, shW(1)},

	// sparsevec (sparse_items: c3k4).
	{"sparse/order/text", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", ps(txt("{3:1}/3")), 0, sh(2)},
	{"sparse/order/binary", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", ps(sparseBin(3, map[int32]float32{2: 1})), 0, sh(2)},
	{"sparse/order/literal", "SELECT id FROM sparse_items ORDER BY sv <=> '{1:2,2:1}/3'::sparsevec LIMIT 5", nil, 0, sh(0)},
	{"sparse/order/binary-y", "SELECT id FROM sparse_items ORDER BY sv <-> $1 LIMIT 5", ps(sparseBin(3, map[int32]float32{1: 4, 2: 1})), 0, sh(1)},
	{"sparse/dim", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", ps(txt("{1:1}/4")), 0, fails("22000", "expected 3 dimensions, not 4")},
	{"sparse/bounds", "SELECT id FROM sparse_items ORDER BY sv <#> $1 LIMIT 5", ps(txt("{4:1}/3")), 0, fails("22000", "sparsevec index out of bounds")},
	{"sparse/insert/binary", "INSERT INTO sparse_items (id, sv) VALUES ($1, $2)", ps(i8(1), sparseBin(3, map[int32]float32{0: -5})), 0, shW(3)},

	// Other metrics.
	{"l2/order", "SELECT id FROM places ORDER BY loc <-> $1 LIMIT 1", ps(vecBin(9, 0, 0)), 0, sh(0)},
	{"l2/order2", "SELECT id FROM places ORDER BY loc <-> $1 LIMIT 1", ps(txt("[0,8,1]")), 0, sh(1)},
	{"ip/bare-file", "SELECT id FROM bare ORDER BY v <#> $1 LIMIT 1", ps(vecBin(0, 0, 5)), 0, sh(2)},
	{"ip/bare-file2", "SELECT id FROM bare ORDER BY v <#> $1 LIMIT 1", ps(vecBin(-1, 0, 0)), 0, sh(3)},

	// Vector equality.
	{"vec-eq/param", "SELECT * FROM items WHERE embedding = $1", ps(vecBin(1, 2, 3)), 0, sh(2)},
	{"vec-eq/literal-delete", "DELETE FROM items WHERE embedding = '[3,1,0]'", nil, 0, shW(0)},
	{"vec-eq/reversed", "SELECT * FROM items WHERE $1 = embedding AND price < 5", ps(txt("[0,5,1]")), 0, sh(1)},
	{"vec-eq/id-is-not-key", "SELECT * FROM items WHERE id = 5", nil, 0, allR()},

	// Id equality, bigint.
	{"id/text", "SELECT * FROM users WHERE id = $1", ps(txt("1")), 0, sh(3)},
	{"id/int8", "SELECT * FROM users WHERE id = $1", ps(i8(1)), 0, sh(3)},
	{"id/int4", "SELECT * FROM users WHERE id = $1::int4", ps(i4(42)), 0, sh(0)},
	{"id/int2", "SELECT * FROM users WHERE id = $1", ps(i2(-1)), 0, sh(2)},
	{"id/max", "SELECT * FROM users WHERE id = $1", ps(i8(9223372036854775807)), 0, sh(3)},
	{"id/literal", "SELECT * FROM users WHERE id = 42", nil, 0, sh(0)},
	{"id/literal-zero", "SELECT * FROM users WHERE id = 0", nil, 0, sh(0)},
	{"id/binary-zero", "SELECT * FROM users WHERE id = $1", ps(i8(0)), 0, sh(0)},
	{"id/literal-negative", "SELECT * FROM users WHERE id = -1", nil, 0, sh(2)},
	{"id/literal-big", "SELECT * FROM users WHERE id = 9223372036854775807", nil, 0, sh(3)},
	{"id/literal-string", "SELECT * FROM users WHERE id = '42'", nil, 0, sh(0)},
	{"id/literal-cast", "SELECT * FROM users WHERE id = '1'::bigint", nil, 0, sh(3)},
	{"id/reversed", "SELECT * FROM users WHERE $1 = id", ps(txt("42")), 0, sh(0)},
	{"id/and", "SELECT * FROM users WHERE id = $1 AND name = 'x' AND age > 3", ps(txt("1")), 0, sh(3)},
	{"id/and-nested", "SELECT * FROM users WHERE (name = 'x' AND (id = 1)) AND true", nil, 0, sh(3)},
	{"id/or", "SELECT * FROM users WHERE id = 1 OR id = 42", nil, 0, allR()},
	{"id/or-same", "SELECT * FROM users WHERE id = 1 OR name = 'x'", nil, 0, allR()},
	{"id/not", "SELECT * FROM users WHERE NOT (id = 1)", nil, 0, allR()},
	{"id/neq", "SELECT * FROM users WHERE id <> 1", nil, 0, allR()},
	{"id/in-same", "SELECT * FROM users WHERE id IN (1, 1)", nil, 0, sh(3)},
	{"id/in-diff", "SELECT * FROM users WHERE id IN (1, 42)", nil, 0, allR()},
	{"id/in-params", "SELECT * FROM users WHERE id IN ($1, $2)", ps(i8(42), txt("42")), 0, sh(0)},
	{"id/in-null", "SELECT * FROM users WHERE id IN (1, NULL)", nil, 0, sh(3)},
	{"id/not-in", "SELECT * FROM users WHERE id NOT IN (1)", nil, 0, allR()},
	{"id/any-text", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("{1,1}")), 0, sh(3)},
	{"id/any-text-diff", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("{1,42}")), 0, allR()},
	{"id/any-text-null", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("{ 42 , NULL }")), 0, sh(0)},
	{"id/any-text-quoted", "SELECT * FROM users WHERE id = ANY($1)", ps(txt(`{"42","4\2"}`)), 0, sh(0)},
	{"id/any-text-empty", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("{}")), 0, allR()},
	{"id/any-text-bounds", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("[1:2]={1,1}")), 0, sh(3)},
	{"id/any-text-bad-elem", "SELECT * FROM users WHERE id = ANY($1)", ps(txt("{1,x}")), 0, fails("22P02", "invalid input syntax for type bigint")},
	{"id/any-binary", "SELECT * FROM users WHERE id = ANY($1)", ps(int8Array(p64(1), p64(1))), 0, sh(3)},
	{"id/any-binary-diff", "SELECT * FROM users WHERE id = ANY($1)", ps(int8Array(p64(1), p64(42))), 0, allR()},
	{"id/any-binary-null", "SELECT * FROM users WHERE id = ANY($1::bigint[])", ps(int8Array(nil, p64(-1))), 0, sh(2)},
	{"id/any-binary-truncated", "SELECT * FROM users WHERE id = ANY($1)", ps(bin("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x02")), 0, allR()},
	{"id/any-array-expr", "SELECT * FROM users WHERE id = ANY(ARRAY[1, 1])", nil, 0, sh(3)},
	{"id/any-literal", "SELECT * FROM users WHERE id = ANY('{42}'::bigint[])", nil, 0, sh(0)},
	{"id/any-null", "SELECT * FROM users WHERE id = ANY($1)", ps(null()), 0, allR()},
	{"id/update", "UPDATE users SET name = $1 WHERE id = $2", ps(txt("bob"), i8(1)), 0, shW(3)},
	{"id/update-literal", "UPDATE users SET name = 'bob' WHERE id = 1", nil, 0, shW(3)},
	{"id/delete", "DELETE FROM users WHERE id = 42", nil, 0, shW(0)},
	{"id/delete-param", "DELETE FROM users WHERE id = $1 RETURNING *", ps(i8(42)), 0, shW(0)},
	{"id/text-cast-binary", "SELECT * FROM users WHERE id = $1::text::bigint", ps(bin("42")), 0, sh(0)},
	{"id/numeric-cast-binary", "SELECT * FROM users WHERE id = $1::numeric", ps(bin("\x00\x01")), 0, allR()},
	{"id/qualified", "SELECT * FROM users u WHERE u.id = 1", nil, 0, sh(3)},
	{"id/qualified-table", "SELECT * FROM users WHERE users.id = 1", nil, 0, sh(3)},
	{"id/qualified-schema", "SELECT * FROM public.users WHERE public.users.id = 1", nil, 0, sh(3)},
	{"id/alias-hides-name", "SELECT * FROM users u WHERE users.id = 1", nil, 0, allR()},
	{"id/null-literal", "SELECT * FROM users WHERE id = NULL", nil, 0, allR()},
	{"id/null-param", "SELECT * FROM users WHERE id = $1", ps(null()), 0, allR()},
	{"id/expression", "SELECT * FROM users WHERE id = $1 + 1", ps(txt("1")), 0, allR()},
	{"id/malformed", "SELECT * FROM users WHERE id = $1", ps(txt("abc")), 0, fails("22P02", `invalid input syntax for type bigint: "abc"`)},
	{"id/out-of-range", "SELECT * FROM users WHERE id = $1", ps(txt("9223372036854775808")), 0, fails("22003", "out of range for type bigint")},
	{"id/binary-bad-length", "SELECT * FROM users WHERE id = $1", ps(bin("\x00\x00\x01")), 0, fails("22P03", "incorrect binary data format for type bigint: 3 bytes, want 2, 4 or 8")},
	{"id/quoted-table", `SELECT * FROM "Order Lines" WHERE "OrderId" = 1`, nil, 0, sh(3)},
	{"id/quoted-table-unquoted-col", `SELECT * FROM "Order Lines" WHERE orderid = 1`, nil, 0, allR()},
	{"id/case-folded-name", `SELECT * FROM USERS WHERE ID = 42`, nil, 0, sh(0)},

	// uuid and text ids.
	{"uuid/text", "SELECT * FROM accounts WHERE uid = $1", ps(txt(uuid0)), 0, sh(0)},
	{"uuid/text-upper-braces", "SELECT * FROM accounts WHERE uid = $1", ps(txt("{550E8400E29B41D4A716446655440000}")), 0, sh(0)},
	{"uuid/binary", "SELECT * FROM accounts WHERE uid = $1", ps(uuidBin(uuid0)), 0, sh(0)},
	{"uuid/literal-cast", "SELECT * FROM accounts WHERE uid = '" + uuid0 + "'::uuid", nil, 0, sh(0)},
	{"uuid/malformed", "SELECT * FROM accounts WHERE uid = $1", ps(txt("550e8400")), 0, fails("22P02", "invalid input syntax for type uuid")},
	{"uuid/binary-short", "SELECT * FROM accounts WHERE uid = $1", ps(bin("0123456789")), 0, fails("08P01", "insufficient data left in message: uuid needs 16 bytes, got 10")},
	{"text/text", "SELECT * FROM tags WHERE name = $1", ps(txt("alice")), 0, sh(1)},
	{"text/binary", "SELECT * FROM tags WHERE name = $1", ps(bin("hello world")), 0, sh(2)},
	{"text/literal", "SELECT * FROM tags WHERE name = 'hello world'", nil, 0, sh(2)},
	{"text/any-binary", "SELECT * FROM tags WHERE name = ANY($1)", ps(textArrayBin(oidText, "alice", "alice")), 0, sh(1)},
	{"text/any-quoted", "SELECT * FROM tags WHERE name = ANY($1)", ps(txt(`{"hello world"}`)), 0, sh(2)},

	// Joins, subqueries, CTEs.
	{"join/where", "SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 1", nil, 0, sh(3)},
	{"join/on-inner", "SELECT * FROM orders o JOIN users u ON u.id = 42", nil, 0, sh(0)},
	{"join/left-nullable-side", "SELECT * FROM orders o LEFT JOIN users u ON u.id = 42", nil, 0, sh(0)},
	{"join/left-preserved-side", "SELECT * FROM users u LEFT JOIN orders o ON u.id = 42", nil, 0, allR()},
	{"join/full", "SELECT * FROM users u FULL JOIN orders o ON u.id = 42", nil, 0, allR()},
	{"join/unqualified-key", "SELECT * FROM users JOIN orders ON orders.user_id = users.id WHERE id = 1", nil, 0, sh(3)},
	{"join/other-qualifier", "SELECT * FROM users u, orders o WHERE o.id = 1", nil, 0, allR()},
	{"subquery/in", "SELECT * FROM orders WHERE user_id IN (SELECT id FROM users WHERE id = 42)", nil, 0, sh(0)},
	{"subquery/exists-nokey", "SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)", nil, 0, allR()},
	{"subquery/correlated-outer", "SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE u.id = 1)", nil, 0, allR()},
	{"subquery/from", "SELECT * FROM (SELECT * FROM users WHERE id = 1) s", nil, 0, sh(3)},
	{"subquery/scalar", "SELECT (SELECT name FROM users WHERE id = $1) AS n", ps(i8(42)), 0, sh(0)},
	{"cte/read", "WITH u AS (SELECT * FROM users WHERE id = 1) SELECT * FROM u", nil, 0, sh(3)},
	{"cte/shadows-table", "WITH users AS (SELECT 1 AS id) SELECT * FROM users WHERE id = 1", nil, 0, none()},
	{"cte/scope-is-sequential", "WITH a AS (SELECT * FROM users WHERE id = 1), users AS (SELECT 1 AS id) SELECT * FROM a, users", nil, 0, sh(3)},
	{"cte/name-in-subquery-scope", "SELECT * FROM (WITH users AS (SELECT 1 AS id) SELECT * FROM users) s, users WHERE users.id = 42", nil, 0, sh(0)},
	{"tablesample", "SELECT * FROM users TABLESAMPLE SYSTEM (10) WHERE id = 1", nil, 0, allR()},
	{"join-using", "SELECT * FROM users JOIN orders USING (id) WHERE id = 42", nil, 0, sh(0)},
	{"cte/recursive", "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t", nil, 0, none()},
	{"cte/delete", "WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d", nil, 0, shW(3)},
	{"cte/insert", "WITH n AS (INSERT INTO users (id, name) VALUES ($1, $2) RETURNING id) SELECT id FROM n", ps(i8(42), txt("x")), 0, shW(0)},
	{"cte/update-nokey", "WITH n AS (UPDATE users SET name = 'x' RETURNING id) SELECT id FROM n", nil, 0, allW()},
	{"union/same", "SELECT * FROM users WHERE id = 1 UNION SELECT * FROM users WHERE id = 1", nil, 0, sh(3)},
	{"union/diff", "SELECT * FROM users WHERE id = 1 UNION ALL SELECT * FROM users WHERE id = 42", nil, 0, allR()},
	{"comments", "SELECT /* hello */ * FROM users -- trailing\nWHERE id = 1 /* bye */", nil, 0, sh(3)},
	{"explain", "EXPLAIN SELECT * FROM users WHERE id = 1", nil, 0, sh(3)},
	{"explain-analyze-update", "EXPLAIN ANALYZE UPDATE users SET name = 'x' WHERE id = 42", nil, 0, shW(0)},
	{"declare-cursor", "DECLARE c CURSOR FOR SELECT * FROM items ORDER BY embedding <=> '[1,2,3]'", nil, 0, allR()},
	{"declare-cursor-limit", "DECLARE c CURSOR FOR SELECT * FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5", nil, 0, sh(2)},
	{"select-into", "SELECT * INTO newtable FROM users WHERE id = 1", nil, 0, shW(3)},

	// Two configured tables / several statements.
	{"two/agree", "SELECT * FROM users, accounts WHERE users.id = 42 AND accounts.uid = $1", ps(txt(uuid0)), 0, sh(0)},
	{"two/disagree-read", "SELECT * FROM users, tags WHERE users.id = 1 AND tags.name = 'hello world'", nil, 0, allR()},
	{"two/one-keyless-read", "SELECT * FROM users, tags WHERE users.id = 1", nil, 0, allR()},
	{"multi/agree", "SELECT * FROM users WHERE id = 42; SELECT * FROM accounts WHERE uid = '" + uuid0 + "'", nil, 0, sh(0)},
	{"multi/disagree-read", "SELECT * FROM users WHERE id = 1; SELECT * FROM users WHERE id = 42", nil, 0, allR()},
	{"multi/disagree-write", "UPDATE users SET x = 1 WHERE id = 1; UPDATE users SET x = 1 WHERE id = 42", nil, 0, fails("0A000", "shard 3")},
	{"multi/write-keyless", "UPDATE users SET x = 1 WHERE id = 1; DELETE FROM tags", nil, 0, allW()},
	{"multi/insert-and-all", "INSERT INTO users (id) VALUES (1); DELETE FROM tags", nil, 0, fails("0A000", "separate statements")},
	{"multi/begin-commit", "BEGIN; SELECT * FROM users WHERE id = 1; COMMIT", nil, 0, sh(3)},
	{"multi/write-read-agree", "UPDATE users SET x = 1 WHERE id = 42; SELECT * FROM users WHERE id = 42", nil, 0, shW(0)},
	{"update-from", "UPDATE orders SET x = 1 FROM users WHERE users.id = 1 AND orders.user_id = users.id", nil, 0, shW(3)},

	// INSERT.
	{"insert/vec-binary", "INSERT INTO items (id, embedding) VALUES ($1, $2)", ps(i8(1), vecBin(1, 2, 3)), 0, shW(2)},
	{"insert/vec-text", "INSERT INTO items (id, embedding) VALUES ($1, $2)", ps(txt("1"), txt("[3,1,0]")), 0, shW(0)},
	{"insert/vec-literal", "INSERT INTO items (id, embedding) VALUES (1, '[0,5,1]')", nil, 0, shW(1)},
	{"insert/vec-literal-cast", "INSERT INTO items (embedding, id) VALUES ('[-2,1,0]'::vector(3), 1)", nil, 0, shW(3)},
	{"insert/multi-same", "INSERT INTO items (id, embedding) VALUES (1, $1), (2, $2), (3, '[5,5,9]')", ps(vecBin(1, 2, 3), txt("[0,0,1]")), 0, shW(2)},
	{"insert/multi-diff", "INSERT INTO items (id, embedding) VALUES (1, $1), (2, $2)", ps(vecBin(1, 2, 3), vecBin(3, 1, 0)), 0, fails("0A000", "shard 2 (row 1) and shard 0 (row 2)")},
	{"insert/id", "INSERT INTO users (id, name) VALUES ($1, $2)", ps(i8(42), txt("x")), 0, shW(0)},
	{"insert/id-literal-multi", "INSERT INTO users (id, name) VALUES (1, 'a'), (1, 'b')", nil, 0, shW(3)},
	{"insert/id-multi-diff", "INSERT INTO users (id, name) VALUES (1, 'a'), (42, 'b')", nil, 0, fails("0A000", "nothing was sent")},
	{"insert/uuid", "INSERT INTO accounts (uid) VALUES ($1)", ps(uuidBin(uuid0)), 0, shW(0)},
	{"insert/text", "INSERT INTO tags (name) VALUES ('alice')", nil, 0, shW(1)},
	{"insert/returning", "INSERT INTO users (id) VALUES (42) RETURNING id, name", nil, 0, shW(0)},
	{"insert/on-conflict-nothing", "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", ps(txt("1"), txt("x")), 0, shW(3)},
	{"insert/on-conflict-update", "INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name", nil, 0, shW(3)},
	{"insert/on-conflict-update-key", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = excluded.id + 1", nil, 0, fails("0A000", "sharding key id of users")},
	{"insert/on-conflict-update-vec", "INSERT INTO items (id, embedding) VALUES (1, '[1,2,3]') ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding", nil, 0, fails("0A000", "allow_key_update")},
	{"insert/on-conflict-update-vec-allowed", "INSERT INTO docs (id, emb) VALUES (1, '[0.3,1,0]') ON CONFLICT (id) DO UPDATE SET emb = excluded.emb", nil, 0, shW(1)},
	{"insert/no-key-column", "INSERT INTO items (id, name) VALUES (1, 'x')", nil, 0, fails("42P10", "include embedding in the column list")},
	{"insert/no-column-list", "INSERT INTO users VALUES (1, 'x')", nil, 0, fails("42P10", "name the columns")},
	{"insert/select", "INSERT INTO users (id, name) SELECT id, name FROM old_users", nil, 0, fails("0A000", "INSERT ... SELECT")},
	{"insert/default-values", "INSERT INTO users DEFAULT VALUES", nil, 0, fails("23502", "DEFAULT VALUES")},
	{"insert/null-literal", "INSERT INTO users (id) VALUES (NULL)", nil, 0, fails("23502", "NULL sharding key id in row 1")},
	{"insert/null-param", "INSERT INTO items (id, embedding) VALUES (1, $1), (2, $2)", ps(txt("[1,2,3]"), null()), 0, fails("23502", "row 2")},
	{"insert/expression", "INSERT INTO users (id) VALUES (nextval('users_id_seq'))", nil, 0, fails("0A000", "cannot evaluate")},
	{"insert/default-key", "INSERT INTO users (id, name) VALUES (DEFAULT, 'x')", nil, 0, fails("0A000", "cannot evaluate")},
	{"insert/dim", "INSERT INTO items (id, embedding) VALUES ($1, $2)", ps(i8(1), vecBin(1, 2, 3, 4)), 0, fails("22000", "expected 3 dimensions, not 4")},
	{"insert/bad-id", "INSERT INTO users (id) VALUES ('x1')", nil, 0, fails("22P02", "bigint")},
	{"insert/unbound", "INSERT INTO users (id) VALUES ($1)", nil, 0, none()},
	{"insert/missing-param", "INSERT INTO users (id, name) VALUES ($2, $1)", ps(txt("x")), 0, fails("08P01", "$2")},
	{"insert/unconfigured", "INSERT INTO foo (a) VALUES (1)", nil, 0, none()},
	{"insert/unconfigured-select-configured", "INSERT INTO foo (a) SELECT id FROM users WHERE id = 42", nil, 0, shW(0)},

	// UPDATE of the key.
	{"update-key/vector", "UPDATE items SET embedding = $1 WHERE id = 5", ps(txt("[1,2,3]")), 0, fails("0A000", "allow_key_update")},
	{"update-key/id", "UPDATE users SET id = 5 WHERE id = 1", nil, 0, fails("0A000", "delete the row and insert it again")},
	{"update-key/allowed", "UPDATE docs SET emb = $1 WHERE id = 5", ps(txt("[1,0,0]")), 0, allW()},
	{"update-key/allowed-keyed", "UPDATE docs SET emb = $1 WHERE emb = $2", ps(txt("[1,0,0]"), txt("[0.3,1,0]")), 0, shW(1)},
	{"update/nokey", "UPDATE users SET name = 'x' WHERE age > 3", nil, 0, allW()},
	{"delete/nokey", "DELETE FROM items", nil, 0, allW()},
	{"truncate", "TRUNCATE users", nil, 0, allW()},
	{"merge/update", "MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name", nil, 0, allW()},
	{"merge/insert", "MERGE INTO users u USING src s ON u.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)", nil, 0, fails("0A000", "MERGE")},

	// COPY.
	{"copy/from-stdin", "COPY items FROM STDIN", nil, 0, fails("0A000", `use "vecshard split" to split the file per shard and COPY each part directly`)},
	{"copy/from-csv-columns", "COPY items (id, embedding) FROM STDIN WITH (FORMAT csv, HEADER true)", nil, 0, fails("0A000", "vecshard split")},
	{"copy/from-id-table", "COPY users FROM '/tmp/users.csv'", nil, 0, fails("0A000", "vecshard split")},
	{"copy/to", "COPY items TO STDOUT", nil, 0, allR()},
	{"copy/query-to", "COPY (SELECT * FROM users WHERE id = 1) TO STDOUT", nil, 0, sh(3)},
	{"copy/unconfigured", "COPY foo FROM STDIN", nil, 0, none()},
	{"copy/key-hint", "/* pgdog_sharding_key: 42 */ COPY users FROM STDIN", nil, 0, shW(0)},
	{"copy/hint", "/* pgdog_shard: 1 */ COPY items FROM STDIN", nil, 0, shW(1)},

	// Hints.
	{"hint/shard", "/* pgdog_shard: 2 */ SELECT * FROM items", nil, 0, sh(2)},
	{"hint/shard-trailing", "SELECT * FROM items /*pgdog_shard:3*/", nil, 0, sh(3)},
	{"hint/shard-no-table", "SELECT 1 /* pgdog_shard: 3 */", nil, 0, sh(3)},
	{"hint/shard-write", "/* pgdog_shard: 1 */ DELETE FROM users WHERE id = 42", nil, 0, shW(1)},
	{"hint/shard-range", "/* pgdog_shard: 4 */ SELECT * FROM items", nil, 0, fails("22023", "the pooler has 4 shards")},
	{"hint/shard-junk", "/* pgdog_shard: x */ SELECT * FROM items", nil, 0, fails("22023", "not a shard number")},
	{"hint/in-string", "SELECT '/* pgdog_shard: 1 */' FROM items", nil, 0, allR()},
	{"hint/in-identifier", `SELECT 1 AS "/* pgdog_shard: 1 */" FROM users WHERE id = 42`, nil, 0, sh(0)},
	{"hint/line-comment", "SELECT * FROM items -- pgdog_shard: 1", nil, 0, allR()},
	{"hint/wins-over-error", "/* pgdog_shard: 1 */ INSERT INTO items SELECT * FROM t", nil, 0, shW(1)},
	{"hint/wins-over-key", "/* pgdog_shard: 1 */ SELECT * FROM users WHERE id = 42", nil, 0, sh(1)},
	{"hint/wins-over-shards-mismatch", "/* pgdog_shard: 1 */ SELECT * FROM users WHERE id = 42", nil, 3, sh(1)},
	{"hint/key-id", "/* pgdog_sharding_key: 42 */ SELECT * FROM users", nil, 0, sh(0)},
	{"hint/key-id-quoted", "/* pgdog_sharding_key: '" + uuid0 + "' */ SELECT * FROM accounts", nil, 0, sh(0)},
	{"hint/key-vector", "/* pgdog_sharding_key: [1,2,3] */ SELECT * FROM items", nil, 0, sh(2)},
	{"hint/key-text", "SELECT * FROM tags /* pgdog_sharding_key: hello world */", nil, 0, sh(2)},
	{"hint/key-bad", "/* pgdog_sharding_key: abc */ SELECT * FROM users", nil, 0, fails("22P02", "bigint")},
	// text "42" is on shard 1, bigint 42 on shard 0: the hint uses the main table.
	{"hint/key-main-table-first", "/* pgdog_sharding_key: 42 */ SELECT * FROM tags WHERE name IN (SELECT name FROM users) AND EXISTS (SELECT 1 FROM accounts)", nil, 0, sh(1)},
	{"hint/key-insert-target-first", "/* pgdog_sharding_key: 42 */ INSERT INTO users (id, t) VALUES (1, (SELECT name FROM tags LIMIT 1))", nil, 0, shW(0)},
	{"hint/key-no-table", "/* pgdog_sharding_key: 42 */ SELECT 1", nil, 0, none()},
	{"hint/key-and-shard", "/* pgdog_sharding_key: 42 */ /* pgdog_shard: 2 */ SELECT * FROM users", nil, 0, sh(2)},

	// NO_DECISION.
	{"none/set", "SET search_path = public", nil, 0, none()},
	{"none/show", "SHOW search_path", nil, 0, none()},
	{"none/begin", "BEGIN", nil, 0, none()},
	{"none/commit", "COMMIT", nil, 0, none()},
	{"none/ddl", "CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)", nil, 0, none()},
	{"none/alter", "ALTER TABLE users ADD COLUMN x int", nil, 0, none()},
	{"none/vacuum", "VACUUM items", nil, 0, none()},
	{"none/select-1", "SELECT 1", nil, 0, none()},
	{"none/unconfigured", "SELECT * FROM foo WHERE id = 1", nil, 0, none()},
	{"none/parse-error", "SELEC * FROM items", nil, 0, none()},
	{"none/empty", "", nil, 0, none()},
	{"none/unbound", "SELECT * FROM users WHERE id = $1", nil, 0, none()},
	{"none/no-host-shards", "SELECT * FROM users WHERE id = 1", nil, -1, none()},

	// Shard count mismatch.
	{"shards/config-vs-host", "SELECT * FROM users WHERE id = 1", nil, 3, fails("F0000", "shards = 4 but the pooler has 3 shards")},
	{"shards/vector-vs-host", "SELECT id FROM items ORDER BY embedding <=> $1", ps(vecBin(1, 2, 3)), 5, fails("F0000", "the pooler has 5 shards")},
	{"shards/unconfigured-ok", "SELECT * FROM foo", nil, 3, none()},
}

func checkDecision(t *testing.T, name string, got Decision, w want) {
	t.Helper()
	if got.Kind != w.kind {
		t.Errorf("%s: kind %v, want %v (decision %+v)", name, got.Kind, w.kind, got)
		return
	}
	switch got.Kind {
	case Shard:
		if got.Shard != w.shard || got.Write != w.write {
			t.Errorf("%s: shard %d write %v, want shard %d write %v", name, got.Shard, got.Write, w.shard, w.write)
		}
	case All:
		if got.Write != w.write {
			t.Errorf("%s: ALL write %v, want %v", name, got.Write, w.write)
		}
	case Error:
		if len(got.Code) != 5 {
			t.Errorf("%s: SQLSTATE %q is not 5 characters", name, got.Code)
		}
		if w.code == "" || w.msg == "" {
			t.Errorf("%s: the test must name the SQLSTATE and a part of the message (got %s %q)", name, got.Code, got.Message)
		}
		if got.Code != w.code {
			t.Errorf("%s: code %s, want %s (%s)", name, got.Code, w.code, got.Message)
		}
		if !strings.Contains(got.Message, w.msg) {
			t.Errorf("%s: message %q does not contain %q", name, got.Message, w.msg)
		}
		if got.Message == "" {
			t.Errorf("%s: empty error message", name)
		}
	}
}

func TestRoute(t *testing.T) {
	runCases(t, New(loadGood(t)), routeCases)
	if len(routeCases) < 150 {
		t.Errorf("only %d cases", len(routeCases))
	}
}

// runCases routes every case twice (the first call analyses, the second uses
// the cached plan) on 4 shards unless the case says otherwise, and checks
// that Explain agrees with Route. Case names must be unique.
func runCases(t *testing.T, r *Router, cases []routeCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		shards := c.shards
		if shards == 0 {
			shards = 4
		}
		for pass := 0; pass < 2; pass++ {
			checkDecision(t, c.name, r.Route(c.sql, c.params, shards), c.want)
		}
		d, ex := r.Explain(c.sql, c.params, shards)
		checkDecision(t, c.name+"/explain", d, c.want)
		if ex.Decision != d.Kind.String() {
			t.Errorf("%s: explanation says %s, decision is %v", c.name, ex.Decision, d.Kind)
		}
	}
}

// TestSimpleEqualsExtended: the same value as a literal (simple protocol)
// and as a text or binary parameter lands on the same shard.
func TestSimpleEqualsExtended(t *testing.T) {
	r := New(loadGood(t))
	vecs := [][]float32{{1, 2, 3}, {3, 1, 0}, {0, 5, 1}, {-2, 1, 0}, {0.1, -0.2, 0.3}, {0, 0, 0}}
	for _, v := range vecs {
		lit := pgvector.NewVector(v).String()
		a := r.Route("SELECT 1 FROM items ORDER BY embedding <=> '"+lit+"' LIMIT 1", nil, 4)
		b := r.Route("SELECT 1 FROM items ORDER BY embedding <=> $1 LIMIT 1", ps(txt(lit)), 4)
		c := r.Route("SELECT 1 FROM items ORDER BY embedding <=> $1 LIMIT 1", ps(vecBin(v...)), 4)
		if a != b || b != c || a.Kind != Shard {
			t.Errorf("%v: literal %+v, text %+v, binary %+v", v, a, b, c)
		}
	}
	for _, id := range []int64{1, 42, -1, 7, 1 << 40} {
		d := "SELECT 1 FROM users WHERE id = "
		a := r.Route(d+itoa(id), nil, 4)
		b := r.Route(d+"$1", ps(txt(itoa(id))), 4)
		c := r.Route(d+"$1", ps(i8(id)), 4)
		if a != b || b != c || a.Kind != Shard {
			t.Errorf("%d: literal %+v, text %+v, binary %+v", id, a, b, c)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
