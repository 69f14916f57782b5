// Package sqltext is the SQL-text front end of vecshard's routing rules: it
// parses a statement with pg_query (PostgreSQL 16's grammar, through
// pg_query_go) and writes its parse tree in sqlir's flat encoding.
//
// The mapping is driven by sqlir.Specs and the protobuf descriptors of
// pg_query's nodes, by field name, so it reads every node the grammar can
// produce: a node the rules do not interpret becomes an sqlir.Other node
// that keeps all its children.
package sqltext

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/vecshard/vecshard/sqlir"
)

// Parse parses query and writes its statements into b (after b's current
// contents). The error is pg_query's: the statement does not parse.
func Parse(b *sqlir.Builder, query string) error {
	tree, err := pg.Parse(query)
	if err != nil {
		return err
	}
	b.Count(len(tree.Stmts))
	for _, raw := range tree.Stmts {
		w := writer{b: b}
		w.node(raw.GetStmt().ProtoReflect(), 0)
	}
	return nil
}

// Parser is Parse as a value, for the router's text front end.
type Parser struct{}

// Parse implements the router's text front end.
func (Parser) Parse(b *sqlir.Builder, query string) error { return Parse(b, query) }

type writer struct {
	b *sqlir.Builder
}

// msgInfo is what the writer knows of one pg_query message type.
type msgInfo struct {
	spec   *sqlir.Spec
	name   protoreflect.FieldDescriptor
	schema protoreflect.FieldDescriptor
	int1   protoreflect.FieldDescriptor
	enum1  map[protoreflect.EnumNumber]int64
	int2   protoreflect.FieldDescriptor
	enum2  map[protoreflect.EnumNumber]int64
	flags  []protoreflect.FieldDescriptor
	slots  []protoreflect.FieldDescriptor // nil entry: the member does not exist in PostgreSQL 16
	rest   []protoreflect.FieldDescriptor // message-typed fields no slot names
}

// infos maps every pg_query message to its msgInfo; built once at start,
// read-only afterwards.
var infos = buildInfos()

func buildInfos() map[protoreflect.FullName]*msgInfo {
	byPG := map[string]*sqlir.Spec{}
	for i := range sqlir.Specs {
		byPG[sqlir.Specs[i].PG] = &sqlir.Specs[i]
	}
	out := map[protoreflect.FullName]*msgInfo{}
	msgs := pg.File_pg_query_proto.Messages()
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		mi := &msgInfo{spec: byPG[string(md.Name())]}
		fields := md.Fields()
		byName := func(name string) protoreflect.FieldDescriptor {
			for _, alt := range strings.Split(name, "|") {
				for j := 0; j < fields.Len(); j++ {
					if fd := fields.Get(j); fd.JSONName() == alt || string(fd.Name()) == alt {
						return fd
					}
				}
			}
			return nil
		}
		used := map[protoreflect.FieldDescriptor]bool{}
		if s := mi.spec; s != nil {
			mi.name, mi.schema = byName(s.Name), byName(s.Schema)
			if s.Int != "" {
				mi.int1, mi.enum1 = byName(s.Int), nil
				mi.enum1 = enumMap(mi.int1, s.Enum)
			}
			if s.Int2 != "" {
				mi.int2 = byName(s.Int2)
				mi.enum2 = enumMap(mi.int2, s.Enum2)
			}
			for _, f := range s.Flags {
				mi.flags = append(mi.flags, byName(f))
			}
			for _, sl := range s.Slots {
				fd := byName(sl)
				mi.slots = append(mi.slots, fd)
				used[fd] = true
			}
		}
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			if fd.Message() != nil && !used[fd] && !fd.IsMap() {
				mi.rest = append(mi.rest, fd)
			}
		}
		out[md.FullName()] = mi
	}
	return out
}

func enumMap(fd protoreflect.FieldDescriptor, names []string) map[protoreflect.EnumNumber]int64 {
	if fd == nil || fd.Enum() == nil {
		return nil
	}
	m := map[protoreflect.EnumNumber]int64{}
	vals := fd.Enum().Values()
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		m[v.Number()] = sqlir.EnumIndex(names, string(v.Name()))
	}
	return m
}

// unwrap returns the node message inside a pg_query Node wrapper (or m
// itself when it is not a wrapper); invalid when the wrapper is empty.
func unwrap(m protoreflect.Message) protoreflect.Message {
	if m.Descriptor().Name() != "Node" {
		return m
	}
	od := m.Descriptor().Oneofs().Get(0)
	fd := m.WhichOneof(od)
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message()
}

