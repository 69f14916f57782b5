package sqlir_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/vecshard/vecshard/sqlir"
)

// Golden kind numbers: the order of the Kind constants is the encoding's.
func TestKindNumbers(t *testing.T) {
	for _, tc := range []struct {
		k    sqlir.Kind
		want byte
	}{
		{sqlir.Nil, 0}, {sqlir.Unknown, 1}, {sqlir.Other, 2}, {sqlir.SelectStmt, 3}, {sqlir.RangeVar, 14},
		{sqlir.Alias, 15}, {sqlir.ParamRef, 21}, {sqlir.AConst, 22}, {sqlir.List, 28}, {sqlir.String, 35},
		{sqlir.BitString, 39},
	} {
		if byte(tc.k) != tc.want {
			t.Errorf("kind %d, want %d", tc.k, tc.want)
		}
	}
}

func str(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// goldens are hand-built trees, the calls that write them and their bytes.
var goldens = []struct {
	name  string
	write func(b *sqlir.Builder)
	tree  []*sqlir.Node
	want  []byte
}{
	{"no statements", func(b *sqlir.Builder) { b.Count(0) }, []*sqlir.Node{}, []byte{0}},
	{"one NULL statement", func(b *sqlir.Builder) { b.Count(1); b.Nil() }, []*sqlir.Node{nil}, []byte{1, 0}},
	{"Unknown", func(b *sqlir.Builder) { b.Count(1); b.Unknown("Var") },
		[]*sqlir.Node{{Kind: sqlir.Unknown, PG: "Var"}}, cat([]byte{1, 1}, str("Var"))},
	{"A_Const 42", func(b *sqlir.Builder) {
		b.Count(1)
		b.Node(sqlir.AConst, "ignored", "42", "", sqlir.ConstInt, 0, 0, 0)
	}, []*sqlir.Node{{Kind: sqlir.AConst, Name: "42", Int: sqlir.ConstInt}},
		[]byte{1, 22, 2, '4', '2', 0, 0, 0, 0, 0}},
	{"A_Const via NodeBytes", func(b *sqlir.Builder) {
		b.Count(1)
		b.NodeBytes(sqlir.AConst, []byte("-7"), sqlir.ConstInt, 0)
	}, []*sqlir.Node{{Kind: sqlir.AConst, Name: "-7", Int: sqlir.ConstInt}},
		[]byte{1, 22, 2, '-', '7', 0, 0, 0, 0, 0}},
	{"NULL constant", func(b *sqlir.Builder) {
		b.Count(1)
		b.Node(sqlir.AConst, "", "", "", sqlir.ConstNull, 0, 0, 0)
	}, []*sqlir.Node{{Kind: sqlir.AConst, Int: sqlir.ConstNull}},
		[]byte{1, 22, 0, 0, 10, 0, 0, 0}}, // zigzag(5) = 10
	{"Other keeps its PostgreSQL name", func(b *sqlir.Builder) {
		b.Count(1)
		b.Node(sqlir.Other, "CreateStmt", "", "", 0, 0, 0, 1)
		b.Count(0)
	}, []*sqlir.Node{{Kind: sqlir.Other, PG: "CreateStmt", Kids: [][]*sqlir.Node{nil}}},
		cat([]byte{1, 2}, str("CreateStmt"), []byte{0, 0, 0, 0, 0, 1, 0})},
	{"RangeVar with schema and alias", func(b *sqlir.Builder) {
		b.Count(1)
		b.Node(sqlir.RangeVar, "", "items", "public", 0, 0, 0, 2)
		b.Count(1)
		b.Node(sqlir.Alias, "", "i", "", 0, 0, 0, 0)
		b.Count(0)
	}, []*sqlir.Node{{Kind: sqlir.RangeVar, Name: "items", Schema: "public",
		Kids: [][]*sqlir.Node{{{Kind: sqlir.Alias, Name: "i"}}, nil}}},
		cat([]byte{1, 14}, str("items"), str("public"), []byte{0, 0, 0, 2, 1, 15}, str("i"), []byte{0, 0, 0, 0, 0, 0})},
	{"numbers and flags", func(b *sqlir.Builder) {
		b.Count(2)
		b.Node(sqlir.SelectStmt, "", "", "", sqlir.SetopUnion, sqlir.LimitCount, 1<<sqlir.FlagSelectAll, 0)
		b.Node(sqlir.ParamRef, "", "", "", 300, -1, 0xffffffff, 0)
	}, []*sqlir.Node{
		{Kind: sqlir.SelectStmt, Int: sqlir.SetopUnion, Int2: sqlir.LimitCount, Flags: 1},
		{Kind: sqlir.ParamRef, Int: 300, Int2: -1, Flags: 0xffffffff},
	}, []byte{2, 3, 0, 0, 2, 2, 1, 0, 21, 0, 0, 0xd8, 0x04, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}},
	{"List of a NULL and a String", func(b *sqlir.Builder) {
		b.Count(1)
		b.Node(sqlir.List, "", "", "", 0, 0, 0, 1)
		b.Count(2)
		b.Nil()
		b.Node(sqlir.String, "", "a", "", 0, 0, 0, 0)
	}, []*sqlir.Node{{Kind: sqlir.List, Kids: [][]*sqlir.Node{{nil, {Kind: sqlir.String, Name: "a"}}}}},
		cat([]byte{1, 28, 0, 0, 0, 0, 0, 1, 2, 0, 35}, str("a"), []byte{0, 0, 0, 0, 0})},
	{"Truncate takes back a node", func(b *sqlir.Builder) {
		b.Count(1)
		n := b.Len()
		b.Node(sqlir.SelectStmt, "", "", "", 0, 0, 0, 3)
		b.Truncate(n)
		b.Unknown("SelectStmt")
	}, []*sqlir.Node{{Kind: sqlir.Unknown, PG: "SelectStmt"}}, cat([]byte{1, 1}, str("SelectStmt"))},
}

func TestFlatGolden(t *testing.T) {
	var b sqlir.Builder
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			b.Reset() // a reused builder starts over
			tc.write(&b)
			if got := b.Bytes(); !bytes.Equal(got, tc.want) {
				t.Fatalf("bytes\n got %v\nwant %v", got, tc.want)
			}
			if b.Len() != len(tc.want) {
				t.Errorf("Len %d, want %d", b.Len(), len(tc.want))
			}
			ns, err := sqlir.Decode(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ns, tc.tree) {
				t.Fatalf("decoded %s, want %s", dump(ns), dump(tc.tree))
			}
			if again := encode(ns); !bytes.Equal(again, tc.want) {
				t.Errorf("re-encoded %v", again)
			}
		})
	}
}

