// Package idkey turns id values from PostgreSQL's wire formats into the
// 64-bit keys that vecshard hashes with jump consistent hashing.
//
// The mapping is frozen (changing it moves data) and is defined in
// FORMATS.md, "Id keys for jump consistent hashing":
//
//	bigint: key = fmix64(uint64(v))   (MurmurHash3's 64-bit finalizer)
//	uuid:   key = XXH64(16 bytes, seed 0)
//	text:   key = XXH64(UTF-8 bytes, seed 0)
//	shard   = jump.Hash(key, shards)
//
// Every spelling of a value that PostgreSQL accepts as the same value maps to
// the same key: a bigint in text or in binary int2/int4/int8, a uuid in any
// text spelling uuid_in accepts or as 16 binary bytes. None of the functions
// allocate unless they return an error.
package idkey

import (
	"encoding/binary"
	"strconv"

	"github.com/cespare/xxhash/v2"
	jump "github.com/dgryski/go-jump"
)

// Type is the SQL type of an id column.
type Type uint8

// The id types.
const (
	Bigint Type = iota // int8; int2 and int4 values are accepted too
	UUID
	Text
)

// String returns the SQL name of the type: "bigint", "uuid" or "text".
func (t Type) String() string {
	switch t {
	case Bigint:
		return "bigint"
	case UUID:
		return "uuid"
	case Text:
		return "text"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType returns the Type named s, one of "bigint", "uuid" or "text"
// (the spellings of the config's id_type).
func ParseType(s string) (Type, error) {
	switch s {
	case "bigint":
		return Bigint, nil
	case "uuid":
		return UUID, nil
	case "text":
		return Text, nil
	}
	return 0, &Error{Type: Text, Code: codeInvalidParameter,
		Msg: "unknown id type " + strconv.Quote(s) + ` (want "bigint", "uuid" or "text")`}
}

// SQLSTATE codes of the errors this package returns.
const (
	codeInvalidText      = "22P02" // invalid_text_representation
	codeOutOfRange       = "22003" // numeric_value_out_of_range
	codeInvalidBinary    = "22P03" // invalid_binary_representation
	codeProtocol         = "08P01" // protocol_violation
	codeInvalidParameter = "22023" // invalid_parameter_value
)

// Error is a value that PostgreSQL would refuse, described as the server
// describes it.
type Error struct {
	Type Type   // the id type being decoded
	Code string // SQLSTATE, e.g. "22P02"
	Msg  string // the server's message, e.g. `invalid input syntax for type bigint: "x"`
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Msg }

func syntaxError(t Type, src []byte) error {
	return &Error{Type: t, Code: codeInvalidText,
		Msg: "invalid input syntax for type " + t.String() + `: "` + string(src) + `"`}
}

// Key returns the 64-bit key of one id value of type t, given in PostgreSQL's
// binary format when bin is set, else in its text format.
//
// Binary bigint is a big-endian two's-complement int2, int4 or int8 (2, 4 or
// 8 bytes); binary uuid is exactly 16 bytes; text in either format is its raw
// bytes. The caller handles SQL NULL (an empty parameter) before calling Key:
// to Key an empty src is an empty value.
func Key(t Type, bin bool, src []byte) (uint64, error) {
	switch t {
	case Bigint:
		var v int64
		var err error
		if bin {
			v, err = bigintBinary(src)
		} else {
			v, err = ParseBigint(src)
		}
		if err != nil {
			return 0, err
		}
		return BigintKey(v), nil
	case UUID:
		if bin {
			if len(src) != 16 {
				return 0, uuidLengthError(len(src))
			}
			return xxhash.Sum64(src), nil
		}
		var u [16]byte
		if !parseUUID(&u, src) {
			return 0, syntaxError(UUID, src)
		}
		return xxhash.Sum64(u[:]), nil
	case Text:
		return TextKey(src), nil
	}
	return 0, &Error{Type: t, Code: codeInvalidParameter, Msg: "unknown id type " + t.String()}
}

// Shard returns the shard of key among shards shards, jump.Hash(key, shards),
// a number in [0, shards). shards must be at least 1; for shards < 1 Shard
// returns -1.
func Shard(key uint64, shards int) int {
	if shards < 1 {
		return -1
	}
	return int(jump.Hash(key, shards))
}

// BigintKey returns the key of the bigint v: MurmurHash3's 64-bit finalizer
// fmix64 applied to v's two's-complement bits. fmix64 is a bijection, so
// distinct numbers never share a key, and it spreads sequential ids evenly.
func BigintKey(v int64) uint64 {
	k := uint64(v)
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// UUIDKey returns the key of the uuid u (its 16 bytes in network order, as
// uuid_send writes them): XXH64 of the 16 bytes with seed 0.
func UUIDKey(u [16]byte) uint64 { return xxhash.Sum64(u[:]) }

// TextKey returns the key of a text id: XXH64 of its bytes with seed 0.
func TextKey(b []byte) uint64 { return xxhash.Sum64(b) }

// bigintBinary decodes int2send, int4send or int8send output, told apart by
// length. A client binding a smaller integer type to a bigint column sends
// fewer bytes; sign extension makes every width of a number the same value.
func bigintBinary(src []byte) (int64, error) {
	switch len(src) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(src))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(src))), nil
	case 8:
		return int64(binary.BigEndian.Uint64(src)), nil
	}
	return 0, &Error{Type: Bigint, Code: codeInvalidBinary,
		Msg: "incorrect binary data format for type bigint: " + strconv.Itoa(len(src)) +
			" bytes, want 2, 4 or 8"}
}