// node writes one node (a Node wrapper or a node message).
func (w *writer) node(m protoreflect.Message, depth int) {
	if m == nil || !m.IsValid() {
		w.b.Nil()
		return
	}
	m = unwrap(m)
	if m == nil || !m.IsValid() {
		w.b.Nil()
		return
	}
	md := m.Descriptor()
	if depth >= sqlir.MaxDepth {
		w.b.Unknown(string(md.Name()))
		return
	}
	mi := infos[md.FullName()]
	if mi == nil {
		w.b.Unknown(string(md.Name()))
		return
	}
	if mi.spec == nil {
		w.b.Node(sqlir.Other, string(md.Name()), "", "", 0, 0, 0, 1)
		w.rest(m, mi.rest, depth)
		return
	}
	switch k := mi.spec.Kind; k {
	case sqlir.AConst:
		w.aconst(m)
		return
	case sqlir.String, sqlir.Integer, sqlir.Float, sqlir.Boolean, sqlir.BitString:
		w.b.Node(k, "", valueText(m), "", 0, 0, 0, 0)
		return
	case sqlir.List:
		items := m.Get(md.Fields().ByName("items")).List()
		w.b.Node(sqlir.List, "", "", "", 0, 0, 0, 1)
		w.list(items, depth)
		return
	}
	var name, schema string
	var i1, i2 int64
	var flags uint32
	if mi.name != nil {
		name = m.Get(mi.name).String()
	}
	if mi.schema != nil {
		schema = m.Get(mi.schema).String()
	}
	if mi.int1 != nil {
		i1 = scalar(m, mi.int1, mi.enum1)
	}
	if mi.int2 != nil {
		i2 = scalar(m, mi.int2, mi.enum2)
	}
	for i, fd := range mi.flags {
		if fd != nil && m.Get(fd).Bool() {
			flags |= 1 << i
		}
	}
	w.b.Node(mi.spec.Kind, "", name, schema, i1, i2, flags, len(mi.slots)+1)
	for _, fd := range mi.slots {
		if fd == nil {
			w.b.Count(0)
			continue
		}
		w.field(m, fd, depth)
	}
	w.rest(m, mi.rest, depth)
}

func scalar(m protoreflect.Message, fd protoreflect.FieldDescriptor, enum map[protoreflect.EnumNumber]int64) int64 {
	v := m.Get(fd)
	if fd.Enum() != nil {
		if x, ok := enum[v.Enum()]; ok {
			return x
		}
		return -1
	}
	return v.Int()
}

// field writes one slot: a single child (count 0 or 1) or a list.
func (w *writer) field(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) {
	if fd.IsList() {
		w.list(m.Get(fd).List(), depth)
		return
	}
	if !m.Has(fd) {
		w.b.Count(0)
		return
	}
	c := m.Get(fd).Message()
	if u := unwrap(c); u == nil || !u.IsValid() {
		w.b.Count(0)
		return
	}
	w.b.Count(1)
	w.node(c, depth+1)
}

func (w *writer) list(l protoreflect.List, depth int) {
	w.b.Count(l.Len())
	for i := 0; i < l.Len(); i++ {
		w.node(l.Get(i).Message(), depth+1)
	}
}

// rest writes the trailing slot: every child of the given fields, in order.
func (w *writer) rest(m protoreflect.Message, fds []protoreflect.FieldDescriptor, depth int) {
	var kids []protoreflect.Message
	for _, fd := range fds {
		if fd.IsList() {
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				if u := unwrap(l.Get(i).Message()); u != nil && u.IsValid() {
					kids = append(kids, u)
				}
			}
			continue
		}
		if !m.Has(fd) {
			continue
		}
		if u := unwrap(m.Get(fd).Message()); u != nil && u.IsValid() {
			kids = append(kids, u)
		}
	}
	w.b.Count(len(kids))
	for _, k := range kids {
		w.node(k, depth+1)
	}
}

// valueText is the text of a value node (String, Integer, Float, Boolean,
// BitString) as sqlir keeps it.
func valueText(m protoreflect.Message) string {
	switch x := m.Interface().(type) {
	case *pg.String:
		return x.Sval
	case *pg.Integer:
		return strconv.FormatInt(int64(x.Ival), 10)
	case *pg.Float:
		return x.Fval
	case *pg.Boolean:
		return strconv.FormatBool(x.Boolval)
	case *pg.BitString:
		return x.Bsval
	}
	return ""
}

func (w *writer) aconst(m protoreflect.Message) {
	c := m.Interface().(*pg.A_Const)
	cls, text := int64(sqlir.ConstNull), ""
	if !c.Isnull {
		switch v := c.Val.(type) {
		case *pg.A_Const_Ival:
			cls, text = sqlir.ConstInt, strconv.FormatInt(int64(v.Ival.GetIval()), 10)
		case *pg.A_Const_Fval:
			cls, text = sqlir.ConstFloat, v.Fval.GetFval()
		case *pg.A_Const_Sval:
			cls, text = sqlir.ConstString, v.Sval.GetSval()
		case *pg.A_Const_Boolval:
			cls, text = sqlir.ConstBool, strconv.FormatBool(v.Boolval.GetBoolval())
		case *pg.A_Const_Bsval:
			cls, text = sqlir.ConstBits, v.Bsval.GetBsval()
		default:
			// isnull false but no value: pg_query's way of writing a
			// zero Integer (proto3 drops the default).
			cls, text = sqlir.ConstInt, "0"
		}
	}
	w.b.Node(sqlir.AConst, "", text, "", cls, 0, 0, 0)
}

// Comments returns the bodies of the C-style comments of query, without
// the delimiters, in order. PostgreSQL's own scanner tells comments from
// string literals and quoted identifiers that merely look like them.
func Comments(query string) ([]string, error) {
	res, err := pg.Scan(query)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, tok := range res.Tokens {
		if tok.Token != pg.Token_C_COMMENT || tok.Start < 0 || int(tok.End) > len(query) || tok.Start >= tok.End {
			continue
		}
		body := query[tok.Start:tok.End]
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(body, "/*"), "*/"))
	}
	return out, nil
}

// Comments implements the router's text front end.
func (Parser) Comments(query string) ([]string, error) { return Comments(query) }
