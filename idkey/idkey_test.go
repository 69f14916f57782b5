package idkey

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// golden is FORMATS.md's table of frozen keys. Shard -1 means the table has
// no value for that shard count.
var golden = []struct {
	name    string
	t       Type
	text    string
	key     uint64
	shards4 int
	shards8 int
	shard10 int
}{
	{"bigint 1", Bigint, "1", 0xb456bcfc34c2cb2c, 3, 3, 3},
	{"bigint 42", Bigint, "42", 0x810879608e4259cc, 0, 0, 8},
	{"bigint -1", Bigint, "-1", 0x64b5720b4b825f21, 2, 7, 7},
	{"bigint max", Bigint, "9223372036854775807", 0xabb93df0a930edea, 3, 3, 3},
	{"uuid", UUID, "550e8400-e29b-41d4-a716-446655440000", 0x9c00a35619d3aa77, 0, 5, -1},
	{"text alice", Text, "alice", 0x73a3ea485f2e6049, 1, 1, -1},
	{"text hello world", Text, "hello world", 0x45ab6734b21e6968, 2, 7, -1},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			key, err := Key(g.t, false, []byte(g.text))
			if err != nil {
				t.Fatalf("Key(%v, text, %q): %v", g.t, g.text, err)
			}
			if key != g.key {
				t.Fatalf("Key(%v, text, %q) = %#x, want %#x", g.t, g.text, key, g.key)
			}
			// The binary spelling of the same value has the same key.
			var bin []byte
			switch g.t {
			case Bigint:
				v, _ := strconv.ParseInt(g.text, 10, 64)
				bin = binary.BigEndian.AppendUint64(nil, uint64(v))
			case UUID:
				u, err := ParseUUID([]byte(g.text))
				if err != nil {
					t.Fatal(err)
				}
				bin = u[:]
			case Text:
				bin = []byte(g.text)
			}
			if bk, err := Key(g.t, true, bin); err != nil || bk != g.key {
				t.Fatalf("Key(%v, binary, % x) = %#x, %v; want %#x", g.t, bin, bk, err, g.key)
			}
			for _, c := range []struct{ n, want int }{{4, g.shards4}, {8, g.shards8}, {10, g.shard10}} {
				if c.want < 0 {
					continue
				}
				if got := Shard(key, c.n); got != c.want {
					t.Errorf("Shard(%#x, %d) = %d, want %d", key, c.n, got, c.want)
				}
			}
		})
	}
}

func TestShardRange(t *testing.T) {
	if got := Shard(42, 0); got != -1 {
		t.Errorf("Shard(42, 0) = %d, want -1", got)
	}
	if got := Shard(42, 1); got != 0 {
		t.Errorf("Shard(42, 1) = %d, want 0", got)
	}
	// Every shard of 8 is reached by the first 1000 bigints, and none is
	// more than twice as full as another.
	var count [8]int
	for v := int64(0); v < 1000; v++ {
		s := Shard(BigintKey(v), 8)
		if s < 0 || s >= 8 {
			t.Fatalf("Shard(BigintKey(%d), 8) = %d", v, s)
		}
		count[s]++
	}
	for s, c := range count {
		if c < 1000/8/2 || c > 1000/8*2 {
			t.Errorf("shard %d got %d of 1000 sequential ids: %v", s, c, count)
		}
	}
}