func uuidLengthError(n int) error {
	if n < 16 {
		// uuid_recv asks for 16 bytes and the message has fewer.
		return &Error{Type: UUID, Code: codeProtocol,
			Msg: "insufficient data left in message: uuid needs 16 bytes, got " + strconv.Itoa(n)}
	}
	// Bytes left over after uuid_recv.
	return &Error{Type: UUID, Code: codeInvalidBinary,
		Msg: "incorrect binary data format: uuid needs 16 bytes, got " + strconv.Itoa(n)}
}

// isSpace reports whether c is white space for C's isspace in the "C" locale,
// which is what PostgreSQL's integer input skips: space, \t, \n, \v, \f, \r.
func isSpace(c byte) bool { return c == ' ' || c-'\t' <= '\r'-'\t' }

// hexVal returns the value of the hexadecimal digit c, or 0xff.
func hexVal(c byte) byte { return hexTable[c] }

// hexTable maps a byte to its value as a hexadecimal digit (either case), or
// 0xff. A string constant: immutable, and indexing it by a byte needs no
// bounds check.
const hexTable = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// ParseBigint parses the text form of a bigint exactly as PostgreSQL's int8in
// (pg_strtoint64_safe, PostgreSQL 16 and later) does:
//
//	[space] [+|-] digits [space]
//
// where space is C white space (space, \t, \n, \v, \f, \r) and digits are
// decimal, or hexadecimal after 0x/0X, octal after 0o/0O, binary after 0b/0B;
// a single underscore may separate two digits ("1_000", "0x_ff"; a decimal
// number may not start with one). The value must lie in
// [-9223372036854775808, 9223372036854775807].
//
// Errors are the server's: `invalid input syntax for type bigint: "s"`
// (22P02) and `value "s" is out of range for type bigint` (22003).
// PostgreSQL 15 and earlier accept only decimal digits without underscores; a
// spelling they refuse never reaches a table, so accepting it cannot misplace
// a row.
func ParseBigint(s []byte) (int64, error) {
	// Fast path: plain decimal, the only spelling real clients send.
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i < len(s) && i+19 >= len(s) {
		var u uint64
		j := i
		for ; len(s)-j >= 8; j += 8 {
			x := binary.LittleEndian.Uint64(s[j:])
			if !isDigit8(x) {
				break
			}
			u = u*1e8 + digits8(x)
		}
		for ; j < len(s); j++ {
			d := s[j] - '0'
			if d > 9 {
				break
			}
			u = u*10 + uint64(d) // at most 19 digits: cannot wrap
		}
		if j == len(s) {
			return bigintFromMagnitude(s, u, neg)
		}
	}
	return parseBigintSlow(s)
}

