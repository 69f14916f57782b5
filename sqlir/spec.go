package sqlir

// Spec says how a front end fills a Node of one kind from a PostgreSQL
// parse node. Field names are the C member names of the node struct; a name
// of the form "a|b" takes whichever of the two the front end's PostgreSQL
// version has (returningClause in 18, returningList in 16).
//
// Every node or list member of the PostgreSQL struct that Slots does not
// name goes, in struct order, into one extra trailing slot (Rest), so that
// the rules can walk everything a node holds without knowing all of it.
type Spec struct {
	Kind   Kind
	PG     string   // the PostgreSQL node name: "SelectStmt", "A_Expr"
	Name   string   // a char * member feeding Node.Name
	Schema string   // a char * member feeding Node.Schema
	Int    string   // an int or enum member feeding Node.Int
	Enum   []string // Int is an enum: its value names, Node.Int = the index (-1: a value not listed)
	Int2   string   // an enum member feeding Node.Int2
	Enum2  []string
	Flags  []string // bool members: bit i of Node.Flags
	Slots  []string // node or list members: Node.Kids[i]
}

// Rest is the index of the trailing slot of every unnamed child of a node
// of spec s.
func (s *Spec) Rest() int { return len(s.Slots) }

// Slot indexes, per kind. The names follow the PostgreSQL members.
const (
	SelDistinct = iota
	SelInto
	SelTargets
	SelFrom
	SelWhere
	SelGroup
	SelHaving
	SelWindow
	SelValues
	SelSort
	SelOffset
	SelLimit
	SelLocking
	SelWith
	SelLarg
	SelRarg
)

const (
	InsRelation = iota
	InsCols
	InsSelect
	InsOnConflict
	InsReturning
	InsWith
)

const (
	UpdRelation = iota
	UpdTargets
	UpdWhere
	UpdFrom
	UpdReturning
	UpdWith
)

const (
	DelRelation = iota
	DelUsing
	DelWhere
	DelReturning
	DelWith
)

const (
	MrgRelation = iota
	MrgSource
	MrgJoin
	MrgWhen
	MrgReturning
	MrgWith
)

const (
	CopyRelation = iota
	CopyQuery
)

// Single-slot kinds use slot 0: ExplainStmt, DeclareCursorStmt (query),
// TruncateStmt (relations), WithClause (ctes), CommonTableExpr (ctequery),
// RangeVar (alias), BoolExpr (args), ColumnRef (fields), ResTarget (val,
// slot 1: indirection), AArrayExpr (elements), LockingClause (lockedRels),
// List (items), RangeSubselect (subquery).
const (
	JoinLarg = iota
	JoinRarg
	JoinQuals
)

const (
	AExprName = iota
	AExprL
	AExprR
)

const (
	CastArg = iota
	CastType
)

const (
	TypeNames = iota
	TypeMods
	TypeArrayBounds
)

const (
	FuncName = iota
	FuncArgs
)

const (
	SortNode = iota
	SortUseOp
)

const (
	ResVal = iota
	ResIndirection
)

const (
	OnConflictTargets = iota
	OnConflictWhere
)

const (
	MergeWhenTargets = iota
	MergeWhenValues
	MergeWhenCondition
)

const (
	SubLinkTest = iota
	SubLinkSelect
)

// Flag bits.
const (
	FlagSelectAll       = 0 // SelectStmt: UNION ALL
	FlagCopyFrom        = 0 // CopyStmt: COPY ... FROM
	FlagWithRecursive   = 0 // WithClause: WITH RECURSIVE
	FlagJoinNatural     = 0 // JoinExpr: NATURAL
	FlagFuncAggStar     = 0 // FuncCall: count(*)
	FlagFuncAggDistinct = 1 // FuncCall: DISTINCT in an aggregate
)

// Neutral enum values (indexes into the Spec's Enum lists).
const (
	SetopNone = iota
	SetopUnion
	SetopIntersect
	SetopExcept
)

const (
	LimitDefault = iota
	LimitCount
	LimitWithTies
)

const (
	JoinInner = iota
	JoinLeft
	JoinFull
	JoinRight
)

const (
	BoolAnd = iota
	BoolOr
	BoolNot
)

const (
	AExprOp = iota
	AExprOpAny
	AExprOpAll
	AExprDistinct
	AExprNotDistinct
	AExprNullIf
	AExprIn
)

const (
	SortDefault = iota
	SortAsc
	SortDesc
	SortUsing
)

const (
	OnConflictNone = iota
	OnConflictNothing
	OnConflictUpdate
)

const (
	CmdUnknown = iota
	CmdSelect
	CmdUpdate
	CmdInsert
	CmdDelete
	CmdMerge
)

const (
	CTEMaterializeDefault = iota
	CTEMaterializeAlways
	CTEMaterializeNever
)

