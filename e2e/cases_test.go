package e2e

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pgvector/pgvector-go"
	"github.com/vecshard/vecshard/internal/vecbin"
)

// param is one bound parameter as the test host sends it.
type param struct {
	data   []byte
	binary bool
	null   bool
}

func text(s string) param         { return param{data: []byte(s)} }
func bin(b []byte) param          { return param{data: b, binary: true} }
func null() param                 { return param{null: true} }
func int8bin(v int64) param       { return bin(binary.BigEndian.AppendUint64(nil, uint64(v))) }
func int4bin(v int32) param       { return bin(binary.BigEndian.AppendUint32(nil, uint32(v))) }
func int2bin(v int16) param       { return bin(binary.BigEndian.AppendUint16(nil, uint16(v))) }
func vecText(v ...float32) param  { return text(pgvector.NewVector(v).String()) }
func vecBin(v ...float32) param   { return bin(vecbin.Vector(v...)) }
func halfText(v ...float32) param { return text(pgvector.NewHalfVector(v).String()) }
func halfBin(v ...float32) param  { return bin(vecbin.Halfvec(v...)) }

func sparseText(v ...float32) param { return text(pgvector.NewSparseVector(v).String()) }

func sparseBin(v ...float32) param {
	b, err := pgvector.NewSparseVector(v).EncodeBinary(nil)
	if err != nil {
		panic(err)
	}
	return bin(b)
}

// testCase is one line of a host script: the host's shard count, the
// statement, its parameters and the decision ROUTING.md requires.
type testCase struct {
	shards int
	query  string
	params []param
	expect string
}

// The UUID and ids of FORMATS.md's golden table, with their shards among 4.
const goldenUUID = "550e8400-e29b-41d4-a716-446655440000" // shard 0