// isDigit8 reports whether all eight bytes of x are decimal digits: each
// byte is 0x3_ and stays 0x3_ after adding 6 (which pushes 0x3a-0x3f out).
func isDigit8(x uint64) bool {
	return x&(ones*0xf0) == ones*0x30 && (x+ones*0x06)&(ones*0xf0) == ones*0x30
}

// digits8 returns the value of the eight decimal digits of x, the first
// digit in the lowest byte, by combining neighbours: pairs, quads, octets.
func digits8(x uint64) uint64 {
	x -= ones * '0'
	x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
	x = (x*100 + x>>16) & 0x0000ffff0000ffff
	return (x*10000 + x>>32) & 0xffffffff
}

// bigintFromMagnitude applies the sign to the magnitude u, range-checked.
func bigintFromMagnitude(s []byte, u uint64, neg bool) (int64, error) {
	const maxMag = 1 << 63 // magnitude of the most negative int64
	if neg {
		if u > maxMag {
			return 0, rangeError(s)
		}
		return int64(-u), nil
	}
	if u > maxMag-1 {
		return 0, rangeError(s)
	}
	return int64(u), nil
}

func rangeError(s []byte) error {
	return &Error{Type: Bigint, Code: codeOutOfRange,
		Msg: `value "` + string(s) + `" is out of range for type bigint`}
}

func parseBigintSlow(s []byte) (int64, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	if i+1 < len(s) && s[i] == '0' {
		switch s[i+1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			i += 2
		}
	}
	digit := func(c byte) (uint64, bool) {
		v := uint64(hexVal(c))
		return v, v < base
	}
	const maxMag = 1 << 63
	first := i
	var u uint64
	for i < len(s) {
		if d, ok := digit(s[i]); ok {
			// The server refuses as soon as the magnitude cannot take
			// another digit, even if the digit would be its last.
			if u > maxMag/base {
				return 0, rangeError(s)
			}
			u = u*base + d // at most maxMag+base-1: cannot wrap
			i++
			continue
		}
		if s[i] == '_' {
			if base == 10 && i == first {
				return 0, syntaxError(Bigint, s)
			}
			i++
			if i == len(s) {
				return 0, syntaxError(Bigint, s)
			}
			if _, ok := digit(s[i]); !ok {
				return 0, syntaxError(Bigint, s)
			}
			continue
		}
		break
	}
	if i == first {
		return 0, syntaxError(Bigint, s)
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, syntaxError(Bigint, s)
	}
	return bigintFromMagnitude(s, u, neg)
}

// ParseUUID parses the text form of a uuid exactly as PostgreSQL's uuid_in
// (string_to_uuid) does: 32 hexadecimal digits of either case, in pairs that
// give the 16 bytes in order; after every group of 4 digits except the last
// one hyphen may follow; the whole may be enclosed in one pair of braces. No
// white space is allowed anywhere. So "550e8400-e29b-41d4-a716-446655440000",
// "550E8400E29B41D4A716446655440000" and
// "{550e8400-e29b41d4-a716-4466-5544-0000}" are the same uuid, while
// "550e84-00..." (hyphen inside a group), two hyphens in a row, a hyphen
// after the last group, a lone brace and surrounding white space are refused
// with `invalid input syntax for type uuid: "s"` (22P02).
func ParseUUID(s []byte) ([16]byte, error) {
	var u [16]byte
	if !parseUUID(&u, s) {
		return [16]byte{}, syntaxError(UUID, s)
	}
	return u, nil
}