// Specs lists the node kinds the rules interpret. AConst, List and the
// value nodes (String, Integer, Float, Boolean, BitString) have fixed
// shapes that each front end writes directly (see Node and the Const
// classes); their specs carry only the PostgreSQL name.
var Specs = []Spec{
	{Kind: SelectStmt, PG: "SelectStmt",
		Int: "op", Enum: []string{"SETOP_NONE", "SETOP_UNION", "SETOP_INTERSECT", "SETOP_EXCEPT"},
		Int2: "limitOption", Enum2: []string{"LIMIT_OPTION_DEFAULT", "LIMIT_OPTION_COUNT", "LIMIT_OPTION_WITH_TIES"},
		Flags: []string{"all"},
		Slots: []string{"distinctClause", "intoClause", "targetList", "fromClause", "whereClause", "groupClause",
			"havingClause", "windowClause", "valuesLists", "sortClause", "limitOffset", "limitCount",
			"lockingClause", "withClause", "larg", "rarg"}},
	{Kind: InsertStmt, PG: "InsertStmt",
		Slots: []string{"relation", "cols", "selectStmt", "onConflictClause", "returningClause|returningList", "withClause"}},
	{Kind: UpdateStmt, PG: "UpdateStmt",
		Slots: []string{"relation", "targetList", "whereClause", "fromClause", "returningClause|returningList", "withClause"}},
	{Kind: DeleteStmt, PG: "DeleteStmt",
		Slots: []string{"relation", "usingClause", "whereClause", "returningClause|returningList", "withClause"}},
	{Kind: MergeStmt, PG: "MergeStmt",
		Slots: []string{"relation", "sourceRelation", "joinCondition", "mergeWhenClauses", "returningClause|returningList", "withClause"}},
	{Kind: CopyStmt, PG: "CopyStmt", Flags: []string{"is_from"}, Slots: []string{"relation", "query"}},
	{Kind: ExplainStmt, PG: "ExplainStmt", Slots: []string{"query"}},
	{Kind: DeclareCursorStmt, PG: "DeclareCursorStmt", Slots: []string{"query"}},
	{Kind: TruncateStmt, PG: "TruncateStmt", Slots: []string{"relations"}},
	{Kind: WithClause, PG: "WithClause", Flags: []string{"recursive"}, Slots: []string{"ctes"}},
	{Kind: CommonTableExpr, PG: "CommonTableExpr", Name: "ctename",
		Int: "ctematerialized", Enum: []string{"CTEMaterializeDefault", "CTEMaterializeAlways", "CTEMaterializeNever"},
		Slots: []string{"ctequery"}},
	{Kind: RangeVar, PG: "RangeVar", Name: "relname", Schema: "schemaname", Slots: []string{"alias"}},
	{Kind: Alias, PG: "Alias", Name: "aliasname"},
	{Kind: JoinExpr, PG: "JoinExpr",
		Int: "jointype", Enum: []string{"JOIN_INNER", "JOIN_LEFT", "JOIN_FULL", "JOIN_RIGHT"},
		Flags: []string{"isNatural"}, Slots: []string{"larg", "rarg", "quals"}},
	{Kind: RangeSubselect, PG: "RangeSubselect", Slots: []string{"subquery"}},
	{Kind: BoolExpr, PG: "BoolExpr", Int: "boolop", Enum: []string{"AND_EXPR", "OR_EXPR", "NOT_EXPR"}, Slots: []string{"args"}},
	{Kind: AExpr, PG: "A_Expr",
		Int:   "kind",
		Enum:  []string{"AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT", "AEXPR_NULLIF", "AEXPR_IN"},
		Slots: []string{"name", "lexpr", "rexpr"}},
	{Kind: ColumnRef, PG: "ColumnRef", Slots: []string{"fields"}},
	{Kind: ParamRef, PG: "ParamRef", Int: "number"},
	{Kind: AConst, PG: "A_Const"},
	{Kind: TypeCast, PG: "TypeCast", Slots: []string{"arg", "typeName"}},
	{Kind: TypeName, PG: "TypeName", Slots: []string{"names", "typmods", "arrayBounds"}},
	{Kind: FuncCall, PG: "FuncCall", Flags: []string{"agg_star", "agg_distinct"}, Slots: []string{"funcname", "args"}},
	{Kind: SortBy, PG: "SortBy",
		Int: "sortby_dir", Enum: []string{"SORTBY_DEFAULT", "SORTBY_ASC", "SORTBY_DESC", "SORTBY_USING"},
		Slots: []string{"node", "useOp"}},
	{Kind: ResTarget, PG: "ResTarget", Name: "name", Slots: []string{"val", "indirection"}},
	{Kind: List, PG: "List"},
	{Kind: AArrayExpr, PG: "A_ArrayExpr", Slots: []string{"elements"}},
	{Kind: AStar, PG: "A_Star"},
	{Kind: LockingClause, PG: "LockingClause", Slots: []string{"lockedRels"}},
	{Kind: OnConflictClause, PG: "OnConflictClause",
		Int: "action", Enum: []string{"ONCONFLICT_NONE", "ONCONFLICT_NOTHING", "ONCONFLICT_UPDATE"},
		Slots: []string{"targetList", "whereClause"}},
	{Kind: MergeWhenClause, PG: "MergeWhenClause",
		Int: "commandType", Enum: []string{"CMD_UNKNOWN", "CMD_SELECT", "CMD_UPDATE", "CMD_INSERT", "CMD_DELETE", "CMD_MERGE"},
		Slots: []string{"targetList", "values", "condition"}},
	{Kind: SubLink, PG: "SubLink", Slots: []string{"testexpr", "subselect"}},
	{Kind: String, PG: "String"},
	{Kind: Integer, PG: "Integer"},
	{Kind: Float, PG: "Float"},
	{Kind: Boolean, PG: "Boolean"},
	{Kind: BitString, PG: "BitString"},
}

// SpecOf returns the spec of kind k, or nil for Nil, Unknown and Other.
func SpecOf(k Kind) *Spec {
	if int(k) < len(specByKind) {
		return specByKind[k]
	}
	return nil
}

var specByKind = func() []*Spec {
	t := make([]*Spec, numKinds)
	for i := range Specs {
		t[Specs[i].Kind] = &Specs[i]
	}
	return t
}()

// EnumIndex returns the neutral value of the enum value called name in
// names, or -1.
func EnumIndex(names []string, name string) int64 {
	for i, n := range names {
		if n == name {
			return int64(i)
		}
	}
	return -1
}
