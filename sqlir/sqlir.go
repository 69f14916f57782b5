// Package sqlir is the front-end-neutral form of parsed SQL statements that
// vecshard's routing rules read: a small tree of nodes carrying just the
// names, numbers and children the rules need.
//
// Two front ends produce it: SQL text through pg_query (package sqltext,
// PostgreSQL 16's grammar) and PostgreSQL 18 raw parse trees that PgDog
// hands over (package pgtree). Both write the same flat encoding through a
// Builder, driven by one table (Specs) that names, for every node kind the
// rules know, the PostgreSQL node and the fields that feed each part of a
// Node. The encoding doubles as an exact cache key: two statements with the
// same encoding get the same plan, whatever memory they came from.
//
// A node the rules do not interpret is an Other node that keeps every child
// (so table references nested anywhere are still found); a node a front end
// cannot read at all is Unknown, which the rules treat as "could be
// anything": reads go to all shards, writes are refused.
package sqlir

// Kind is the kind of a Node.
type Kind uint8

// The node kinds. The order is part of the flat encoding (cache keys only;
// nothing persists it).
const (
	Nil     Kind = iota // no node (a NULL pointer)
	Unknown             // a node the front end could not read: fail closed
	Other               // a node the rules do not interpret; Kids are all its children

	SelectStmt
	InsertStmt
	UpdateStmt
	DeleteStmt
	MergeStmt
	CopyStmt
	ExplainStmt
	DeclareCursorStmt
	TruncateStmt

	WithClause
	CommonTableExpr
	RangeVar
	Alias
	JoinExpr
	RangeSubselect
	BoolExpr
	AExpr
	ColumnRef
	ParamRef
	AConst
	TypeCast
	TypeName
	FuncCall
	SortBy
	ResTarget
	List
	AArrayExpr
	AStar
	LockingClause
	OnConflictClause
	MergeWhenClause
	SubLink
	String
	Integer
	Float
	Boolean
	BitString

	numKinds
)

// Node is one node of a statement tree. Which fields mean what depends on
// the kind; Specs documents it per kind. Strings of a node decoded for the
// plan cache are owned; during a route call they may point into host memory.
type Node struct {
	Kind   Kind
	Name   string    // the kind's main name or text (Spec.Name)
	Schema string    // RangeVar's schema (Spec.Schema)
	Int    int64     // a number or an enum, neutral (Spec.Int, Spec.Enum)
	Int2   int64     // a second enum (Spec.Int2, Spec.Enum2)
	Flags  uint32    // bit i: Spec.Flags[i] is true
	Kids   [][]*Node // one list per Spec.Slots entry; a single child is a list of 0 or 1
	PG     string    // Other: the PostgreSQL node name, for messages
}

// Slot returns the children in slot i (nil when absent).
func (n *Node) Slot(i int) []*Node {
	if n == nil || i >= len(n.Kids) {
		return nil
	}
	return n.Kids[i]
}

// One returns the first child in slot i, or nil.
func (n *Node) One(i int) *Node {
	s := n.Slot(i)
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// Flag reports whether flag bit i is set.
func (n *Node) Flag(i int) bool { return n != nil && n.Flags&(1<<i) != 0 }

// Is reports whether n is a node of kind k (false for nil).
func (n *Node) Is(k Kind) bool { return n != nil && n.Kind == k }

// Value classes of an AConst node (its Int).
const (
	ConstInt    = iota // Name: the decimal value
	ConstFloat         // Name: the literal as written (also integers beyond int32)
	ConstString        // Name: the string's value
	ConstBool          // Name: "true" or "false"
	ConstBits          // Name: the bit string as the parser keeps it ("b0101", "xff")
	ConstNull          // the NULL literal; Name empty
)