// parseUUID decodes s into u in place, so that the hot path never copies a
// uuid between 8-byte stores and 16-byte loads (a store-forwarding stall that
// costs more than the decoding); ok is false if s is not a uuid.
func parseUUID(u *[16]byte, s []byte) (ok bool) {
	// Fast paths for the two spellings clients send: uuid_out's canonical
	// 8-4-4-4-12 form and 32 bare digits. Anything else, including every
	// error, takes the general path.
	le := binary.LittleEndian
	switch {
	case len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-':
		if decode4(u, le.Uint64(s[0:8]),
			uint64(le.Uint32(s[9:13]))|uint64(le.Uint32(s[14:18]))<<32,
			uint64(le.Uint32(s[19:23]))|uint64(le.Uint32(s[24:28]))<<32,
			le.Uint64(s[28:36])) {
			return true
		}
	case len(s) == 32:
		if decode4(u, le.Uint64(s[0:8]), le.Uint64(s[8:16]), le.Uint64(s[16:24]), le.Uint64(s[24:32])) {
			return true
		}
	}
	i := 0
	braces := len(s) > 0 && s[0] == '{'
	if braces {
		i++
	}
	for b := 0; b < 16; b++ {
		if i+1 >= len(s) {
			return false
		}
		hi, lo := hexVal(s[i]), hexVal(s[i+1])
		if hi > 15 || lo > 15 {
			return false
		}
		u[b] = hi<<4 | lo
		i += 2
		if b%2 == 1 && b < 15 && i < len(s) && s[i] == '-' {
			i++
		}
	}
	if braces {
		if i >= len(s) || s[i] != '}' {
			return false
		}
		i++
	}
	return i == len(s)
}

// The fast paths decode eight hexadecimal digits at a time in a uint64 (SWAR:
// SIMD within a register), with no table and no per-byte branch.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// inRange returns highs' bit set in every byte of x that lies in [lo, hi].
// Bytes of x must be below 0x80 and lo <= hi <= 0x7f, so no lane carries.
func inRange(x uint64, lo, hi byte) uint64 {
	return (x + ones*uint64(0x80-lo)) &^ (x + ones*uint64(0x7f-hi)) & highs
}

// isHex8 reports whether all eight bytes of x are hexadecimal digits.
func isHex8(x uint64) bool {
	// A letter is a digit of either case: x|0x20 folds 'A'-'F' onto 'a'-'f'
	// and nothing else onto them. Digits are tested unfolded, because the
	// fold maps 0x10-0x19 onto '0'-'9'. Bytes >= 0x80 would carry between
	// lanes; they fail the first test.
	return x&highs == 0 && inRange(x, '0', '9')|inRange(x|ones*0x20, 'a', 'f') == highs
}

// hex8 decodes eight hexadecimal digits, already checked with isHex8, from
// x (the first digit in the lowest byte, as a little-endian load gives them)
// into four bytes, the first byte lowest.
func hex8(x uint64) uint32 {
	// '0'-'9' is 0x30-0x39 and 'a'/'A' is 0x61/0x41: the low nibble is the
	// value, plus 9 when bit 6 (letters) is set.
	n := x&(ones*0x0f) + (x>>6)&ones*9
	// Pack nibble pairs into bytes, then the bytes into the low half.
	n = (n<<4 | n>>8) & 0x00ff00ff00ff00ff
	n = (n | n>>8) & 0x0000ffff0000ffff
	return uint32(n | n>>16)
}

// decode4 decodes into u 32 hexadecimal digits given as four little-endian
// loads of eight; ok is false if one is not a digit.
func decode4(u *[16]byte, x0, x1, x2, x3 uint64) (ok bool) {
	if !isHex8(x0) || !isHex8(x1) || !isHex8(x2) || !isHex8(x3) {
		return false
	}
	le := binary.LittleEndian
	le.PutUint64(u[0:8], uint64(hex8(x0))|uint64(hex8(x1))<<32)
	le.PutUint64(u[8:16], uint64(hex8(x2))|uint64(hex8(x3))<<32)
	return true
}