func dump(ns []*sqlir.Node) string {
	var sb strings.Builder
	var walk func(n *sqlir.Node)
	walk = func(n *sqlir.Node) {
		if n == nil {
			sb.WriteString("nil")
			return
		}
		sb.WriteString("{" + strings.TrimSpace(strings.Join([]string{n.PG, n.Name, n.Schema}, " ")))
		for _, s := range n.Kids {
			sb.WriteString(" [")
			for _, k := range s {
				walk(k)
			}
			sb.WriteString("]")
		}
		sb.WriteString("}")
	}
	for _, n := range ns {
		walk(n)
	}
	return sb.String()
}

// deepList is one statement: Lists nested depth deep around a NULL, the
// NULL being at depth `depth`.
func deepList(depth int) []byte {
	var b sqlir.Builder
	b.Count(1)
	for range depth {
		b.Node(sqlir.List, "", "", "", 0, 0, 0, 1)
		b.Count(1)
	}
	b.Nil()
	return b.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	slots65 := []byte{1, 3, 0, 0, 0, 0, 0, 65}
	slots64 := append([]byte{1, 3, 0, 0, 0, 0, 0, 64}, make([]byte, 64)...)
	for _, tc := range []struct {
		name string
		in   []byte
		msg  string // part of the error; "" for no error
	}{
		{"empty", nil, "bad uvarint"},
		{"count exceeds the input", []byte{5}, "statement count"},
		{"truncated: no node", []byte{1}, "truncated"},
		{"truncated: no name", []byte{1, 22}, "bad uvarint"},
		{"truncated: mid varint", []byte{1, 22, 0, 0, 0x80}, "bad varint"},
		{"truncated: no slot count", []byte{1, 3, 0, 0, 0, 0, 0, 1}, "bad uvarint"},
		{"truncated: slot's node", []byte{1, 3, 0, 0, 0, 0, 0, 1, 1}, "slot of 1 nodes"},
		{"kind out of range", []byte{1, byte(sqlir.BitString) + 1}, "kind 40 out of range"},
		{"kind 255", []byte{1, 255}, "out of range"},
		{"65 slots", slots65, "65 slots"},
		{"64 slots", slots64, ""},
		{"string longer than the input", []byte{1, 22, 5, 'a', 'b'}, "string of 5 bytes"},
		{"Unknown's name longer than the input", []byte{1, 1, 2, 'a'}, "string of 2 bytes"},
		{"slot count exceeds the input", []byte{1, 3, 0, 0, 0, 0, 0, 1, 9, 0}, "slot of 9 nodes"},
		{"varint overflow", append([]byte{1, 22, 0, 0}, bytes.Repeat([]byte{0xff}, 11)...), "bad varint"},
		{"bytes left over", []byte{0, 0}, "1 bytes left over"},
		{"nesting at MaxDepth", deepList(sqlir.MaxDepth), ""},
		{"nesting deeper than MaxDepth", deepList(sqlir.MaxDepth + 1), "nesting deeper than 1000"},
		{"far deeper", deepList(50000), "nesting deeper than 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := sqlir.Decode(tc.in)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(ns) != 1 {
					t.Fatalf("%d statements", len(ns))
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.msg)
			}
			if !errors.Is(err, sqlir.ErrMalformed) {
				t.Errorf("%v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want %q", err, tc.msg)
			}
		})
	}
}