// routingCases are ROUTING.md's statements against testdata/vecshard.toml,
// whose centroids are the three axes and the opposite corner, centroid i on
// shard i: a vector's shard is the axis it leans towards (3 for the
// negative corner). Id shards are FORMATS.md's golden values.
func routingCases() []testCase {
	var cs []testCase
	add := func(shards int, query, expect string, params ...param) {
		cs = append(cs, testCase{shards: shards, query: query, params: params, expect: expect})
	}
	// Nearest-centroid routing, both wire formats, as pgvector-go encodes them.
	for shard, v := range [][]float32{{1, 0.1, 0.1}, {0.1, 2, 0.1}, {0.1, 0.1, 3}, {-1, -1, -0.5}} {
		read := fmt.Sprintf("shard=%d read", shard)
		write := fmt.Sprintf("shard=%d write", shard)
		add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10", read, vecText(v...))
		add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10", read, vecBin(v...))
		add(4, "SELECT id FROM items ORDER BY embedding <=> $1::vector LIMIT 10", read, vecBin(v...))
		add(4, "SELECT id FROM items ORDER BY cosine_distance(embedding, $1) LIMIT 3", read, vecText(v...))
		add(4, "SELECT * FROM items WHERE embedding = $1", read, vecBin(v...))
		add(4, "INSERT INTO items (id, embedding) VALUES ($1, $2)", write, text("7"), vecBin(v...))
		add(4, "INSERT INTO items (embedding, id) VALUES ($1, $2)", write, vecText(v...), int8bin(7))
		add(4, "SELECT * FROM items ORDER BY embedding <=> $1 LIMIT 1 FOR UPDATE", write, vecText(v...))
	}
	// Literals in the simple protocol.
	add(4, "SELECT id FROM items ORDER BY embedding <-> '[0.1,0.1,3]' LIMIT 1", "shard=2 read")
	add(4, "SELECT id FROM items ORDER BY embedding <=> '[0.1, 2, 0.1]'::vector LIMIT 1", "shard=1 read")
	add(4, "SELECT id FROM items ORDER BY embedding <=> '[0,0,0]' LIMIT 1", "shard=0 read") // zero vector: lowest index
	add(4, "INSERT INTO items (id, embedding) VALUES (1, '[1,0,0]'), (2, '[0.9,0.1,0]')", "shard=0 write")
	add(4, "INSERT INTO items (id, embedding) VALUES (1, '[1,0,0]'), (2, '[0,1,0]')", "error 0A000")
	add(4, "INSERT INTO items (id) VALUES (1)", "error 42P10")
	add(4, "INSERT INTO items SELECT * FROM staging", "error 0A000")
	add(4, "UPDATE items SET embedding = $1 WHERE id = 3", "error 0A000", vecText(1, 0, 0))
	// No usable key: every shard.
	add(4, "SELECT count(*) FROM items", "all read")
	add(4, "SELECT * FROM items WHERE id = 5", "all read")
	add(4, "UPDATE items SET note = 'x' WHERE id = 5", "all write")
	add(4, "DELETE FROM items", "all write")
	// COPY into a configured table is refused before any data flows.
	add(4, "COPY items FROM STDIN", "error 0A000")
	add(4, "COPY items (id, embedding) FROM STDIN WITH (FORMAT csv)", "error 0A000")
	// Bad vectors: the decoder's error, never a guess.
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 22000", vecText(1, 2))              // expected 3 dimensions, not 2
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 22000", vecBin(1, 2, 3, 4))         // expected 3 dimensions, not 4
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 22P02", text("[1,2"))               // malformed
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 22000", text("[NaN,1,1]"))          // NaN not allowed
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 22003", text("[1e39,0,0]"))         // out of range
	add(4, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error 08P01", bin([]byte{0, 3, 0, 0, 0})) // insufficient data
	add(4, "SELECT id FROM items ORDER BY embedding <=> '[1,2'", "error 22P02")
	// The host's shard count must be the configured one.
	add(8, "SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 1", "error F0000", vecText(1, 0, 0))
	add(8, "SELECT * FROM users WHERE id = 42", "error F0000")
	// Hints.
	add(4, "/* pgdog_shard: 2 */ SELECT * FROM items", "shard=2 read")
	add(4, "/* pgdog_shard: 9 */ SELECT * FROM items", "error 22023")
	add(4, "/* pgdog_sharding_key: 42 */ SELECT * FROM users", "shard=0 read")
	// halfvec and sparsevec columns.
	add(4, "SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 5", "shard=0 read", halfText(1, 0.125, 0.125))
	add(4, "SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 5", "shard=0 read", halfBin(1, 0.125, 0.125))
	add(4, "SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 5", "shard=2 read", halfBin(0.125, 0.125, 3))
	add(4, "SELECT id FROM sitems ORDER BY embedding <=> $1 LIMIT 5", "shard=2 read", sparseText(0, 0, 3))
	add(4, "SELECT id FROM sitems ORDER BY embedding <=> $1 LIMIT 5", "shard=2 read", sparseBin(0, 0, 3))
	add(4, "SELECT id FROM sitems ORDER BY embedding <=> $1 LIMIT 5", "shard=1 read", sparseBin(0, 2, 0))
	// bigint ids: text and binary int2/int4/int8 are the same key.
	users := "SELECT * FROM users WHERE id = $1"
	add(4, users, "shard=0 read", text("42"))
	add(4, users, "shard=0 read", int8bin(42))
	add(4, users, "shard=3 read", int4bin(1))
	add(4, users, "shard=3 read", int2bin(1))
	add(4, users, "shard=2 read", text("-1"))
	add(4, users, "shard=2 read", int8bin(-1))
	add(4, users, "shard=3 read", text("9223372036854775807"))
	add(4, users, "all read", null()) // a NULL key is no key
	add(4, "SELECT * FROM users WHERE id = 42", "shard=0 read")
	add(4, "SELECT * FROM users WHERE 1 = id", "shard=3 read")
	add(4, "SELECT * FROM users WHERE id = $1 AND name = $2", "shard=0 read", text("42"), text("bob"))
	add(4, "SELECT * FROM users WHERE id IN (1, 9223372036854775807)", "shard=3 read")
	add(4, "SELECT * FROM users WHERE id IN (1, 42)", "all read")
	add(4, "SELECT * FROM users WHERE id = ANY($1)", "shard=3 read", text("{1,9223372036854775807}"))
	add(4, "SELECT * FROM users WHERE id = 42 FOR UPDATE", "shard=0 write")
	add(4, "UPDATE users SET name = $1 WHERE id = $2", "shard=0 write", text("bob"), text("42"))
	add(4, "DELETE FROM users WHERE id = -1", "shard=2 write")
	add(4, "INSERT INTO users (id, name) VALUES ($1, $2)", "shard=3 write", int8bin(1), text("x"))
	add(4, "UPDATE users SET id = 5 WHERE id = 42", "error 0A000")
	add(4, "SELECT * FROM users", "all read")
	// uuid ids: every PostgreSQL spelling, and 16 binary bytes.
	accounts := "SELECT * FROM accounts WHERE uid = $1"
	raw, _ := hex.DecodeString(strings.ReplaceAll(goldenUUID, "-", ""))
	add(4, accounts, "shard=0 read", text(goldenUUID))
	add(4, accounts, "shard=0 read", text("{550E8400E29B41D4A716446655440000}"))
	add(4, accounts, "shard=0 read", bin(raw))
	add(4, "SELECT * FROM accounts WHERE uid = '"+goldenUUID+"'::uuid", "shard=0 read")
	// text ids.
	tags := "SELECT * FROM tags WHERE name = $1"
	add(4, tags, "shard=1 read", text("alice"))
	add(4, tags, "shard=1 read", bin([]byte("alice")))
	add(4, tags, "shard=2 read", text("hello world"))
	add(4, "SELECT * FROM tags WHERE name = 'hello world'", "shard=2 read")
	// Not ours: PgDog decides.
	add(4, "SELECT * FROM other WHERE id = 1", "none")
	add(4, "COPY other FROM STDIN", "none")
	add(4, "SELECT 1", "none")
	add(4, "SET search_path TO public", "none")
	add(4, "SHOW server_version", "none")
	add(4, "BEGIN", "none")
	add(4, "COMMIT", "none")
	add(4, `@copydata 1,"[1,0,0]"\n2,"[0,1,0]"\n`, "none") // COPY_INPUT
	return cs
}

// script renders cases in the host's script format.
func script(cs []testCase) string {
	var b strings.Builder
	b.WriteString("# generated by e2e tests: shards<TAB>query<TAB>params<TAB>expect\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "%d\t%s\t", c.shards, c.query)
		if len(c.params) == 0 {
			b.WriteString("-")
		}
		for i, p := range c.params {
			if i > 0 {
				b.WriteByte('|')
			}
			switch {
			case p.null:
				b.WriteString("null")
			case p.binary:
				b.WriteString("x:" + hex.EncodeToString(p.data))
			case strings.ContainsAny(string(p.data), "|\t\n\r\\") || len(p.data) == 0:
				b.WriteString("tx:" + hex.EncodeToString(p.data))
			default:
				b.WriteString("t:" + string(p.data))
			}
		}
		fmt.Fprintf(&b, "\t%s\n", c.expect)
	}
	return b.String()
}