func TestParseBigint(t *testing.T) {
	const (
		syntax = "invalid input syntax for type bigint: "
		rng    = "value %s is out of range for type bigint"
	)
	tests := []struct {
		in   string
		want int64
		err  string // the whole message, when an error is expected
	}{
		{"0", 0, ""},
		{"42", 42, ""},
		{"-42", -42, ""},
		{"+42", 42, ""},
		{"-0", 0, ""},
		{"007", 7, ""},
		{"  42", 42, ""},
		{"42  ", 42, ""},
		{" \t\n\v\f\r-42\r\n", -42, ""},
		{"9223372036854775807", math.MaxInt64, ""},
		{"-9223372036854775808", math.MinInt64, ""},
		{"+9223372036854775807", math.MaxInt64, ""},
		{"00000000000000000000000000042", 42, ""},
		{"1234567812345678", 1234567812345678, ""},
		{"-1234567812345678", -1234567812345678, ""},
		{"12345678/", 0, syntax + `"12345678/"`},
		{"1234567:", 0, syntax + `"1234567:"`},
		{"12345678123456789\x00", 0, syntax + "\"12345678123456789\x00\""},
		{"-00000000000000000009223372036854775808", math.MinInt64, ""},
		// PostgreSQL 16 spellings: bases and underscores.
		{"0x2A", 42, ""},
		{"0X2a", 42, ""},
		{"-0x8000000000000000", math.MinInt64, ""},
		{"0x7FFFFFFFFFFFFFFF", math.MaxInt64, ""},
		{"0o52", 42, ""},
		{"0O52", 42, ""},
		{"0b101010", 42, ""},
		{"0B101010", 42, ""},
		{"1_000_000", 1000000, ""},
		{"0x_2a", 42, ""},
		{"0b_1", 1, ""},
		{" -0x_ff_ff ", -65535, ""},

		{"", 0, syntax + `""`},
		{" ", 0, syntax + `" "`},
		{"-", 0, syntax + `"-"`},
		{"+", 0, syntax + `"+"`},
		{"+-1", 0, syntax + `"+-1"`},
		{"--1", 0, syntax + `"--1"`},
		{"- 1", 0, syntax + `"- 1"`},
		{"x", 0, syntax + `"x"`},
		{"1x", 0, syntax + `"1x"`},
		{"1 2", 0, syntax + `"1 2"`},
		{"1.0", 0, syntax + `"1.0"`},
		{"1e3", 0, syntax + `"1e3"`},
		{"0x", 0, syntax + `"0x"`},
		{"0xg", 0, syntax + `"0xg"`},
		{"0o8", 0, syntax + `"0o8"`},
		{"0b2", 0, syntax + `"0b2"`},
		{"_1", 0, syntax + `"_1"`},
		{"1_", 0, syntax + `"1_"`},
		{"1__0", 0, syntax + `"1__0"`},
		{"0x_", 0, syntax + `"0x_"`},
		{"1\x00", 0, syntax + "\"1\x00\""},
		{"\u00a042", 0, syntax + "\"\u00a042\""}, // NBSP is not C white space
		{"9223372036854775808", 0, fmt.Sprintf(rng, `"9223372036854775808"`)},
		{"-9223372036854775809", 0, fmt.Sprintf(rng, `"-9223372036854775809"`)},
		{"99999999999999999999", 0, fmt.Sprintf(rng, `"99999999999999999999"`)},
		{"18446744073709551616", 0, fmt.Sprintf(rng, `"18446744073709551616"`)},
		{"0x8000000000000000", 0, fmt.Sprintf(rng, `"0x8000000000000000"`)},
		{"0x1_0000_0000_0000_0000", 0, fmt.Sprintf(rng, `"0x1_0000_0000_0000_0000"`)},
		// The server stops at the digit that overflows, before it sees the
		// junk that follows: range, not syntax.
		{"99999999999999999999x", 0, fmt.Sprintf(rng, `"99999999999999999999x"`)},
		{" 99999999999999999999 x", 0, fmt.Sprintf(rng, `" 99999999999999999999 x"`)},
	}
	for _, tt := range tests {
		got, err := ParseBigint([]byte(tt.in))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseBigint(%q) = %d, %v; want error %q", tt.in, got, err, tt.err)
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Type != Bigint {
				t.Errorf("ParseBigint(%q): error %#v is not an *Error for bigint", tt.in, err)
			}
			wantCode := "22P02"
			if strings.Contains(tt.err, "out of range") {
				wantCode = "22003"
			}
			if e.Code != wantCode {
				t.Errorf("ParseBigint(%q): code %s, want %s", tt.in, e.Code, wantCode)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBigint(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestBigintBinary(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 42, math.MaxInt16, math.MinInt16, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		want := BigintKey(v)
		if k, err := Key(Bigint, false, []byte(strconv.FormatInt(v, 10))); err != nil || k != want {
			t.Errorf("text %d: key %#x, %v; want %#x", v, k, err, want)
		}
		if k, err := Key(Bigint, true, binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil || k != want {
			t.Errorf("int8 %d: key %#x, %v; want %#x", v, k, err, want)
		}
		if v == int64(int32(v)) {
			if k, err := Key(Bigint, true, binary.BigEndian.AppendUint32(nil, uint32(v))); err != nil || k != want {
				t.Errorf("int4 %d: key %#x, %v; want %#x", v, k, err, want)
			}
		}
		if v == int64(int16(v)) {
			if k, err := Key(Bigint, true, binary.BigEndian.AppendUint16(nil, uint16(v))); err != nil || k != want {
				t.Errorf("int2 %d: key %#x, %v; want %#x", v, k, err, want)
			}
		}
	}
	for _, n := range []int{0, 1, 3, 5, 6, 7, 9, 16} {
		_, err := Key(Bigint, true, make([]byte, n))
		var e *Error
		if !errors.As(err, &e) || e.Code != "22P03" || !strings.Contains(e.Msg, "incorrect binary data format") {
			t.Errorf("binary bigint of %d bytes: error %v, want 22P03 incorrect binary data format", n, err)
		}
	}
}

func TestParseUUID(t *testing.T) {
	want := [16]byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00}
	good := []string{
		"550e8400-e29b-41d4-a716-446655440000",
		"550E8400-E29B-41D4-A716-446655440000",
		"550e8400e29b41d4a716446655440000",
		"{550e8400-e29b-41d4-a716-446655440000}",
		"{550e8400e29b41d4a716446655440000}",
		"550e-8400-e29b-41d4-a716-4466-5544-0000",
		"{550e-8400-e29b-41d4-a716-4466-5544-0000}",
		"550e8400-e29b41d4-a716-4466-5544-0000",
		"550E8400e29B41D4a716446655440000",
	}
	for _, s := range good {
		u, err := ParseUUID([]byte(s))
		if err != nil || u != want {
			t.Errorf("ParseUUID(%q) = %x, %v; want %x", s, u, err, want)
		}
	}
	bad := []string{
		"",
		"{}",
		"550e8400-e29b-41d4-a716-44665544000",      // 31 digits
		"550e8400-e29b-41d4-a716-4466554400000",    // 33 digits
		"550e8400-e29b-41d4-a716-446655440000-",    // hyphen after the last group
		"-550e8400-e29b-41d4-a716-446655440000",    // hyphen before the first
		"550e84-00-e29b-41d4-a716-446655440000",    // hyphen inside a group
		"550e8400--e29b-41d4-a716-446655440000",    // two hyphens
		"{550e8400-e29b-41d4-a716-446655440000",    // lone brace
		"550e8400-e29b-41d4-a716-446655440000}",    // lone brace
		"{{550e8400-e29b-41d4-a716-446655440000}}", // two braces
		"(550e8400-e29b-41d4-a716-446655440000)",
		" 550e8400-e29b-41d4-a716-446655440000",
		"550e8400-e29b-41d4-a716-446655440000 ",
		"550e8400-e29b-41d4-a716-44665544000g",
		"550e8400-e29b-41d4-a716-446655440000\x00",
		"550e8400 e29b 41d4 a716 446655440000",
		"urn:uuid:550e8400-e29b-41d4-a716-446655440000",
		// 32 bytes, so the fast path looks first; each must still fail.
		"550e8400e29b41d4a716446655440\xff00",
		"550e8400e29b41d4a7164466554400\x10\x19", // folds onto "00"
		"550e8400e29b41d4a7164466554400:;",       // just past '9'
		"550e8400e29b41d4a7164466554400`g",       // around 'a'-'f'
		"550e8400e29b41d4a7164466554400@G",       // around 'A'-'F'
		"/50e8400e29b41d4a716446655440000",       // just before '0'
		// 36 bytes with hyphens where uuid_out puts them.
		"550e8400-e29b-41d4-a716-4466554400\x1000",
		"550e8400-e29b-41d4-a7-6-446655440000",
	}
	for _, s := range bad {
		u, err := ParseUUID([]byte(s))
		wantMsg := `invalid input syntax for type uuid: "` + s + `"`
		var e *Error
		if !errors.As(err, &e) || e.Msg != wantMsg || e.Code != "22P02" || e.Type != UUID {
			t.Errorf("ParseUUID(%q) = %x, %v; want error %q", s, u, err, wantMsg)
		}
	}
}

func TestUUIDBinaryLength(t *testing.T) {
	for _, n := range []int{0, 1, 15, 17, 32, 36} {
		_, err := Key(UUID, true, make([]byte, n))
		var e *Error
		if !errors.As(err, &e) || e.Type != UUID {
			t.Fatalf("binary uuid of %d bytes: error %v, want an *Error", n, err)
		}
		wantCode := "22P03"
		if n < 16 {
			wantCode = "08P01"
		}
		if e.Code != wantCode {
			t.Errorf("binary uuid of %d bytes: code %s, want %s (%s)", n, e.Code, wantCode, e.Msg)
		}
	}
}

func TestText(t *testing.T) {
	// Text ids are their bytes in both formats, whatever they hold.
	for _, s := range []string{"", "a", "héllo", "\x00\xff", "550e8400-e29b-41d4-a716-446655440000"} {
		kt, err1 := Key(Text, false, []byte(s))
		kb, err2 := Key(Text, true, []byte(s))
		if err1 != nil || err2 != nil || kt != kb || kt != TextKey([]byte(s)) {
			t.Errorf("text %q: %#x %v / %#x %v", s, kt, err1, kb, err2)
		}
	}
	// A uuid column and a text column holding the same characters are
	// different keys: the uuid hashes its 16 bytes, the text its 36.
	ku, _ := Key(UUID, false, []byte("550e8400-e29b-41d4-a716-446655440000"))
	kt, _ := Key(Text, false, []byte("550e8400-e29b-41d4-a716-446655440000"))
	if ku == kt {
		t.Errorf("uuid and text spellings share key %#x", ku)
	}
}

func TestParseType(t *testing.T) {
	for _, ty := range []Type{Bigint, UUID, Text} {
		got, err := ParseType(ty.String())
		if err != nil || got != ty {
			t.Errorf("ParseType(%q) = %v, %v", ty.String(), got, err)
		}
	}
	for _, s := range []string{"", "int8", "BIGINT", "varchar", "uuid "} {
		if _, err := ParseType(s); err == nil || !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("ParseType(%q): error %v, want one naming the input", s, err)
		}
	}
	if _, err := Key(Type(9), false, []byte("1")); err == nil {
		t.Error("Key(Type(9)) did not fail")
	}
}

func TestAllocs(t *testing.T) {
	inputs := []struct {
		t      Type
		binary bool
		src    []byte
	}{
		{Bigint, false, []byte("9223372036854775807")},
		{Bigint, false, []byte(" 0x_7fff ")},
		{Bigint, true, []byte{0, 0, 0, 0, 0, 0, 0, 42}},
		{UUID, false, []byte("{550e8400-e29b-41d4-a716-446655440000}")},
		{UUID, true, make([]byte, 16)},
		{Text, false, []byte("hello world")},
	}
	for _, in := range inputs {
		n := testing.AllocsPerRun(100, func() {
			k, err := Key(in.t, in.binary, in.src)
			if err != nil {
				t.Fatal(err)
			}
			_ = Shard(k, 8)
		})
		if n != 0 {
			t.Errorf("Key(%v, %v, %q): %v allocations, want 0", in.t, in.binary, in.src, n)
		}
	}
}

// uuidSpelling is an independent restatement of string_to_uuid's grammar:
// eight groups of four hex digits, an optional hyphen between any two groups,
// optionally inside one pair of braces.
var uuidSpelling = regexp.MustCompile(`^(?:[0-9a-fA-F]{4}(?:-?[0-9a-fA-F]{4}){7}|\{[0-9a-fA-F]{4}(?:-?[0-9a-fA-F]{4}){7}\})$`)

func TestUUIDSpellings(t *testing.T) {
	// All 2^7 hyphen placements x braces x case of one uuid parse to the
	// same bytes and key as the canonical spelling.
	const hex = "550e8400e29b41d4a716446655440000"
	want, err := Key(UUID, false, []byte("550e8400-e29b-41d4-a716-446655440000"))
	if err != nil {
		t.Fatal(err)
	}
	for mask := 0; mask < 1<<7; mask++ {
		var b strings.Builder
		for g := 0; g < 8; g++ {
			b.WriteString(hex[4*g : 4*g+4])
			if g < 7 && mask&(1<<g) != 0 {
				b.WriteByte('-')
			}
		}
		for _, s := range []string{b.String(), strings.ToUpper(b.String()), "{" + b.String() + "}"} {
			if !uuidSpelling.MatchString(s) {
				t.Fatalf("reference grammar refuses %q", s)
			}
			if k, err := Key(UUID, false, []byte(s)); err != nil || k != want {
				t.Errorf("Key(uuid, %q) = %#x, %v; want %#x", s, k, err, want)
			}
		}
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{
		"0", "42", "-1", " +7 ", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"0x2a", "0o52", "0b101010", "1_000", "_1", "1__0", "0x", "",
		"550e8400-e29b-41d4-a716-446655440000", "{550E8400E29B41D4A716446655440000}",
		"550e-8400-e29b-41d4-a716-4466-5544-0000", "550e8400-e29b-41d4-a716-446655440000-",
		"hello world",
	} {
		for ty := byte(0); ty < 3; ty++ {
			f.Add(ty, false, []byte(s))
		}
	}
	f.Add(byte(0), true, []byte{0xff, 0xfe})
	f.Add(byte(0), true, []byte{0, 0, 0, 42})
	f.Add(byte(1), true, make([]byte, 16))
	f.Fuzz(func(t *testing.T, ty byte, bin bool, src []byte) {
		typ := Type(ty % 4) // 3 is not a type: it must fail, not panic
		key, err := Key(typ, bin, src)
		if typ == 3 {
			if err == nil {
				t.Fatal("Key accepted Type(3)")
			}
			return
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Msg == "" {
				t.Fatalf("error %#v is not a complete *Error", err)
			}
		}
		switch {
		case typ == Bigint && !bin:
			v, perr := ParseBigint(src)
			checkBigintText(t, src, v, perr)
			if perr != nil {
				return
			}
			if key != BigintKey(v) {
				t.Fatalf("Key(bigint, %q) = %#x, BigintKey(%d) = %#x", src, key, v, BigintKey(v))
			}
			// Every binary width that holds v gives the same key.
			encs := [][]byte{binary.BigEndian.AppendUint64(nil, uint64(v))}
			if v == int64(int32(v)) {
				encs = append(encs, binary.BigEndian.AppendUint32(nil, uint32(v)))
			}
			if v == int64(int16(v)) {
				encs = append(encs, binary.BigEndian.AppendUint16(nil, uint16(v)))
			}
			for _, e := range encs {
				if k, err := Key(Bigint, true, e); err != nil || k != key {
					t.Fatalf("text %q = %#x but binary % x = %#x, %v", src, key, e, k, err)
				}
			}
			// And so does its canonical text.
			if k, err := Key(Bigint, false, []byte(strconv.FormatInt(v, 10))); err != nil || k != key {
				t.Fatalf("text %q = %#x but canonical %d = %#x, %v", src, key, v, k, err)
			}
		case typ == Bigint && bin:
			if (err == nil) != (len(src) == 2 || len(src) == 4 || len(src) == 8) {
				t.Fatalf("binary bigint of %d bytes: err %v", len(src), err)
			}
		case typ == UUID && !bin:
			if ok := uuidSpelling.Match(src); ok != (err == nil) {
				t.Fatalf("Key(uuid, %q): err %v, reference grammar says valid=%v", src, err, ok)
			}
			if err != nil {
				return
			}
			u, _ := ParseUUID(src)
			canon := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
			if k, err := Key(UUID, false, []byte(canon)); err != nil || k != key {
				t.Fatalf("uuid %q = %#x but canonical %s = %#x, %v", src, key, canon, k, err)
			}
			if k, err := Key(UUID, true, u[:]); err != nil || k != key {
				t.Fatalf("uuid %q = %#x but binary = %#x, %v", src, key, k, err)
			}
		case typ == UUID && bin:
			if (err == nil) != (len(src) == 16) {
				t.Fatalf("binary uuid of %d bytes: err %v", len(src), err)
			}
		case typ == Text:
			if err != nil || key != TextKey(src) {
				t.Fatalf("Key(text, %q) = %#x, %v", src, key, err)
			}
		}
	})
}

// checkBigintText compares ParseBigint with strconv on the inputs both
// define the same way: C white space around an optionally signed run of
// decimal digits.
func checkBigintText(t *testing.T, src []byte, v int64, err error) {
	t.Helper()
	s := strings.TrimFunc(string(src), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || strings.Trim(body, "0123456789") != "" {
		return
	}
	want, serr := strconv.ParseInt(s, 10, 64)
	switch {
	case serr == nil && (err != nil || v != want):
		t.Fatalf("ParseBigint(%q) = %d, %v; strconv says %d", src, v, err, want)
	case serr != nil && err == nil:
		t.Fatalf("ParseBigint(%q) = %d; strconv says %v", src, v, serr)
	case serr != nil && !strings.Contains(err.Error(), "out of range"):
		t.Fatalf("ParseBigint(%q): %v; want out of range", src, err)
	}
}