// TestDecodeCanonical: the encoding is a cache key, so bytes that are not
// what a Builder writes for their tree should not decode (each input
// here decodes to a tree whose encoding is other bytes).
func TestDecodeCanonical(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"overlong statement count", []byte{0x80, 0x00}},
		{"overlong name length", []byte{1, 22, 0x81, 0x00, 'x', 0, 0, 0, 0, 0}},
		{"overlong int", []byte{1, 22, 0, 0, 0x80, 0x00, 0, 0, 0}},
		{"flags beyond 32 bits", []byte{1, 22, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := sqlir.Decode(tc.in)
			if err != nil {
				return // rejected: fine
			}
			if again := encode(ns); !bytes.Equal(again, tc.in) {
				t.Errorf("BUG: Decode accepts %x, which encodes as %x", tc.in, again)
			}
		})
	}
}

func TestContains(t *testing.T) {
	deep := &sqlir.Node{Kind: sqlir.SelectStmt, Kids: [][]*sqlir.Node{nil, {nil, {Kind: sqlir.List,
		Kids: [][]*sqlir.Node{{{Kind: sqlir.RangeVar, Name: "t"}}}}}}}
	for _, tc := range []struct {
		name string
		ns   []*sqlir.Node
		k    sqlir.Kind
		want bool
	}{
		{"empty", nil, sqlir.SelectStmt, false},
		{"NULL statements", []*sqlir.Node{nil, nil}, sqlir.Nil, false},
		{"the statement", []*sqlir.Node{deep}, sqlir.SelectStmt, true},
		{"a nested node", []*sqlir.Node{deep}, sqlir.RangeVar, true},
		{"a middle node", []*sqlir.Node{deep}, sqlir.List, true},
		{"absent", []*sqlir.Node{deep}, sqlir.Unknown, false},
		{"second statement", []*sqlir.Node{{Kind: sqlir.AConst}, {Kind: sqlir.Unknown}}, sqlir.Unknown, true},
	} {
		if got := sqlir.Contains(tc.ns, tc.k); got != tc.want {
			t.Errorf("%s: Contains = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNodeAccessors(t *testing.T) {
	var nilNode *sqlir.Node
	n := &sqlir.Node{Kind: sqlir.FuncCall, Flags: 1 << sqlir.FlagFuncAggDistinct,
		Kids: [][]*sqlir.Node{{{Kind: sqlir.String, Name: "count"}}, nil}}
	if nilNode.Slot(0) != nil || nilNode.Flag(0) || nilNode.Is(sqlir.Nil) {
		t.Error("nil node accessors")
	}
	if n.One(sqlir.FuncName).Name != "count" || n.One(sqlir.FuncArgs) != nil || n.Slot(5) != nil {
		t.Error("Slot/One")
	}
	if !n.Flag(sqlir.FlagFuncAggDistinct) || n.Flag(sqlir.FlagFuncAggStar) || !n.Is(sqlir.FuncCall) {
		t.Error("Flag/Is")
	}
	if s := sqlir.SpecOf(sqlir.SelectStmt); s == nil || s.PG != "SelectStmt" || s.Rest() != 16 {
		t.Errorf("SpecOf(SelectStmt) = %+v", s)
	}
	if sqlir.SpecOf(sqlir.Other) != nil || sqlir.SpecOf(sqlir.Kind(200)) != nil {
		t.Error("SpecOf of a kind without spec")
	}
	if sqlir.EnumIndex([]string{"A", "B"}, "B") != 1 || sqlir.EnumIndex(nil, "A") != -1 {
		t.Error("EnumIndex")
	}
}
