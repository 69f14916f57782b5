package pgtree

// The layout table: what the reader knows of PostgreSQL 18's raw parse
// nodes, as libpg_query's 18.0 line lays them out on LP64. The numbers are
// facts generated from the headers (layout_pg18.go, by
// internal/cmd/pg18layout) and checked against those headers by compiling
// testdata/pg18layout_check.c (make layout-check), so a wrong offset cannot
// land.

// fieldKind is how the reader treats one struct member.
type fieldKind uint8

const (
	fkNode     fieldKind = iota + 1 // Node *: any node, List included; may be NULL
	fkList                          // List *: a List of Node * (or NULL, the empty list)
	fkString                        // char *: NUL-terminated, may be NULL
	fkBool                          // bool, 1 byte
	fkChar                          // char, 1 byte
	fkInt16                         // int16, AttrNumber
	fkInt32                         // int, int32, ParseLoc, ...
	fkUint32                        // Oid, uint32, bits32, Index, SubTransactionId, ...
	fkInt64                         // int64, long
	fkFloat64                       // double, Cost, Cardinality, ...
	fkEnum                          // a C enum, 4 bytes; field.enum indexes pg18Enums
	fkValue                         // A_Const's inline union ValUnion: a value node
	fkEmbedded                      // an embedded struct (Expr xpr, ...): not read
	fkOpaque                        // any other member (Bitmapset *, Datum, arrays ...): not read
)

// field is one member of a node struct.
type field struct {
	name string    // the C member name
	off  uint16    // offsetof
	kind fieldKind // how to read it
	enum uint8     // kind fkEnum: index into pg18Enums
	node uint16    // kind fkNode: the tag of the node type the C member names (RangeVar *), 0 for Node *
}

// layout is one node struct; tag-indexed in pg18Nodes. A zero size means the
// tag is not a node of the raw grammar's headers (plan, executor and path
// nodes): the reader treats it as unknown.
type layout struct {
	name   string // the C struct name without T_: "SelectStmt"
	size   uint16 // sizeof in libpg_query 18.0
	fields []field
}

// enumType is one C enum a node field uses.
type enumType struct {
	name   string
	values []enumValue
}

type enumValue struct {
	name  string
	value int32
}
