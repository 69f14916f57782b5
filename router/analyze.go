package router

import (
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A plan is what the analysis of one query text found: which configured
// tables it touches and where each one's key value comes from. It is
// immutable once built and shared by all callers through the plan cache;
// it holds no reference to the query text.
type plan struct {
	kind    planKind
	write   bool
	stmt    string    // command of the first statement, for Explain
	err     *Decision // planError: the statement is refused whatever its values
	targets []target
	hint    hint
	note    string // Explain: why there is no decision, or the parser's error
}

type planKind uint8

const (
	planNone  planKind = iota // nothing configured is touched: NO_DECISION
	planRoute                 // resolve the targets' keys per call
	planError                 // refused: err
)

// A target is one reference to a configured table.
type target struct {
	t       *Table
	ref     string // as written, for messages: "public.items i"
	insert  bool   // rows are created here: they must be placed exactly
	role    string // Explain: read, insert, update, delete, merge, copy, truncate
	stmt    int    // index of the top-level statement it is part of
	conds   []cond // AND-ed key conditions; the first that pins one shard wins
	order   *valueSrc
	orderOp string
	rows    []valueSrc // insert: the key of each VALUES row
}

// A cond is one key condition: key = v, key IN (v...) (vals), or
// key = ANY(array) (array).
type cond struct {
	op    string // "=", "IN", "= ANY"
	vals  []valueSrc
	array bool // vals[0] is an array value
}

type srcKind uint8

const (
	srcUnusable srcKind = iota // an expression the router cannot evaluate
	srcNull                    // the NULL literal
	srcParam                   // a bound parameter
	srcLit                     // a literal in the query text (text format)
)

// A valueSrc says where a key value comes from.
type valueSrc struct {
	kind  srcKind
	param int    // srcParam: 0-based index
	lit   []byte // srcLit: the literal's text
	wire  tclass // srcParam: the type the parameter is sent as (a cast right on $n); tcNone: the column's
	as    tclass // the outermost cast; tcNone: the column's type
	casts uint16 // bit 1<<c for each class c cast to, from the innermost out
	lossy bool   // a cast may change the value: to a type the router does not know, bpchar, name, or a length-limited string
	text  string // as written, for Explain
	memo  *litMemo
}

// litMemo is a literal key resolved when the plan was built: the literal is
// part of the query text, so every call with this plan would decode the
// same bytes to the same result.
//
// Vector keys keep centroids, not shards: a bare centroid file maps a
// centroid to a shard only under the host's shard count, known per call.
type litMemo struct {
	key  uint64    // id tables: the jump key (the shard depends on the host's count)
	near int       // vector tables: the nearest centroid (INSERT, =, ORDER BY with probes 1)
	top  []int     // vector tables with probes > 1: the top probes centroids, best first
	err  *Decision // the value is refused; copied before use
}

// tclass is what the router needs to know about a SQL type name.
type tclass uint8

const (
	tcNone tclass = iota
	tcVector
	tcHalfvec
	tcSparsevec
	tcInt // int2, int4, int8
	tcUUID
	tcText // text, varchar, bpchar, name
	tcOther
)

func classOf(tn *pg.TypeName) tclass {
	if tn == nil || len(tn.Names) == 0 {
		return tcOther
	}
	switch tn.Names[len(tn.Names)-1].GetString_().GetSval() {
	case "vector":
		return tcVector
	case "halfvec":
		return tcHalfvec
	case "sparsevec":
		return tcSparsevec
	case "int2", "int4", "int8", "smallint", "integer", "bigint":
		return tcInt
	case "uuid":
		return tcUUID
	case "text", "varchar", "bpchar", "name":
		return tcText
	}
	return tcOther
}

// lossyCast reports whether a cast to tn (of class cls) can change a key
// value rather than only read or check it: a type the router does not know
// (float8 rounds a bigint, numeric rounds), bpchar (drops trailing spaces),
// name (truncates to 63 bytes), a string type with a length limit
// (varchar(3) truncates).
func lossyCast(tn *pg.TypeName, cls tclass) bool {
	switch cls {
	case tcOther:
		return true
	case tcText:
		switch tn.Names[len(tn.Names)-1].GetString_().GetSval() {
		case "bpchar", "name":
			return true
		}
		return len(tn.Typmods) > 0
	}
	return false
}

type hint struct {
	shard  int // -1: none
	key    []byte
	hasKey bool
	text   string // the comment's hint, for Explain
}

// analyze parses query and builds its plan against the snapshot's tables.
func analyze(s *Snapshot, query string) *plan {
	p := &plan{hint: hint{shard: -1}}
	if err := scanHints(query, &p.hint); err != nil {
		p.kind = planError
		p.err = err
		return p
	}
	tree, err := pg.Parse(query)
	if err != nil {
		p.note = "the statement does not parse (the server will report it): " + err.Error()
		return p
	}
	a := &analyzer{s: s, p: p}
	for i, raw := range tree.Stmts {
		if p.stmt == "" {
			p.stmt = commandOf(raw.Stmt)
		}
		mark := len(p.targets)
		a.stmt(raw.Stmt)
		for j := mark; j < len(p.targets); j++ {
			p.targets[j].stmt = i
		}
	}
	p.write = a.write
	s.memoize(p)
	switch {
	case a.err != nil:
		p.kind = planError
		p.err = a.err
	case len(p.targets) > 0:
		p.kind = planRoute
	default:
		p.note = "no configured table is read or written"
	}
	return p
}

type analyzer struct {
	s     *Snapshot
	p     *plan
	ctes  []string // names of the common table expressions in scope
	write bool
	err   *Decision
}

func (a *analyzer) fail(code, format string, args ...any) {
	if a.err == nil {
		a.err = &Decision{Kind: Error, Code: code, Message: "vecshard: " + fmt.Sprintf(format, args...)}
	}
}

// commandOf names a statement for Explain: SELECT, INSERT, ...
func commandOf(n *pg.Node) string {
	switch n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return "SELECT"
	case *pg.Node_InsertStmt:
		return "INSERT"
	case *pg.Node_UpdateStmt:
		return "UPDATE"
	case *pg.Node_DeleteStmt:
		return "DELETE"
	case *pg.Node_MergeStmt:
		return "MERGE"
	case *pg.Node_CopyStmt:
		return "COPY"
	case *pg.Node_ExplainStmt:
		return "EXPLAIN"
	case nil:
		return ""
	}
	name := fmt.Sprintf("%T", n.GetNode())
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return strings.TrimSuffix(name, "Stmt")
}

// stmt dispatches one statement (top level, CTE body, subquery).
func (a *analyzer) stmt(n *pg.Node) {
	switch x := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		a.selectStmt(x.SelectStmt)
	case *pg.Node_InsertStmt:
		a.insertStmt(x.InsertStmt)
	case *pg.Node_UpdateStmt:
		a.updateStmt(x.UpdateStmt)
	case *pg.Node_DeleteStmt:
		a.deleteStmt(x.DeleteStmt)
	case *pg.Node_MergeStmt:
		a.mergeStmt(x.MergeStmt)
	case *pg.Node_CopyStmt:
		a.copyStmt(x.CopyStmt)
	case *pg.Node_ExplainStmt:
		a.stmt(x.ExplainStmt.Query)
	case *pg.Node_DeclareCursorStmt:
		a.stmt(x.DeclareCursorStmt.Query)
	case *pg.Node_TruncateStmt:
		a.write = true
		for _, r := range x.TruncateStmt.Relations {
			if rv := r.GetRangeVar(); rv != nil {
				if t := a.table(rv); t != nil {
					a.p.targets = append(a.p.targets, target{t: t, ref: refName(rv), role: "truncate"})
				}
			}
		}
	default:
		// Utility statements (DDL, SET, SHOW, transaction control, ...):
		// NO_DECISION, PgDog knows what to do with them.
	}
}

// table returns the configured table rv names, or nil (also for a CTE name).
func (a *analyzer) table(rv *pg.RangeVar) *Table {
	if rv == nil {
		return nil
	}
	if rv.Schemaname == "" {
		for _, c := range a.ctes {
			if c == rv.Relname {
				return nil
			}
		}
	}
	return a.s.Table(rv.Schemaname, rv.Relname)
}

// targetTable returns the configured table that the target relation of an
// INSERT, UPDATE, DELETE or MERGE names, or nil. PostgreSQL never resolves
// such a target to a WITH query, so the CTE names in scope do not shadow it.
func (a *analyzer) targetTable(rv *pg.RangeVar) *Table {
	if rv == nil {
		return nil
	}
	return a.s.Table(rv.Schemaname, rv.Relname)
}

func refName(rv *pg.RangeVar) string {
	s := rv.Relname
	if rv.Schemaname != "" {
		s = rv.Schemaname + "." + s
	}
	if rv.Alias != nil && rv.Alias.Aliasname != "" {
		s += " " + rv.Alias.Aliasname
	}
	return s
}

// with brings the CTE names into scope (the caller pops them with
// a.ctes = a.ctes[:mark]) and analyses their bodies. A CTE sees the
// ones before it, and itself when the clause is RECURSIVE.
func (a *analyzer) with(w *pg.WithClause) {
	if w == nil {
		return
	}
	if w.Recursive {
		for _, c := range w.Ctes {
			a.ctes = append(a.ctes, c.GetCommonTableExpr().GetCtename())
		}
	}
	for _, c := range w.Ctes {
		cte := c.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		a.stmt(cte.Ctequery)
		if !w.Recursive {
			a.ctes = append(a.ctes, cte.Ctename)
		}
	}
}

// A scope is the range table of one SELECT/UPDATE/DELETE level: the
// configured tables in it get the key conditions of its WHERE and inner JOINs.
type scope struct {
	ents  []scopeEnt
	later []*pg.Node // nested expressions, walked after the scope's own targets
}

type scopeEnt struct {
	tgt    *target
	alias  string // alias, or the relation name when there is none
	schema string
	hasAl  bool
}

func (sc *scope) add(t *Table, rv *pg.RangeVar, role string, insert bool) {
	e := scopeEnt{tgt: &target{t: t, ref: refName(rv), role: role, insert: insert}, alias: rv.Relname, schema: rv.Schemaname}
	if rv.Alias != nil && rv.Alias.Aliasname != "" {
		e.alias, e.hasAl = rv.Alias.Aliasname, true
	}
	sc.ents = append(sc.ents, e)
}

// flush moves the scope's targets into the plan, then analyses what is
// nested in its FROM items, so that a statement's own tables come before
// those of its subqueries (the pgdog_sharding_key hint uses the first).
func (a *analyzer) flush(sc *scope) {
	for _, e := range sc.ents {
		a.p.targets = append(a.p.targets, *e.tgt)
	}
	for _, n := range sc.later {
		a.walk(n)
	}
}

// resolve finds the entry (index in [lo,hi)) whose key column cr names.
func (sc *scope) resolve(cr *pg.ColumnRef, lo, hi int) *scopeEnt {
	f := cr.Fields
	name := func(i int) string { return f[i].GetString_().GetSval() }
	var hit *scopeEnt
	switch len(f) {
	case 1:
		col := name(0)
		for i := range sc.ents {
			if sc.ents[i].tgt.t.KeyColumn() == col {
				if hit != nil {
					return nil // ambiguous to us (and to the server)
				}
				if i < lo || i >= hi {
					return nil
				}
				hit = &sc.ents[i]
			}
		}
	case 2, 3:
		col := name(len(f) - 1)
		q := name(len(f) - 2)
		for i := lo; i < hi; i++ {
			e := &sc.ents[i]
			if e.alias != q || e.tgt.t.KeyColumn() != col {
				continue
			}
			if len(f) == 3 && (e.hasAl || (e.schema != "" && e.schema != name(0))) {
				continue
			}
			hit = e
			break
		}
	}
	return hit
}

// fromItem adds one FROM/USING item to the scope.
func (a *analyzer) fromItem(sc *scope, n *pg.Node) {
	switch x := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		if t := a.table(x.RangeVar); t != nil {
			sc.add(t, x.RangeVar, "read", false)
		}
	case *pg.Node_JoinExpr:
		j := x.JoinExpr
		l0 := len(sc.ents)
		a.fromItem(sc, j.Larg)
		l1 := len(sc.ents)
		a.fromItem(sc, j.Rarg)
		l2 := len(sc.ents)
		// An ON condition filters the rows of a side that is not preserved:
		// both sides of an inner join, the right of LEFT, the left of RIGHT.
		if j.Quals != nil && !j.IsNatural {
			switch j.Jointype {
			case pg.JoinType_JOIN_INNER:
				a.where(sc, j.Quals, l0, l2)
			case pg.JoinType_JOIN_LEFT:
				a.where(sc, j.Quals, l1, l2)
			case pg.JoinType_JOIN_RIGHT:
				a.where(sc, j.Quals, l0, l1)
			}
		}
		sc.later = append(sc.later, j.Quals)
	case *pg.Node_RangeSubselect:
		sc.later = append(sc.later, x.RangeSubselect.Subquery)
	default:
		sc.later = append(sc.later, n)
	}
}

// conjuncts flattens AND.
func conjuncts(n *pg.Node, dst []*pg.Node) []*pg.Node {
	if n == nil {
		return dst
	}
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
		for _, arg := range b.Args {
			dst = conjuncts(arg, dst)
		}
		return dst
	}
	return append(dst, n)
}

func opName(names []*pg.Node) string {
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().GetSval()
}

// where attaches the key conditions among the conjuncts of w to the scope
// entries in [lo,hi). Only top-level AND-ed conditions count: a condition
// under OR or NOT does not restrict the rows.
func (a *analyzer) where(sc *scope, w *pg.Node, lo, hi int) {
	for _, c := range conjuncts(w, nil) {
		e := c.GetAExpr()
		if e == nil || opName(e.Name) != "=" {
			continue
		}
		switch e.Kind {
		case pg.A_Expr_Kind_AEXPR_OP:
			for _, side := range [2][2]*pg.Node{{e.Lexpr, e.Rexpr}, {e.Rexpr, e.Lexpr}} {
				cr := side[0].GetColumnRef()
				if cr == nil {
					continue
				}
				if ent := sc.resolve(cr, lo, hi); ent != nil && isValue(side[1]) {
					ent.tgt.conds = append(ent.tgt.conds, cond{op: "=", vals: []valueSrc{valueOf(side[1])}})
					break
				}
			}
		case pg.A_Expr_Kind_AEXPR_IN:
			cr := e.Lexpr.GetColumnRef()
			list := e.Rexpr.GetList()
			if cr == nil || list == nil {
				continue
			}
			ent := sc.resolve(cr, lo, hi)
			if ent == nil {
				continue
			}
			vals := make([]valueSrc, len(list.Items))
			for i, it := range list.Items {
				vals[i] = valueOf(it)
			}
			ent.tgt.conds = append(ent.tgt.conds, cond{op: "IN", vals: vals})
		case pg.A_Expr_Kind_AEXPR_OP_ANY:
			cr := e.Lexpr.GetColumnRef()
			if cr == nil {
				continue
			}
			ent := sc.resolve(cr, lo, hi)
			if ent == nil {
				continue
			}
			if arr := e.Rexpr.GetAArrayExpr(); arr != nil {
				vals := make([]valueSrc, len(arr.Elements))
				for i, it := range arr.Elements {
					vals[i] = valueOf(it)
				}
				ent.tgt.conds = append(ent.tgt.conds, cond{op: "= ANY", vals: vals})
			} else if isValue(e.Rexpr) {
				ent.tgt.conds = append(ent.tgt.conds, cond{op: "= ANY", vals: []valueSrc{valueOf(e.Rexpr)}, array: true})
			}
		}
	}
}

// isValue reports whether n is a parameter, a literal or a cast of one.
func isValue(n *pg.Node) bool {
	return valueOf(n).kind != srcUnusable
}

// valueOf says where the value of expression n comes from.
func valueOf(n *pg.Node) valueSrc {
	switch x := n.GetNode().(type) {
	case *pg.Node_ParamRef:
		i := int(x.ParamRef.Number) - 1
		if i < 0 {
			return valueSrc{}
		}
		return valueSrc{kind: srcParam, param: i, text: "$" + strconv.Itoa(i+1)}
	case *pg.Node_AConst:
		c := x.AConst
		if c.Isnull {
			return valueSrc{kind: srcNull, text: "NULL"}
		}
		var lit string
		switch v := c.Val.(type) {
		case *pg.A_Const_Ival:
			lit = strconv.Itoa(int(v.Ival.GetIval()))
		case *pg.A_Const_Fval:
			// The parser keeps integers beyond int32 here too. One that fits
			// int8 is a bigint constant; any other (2.0, 1.5,
			// 9223372036854775808) is numeric: the server compares it as
			// numeric or rounds it on a cast, which the router does not
			// evaluate.
			lit = v.Fval.GetFval()
			if _, err := strconv.ParseInt(lit, 10, 64); err != nil {
				return valueSrc{kind: srcLit, lit: []byte(lit), text: lit, lossy: true}
			}
		case *pg.A_Const_Sval:
			lit = v.Sval.GetSval()
			return valueSrc{kind: srcLit, lit: []byte(lit), text: quoteLit(lit)}
		default:
			return valueSrc{}
		}
		return valueSrc{kind: srcLit, lit: []byte(lit), text: lit}
	case *pg.Node_TypeCast:
		v := valueOf(x.TypeCast.Arg)
		if v.kind == srcUnusable {
			return v
		}
		cls := classOf(x.TypeCast.TypeName)
		if v.kind == srcParam && v.wire == tcNone {
			v.wire = cls
		}
		v.as = cls
		v.casts |= 1 << cls
		v.lossy = v.lossy || lossyCast(x.TypeCast.TypeName, cls)
		v.text += "::" + typeText(x.TypeCast.TypeName)
		return v
	}
	return valueSrc{}
}

func typeText(tn *pg.TypeName) string {
	if tn == nil || len(tn.Names) == 0 {
		return "?"
	}
	s := tn.Names[len(tn.Names)-1].GetString_().GetSval()
	if len(tn.ArrayBounds) > 0 {
		s += "[]"
	}
	return s
}

func quoteLit(s string) string {
	if len(s) > 48 {
		s = s[:45] + "..."
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// order looks for a distance ordering on a vector table's column in the
// first ORDER BY item: vec <=> q, <->, <#>, cosine_distance(vec, q),
// l2_distance, inner_product, also inside arithmetic (1 - (vec <=> q)) or
// through a target-list alias or position.
func (a *analyzer) order(sc *scope, sort *pg.Node, tlist []*pg.Node) {
	sb := sort.GetSortBy()
	if sb == nil {
		return
	}
	n := sb.Node
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().GetSval()
		for _, t := range tlist {
			if rt := t.GetResTarget(); rt != nil && rt.Name == name && name != "" {
				n = rt.Val
				break
			}
		}
	} else if c := n.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
			if i := int(iv.Ival.GetIval()); i >= 1 && i <= len(tlist) {
				n = tlist[i-1].GetResTarget().GetVal()
			}
		}
	}
	a.distance(sc, n, 0)
}

func (a *analyzer) distance(sc *scope, n *pg.Node, depth int) bool {
	if n == nil || depth > 4 {
		return false
	}
	var l, r *pg.Node
	var op string
	switch x := n.GetNode().(type) {
	case *pg.Node_AExpr:
		e := x.AExpr
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP {
			return false
		}
		switch op = opName(e.Name); op {
		case "<=>", "<->", "<#>":
			l, r = e.Lexpr, e.Rexpr
		case "+", "-", "*", "/":
			return a.distance(sc, e.Lexpr, depth+1) || a.distance(sc, e.Rexpr, depth+1)
		default:
			return false
		}
	case *pg.Node_FuncCall:
		f := x.FuncCall
		switch op = opName(f.Funcname); op {
		case "cosine_distance", "l2_distance", "inner_product":
			if len(f.Args) != 2 {
				return false
			}
			l, r = f.Args[0], f.Args[1]
		default:
			return false
		}
	case *pg.Node_TypeCast:
		return a.distance(sc, x.TypeCast.Arg, depth+1)
	default:
		return false
	}
	for _, side := range [2][2]*pg.Node{{l, r}, {r, l}} {
		cr := side[0].GetColumnRef()
		if cr == nil {
			continue
		}
		ent := sc.resolve(cr, 0, len(sc.ents))
		if ent == nil || ent.tgt.t.Key != KeyVector || ent.tgt.order != nil {
			continue
		}
		v := valueOf(side[1])
		ent.tgt.order = &v
		ent.tgt.orderOp = "ORDER BY " + op
		return true
	}
	return false
}

func (a *analyzer) selectStmt(s *pg.SelectStmt) {
	if s == nil {
		return
	}
	mark := len(a.ctes)
	defer func() { a.ctes = a.ctes[:mark] }()
	a.with(s.WithClause)
	if s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED {
		a.selectStmt(s.Larg)
		a.selectStmt(s.Rarg)
		a.walkAll(s.SortClause, s.LimitOffset, s.LimitCount)
		return
	}
	if len(s.LockingClause) > 0 || s.IntoClause != nil {
		a.write = true
	}
	sc := &scope{}
	for _, f := range s.FromClause {
		a.fromItem(sc, f)
	}
	a.where(sc, s.WhereClause, 0, len(sc.ents))
	if len(s.SortClause) > 0 {
		a.order(sc, s.SortClause[0], s.TargetList)
	}
	a.flush(sc)
	a.walkAll(s.WhereClause, s.TargetList, s.DistinctClause, s.GroupClause, s.HavingClause,
		s.WindowClause, s.ValuesLists, s.SortClause, s.LimitOffset, s.LimitCount)
}

func (a *analyzer) insertStmt(s *pg.InsertStmt) {
	a.write = true
	mark := len(a.ctes)
	defer func() { a.ctes = a.ctes[:mark] }()
	a.with(s.WithClause)
	t := a.targetTable(s.Relation)
	if t == nil {
		a.walkAll(s.SelectStmt, s.OnConflictClause, s.ReturningList)
		return
	}
	tg := target{t: t, ref: refName(s.Relation), role: "insert", insert: true}
	key := t.KeyColumn()
	sel := s.SelectStmt.GetSelectStmt()
	idx := -1
	for i, c := range s.Cols {
		if c.GetResTarget().GetName() == key {
			idx = i
		}
	}
	var nested []any
	switch {
	case sel == nil:
		a.fail("23502", "INSERT into %s with DEFAULT VALUES has no sharding key %s, so the row cannot be placed on a shard; insert the row with a value for %s", t.Name, key, key)
	case len(sel.ValuesLists) == 0 || len(sel.FromClause) > 0 || sel.WithClause != nil:
		a.fail("0A000", "INSERT ... SELECT into %s cannot be routed: the rows' shards are not known before the rows exist; insert the rows with VALUES and their %s instead", t.Name, key)
		nested = append(nested, s.SelectStmt)
	case len(s.Cols) == 0:
		a.fail("42P10", "INSERT into %s has no column list, so its sharding key %s cannot be found; name the columns", t.Name, key)
	case idx < 0:
		a.fail("42P10", "INSERT into %s does not set its sharding key %s, so the row cannot be placed on a shard; include %s in the column list", t.Name, key, key)
	default:
		for _, row := range sel.ValuesLists {
			items := row.GetList().GetItems()
			if idx < len(items) {
				tg.rows = append(tg.rows, valueOf(items[idx]))
			} else {
				tg.rows = append(tg.rows, valueSrc{})
			}
		}
		nested = append(nested, sel.ValuesLists)
	}
	if oc := s.OnConflictClause; oc != nil {
		if oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE {
			a.keyUpdate(t, oc.TargetList, "INSERT ... ON CONFLICT DO UPDATE")
		}
		nested = append(nested, oc.TargetList, oc.WhereClause)
	}
	a.p.targets = append(a.p.targets, tg)
	a.walkAll(nested...)
	a.walkAll(s.ReturningList)
}

// keyUpdate refuses SET of the key column unless the table allows it.
func (a *analyzer) keyUpdate(t *Table, set []*pg.Node, what string) {
	key := t.KeyColumn()
	for _, n := range set {
		if n.GetResTarget().GetName() != key {
			continue
		}
		if t.Key == KeyVector && t.AllowKeyUpdate {
			return
		}
		if t.Key == KeyVector {
			a.fail("0A000", "%s of the sharding key %s of %s is not supported: the row would have to move to another shard; delete the row and insert it again, or set allow_key_update = true for %s to keep rows on their shard", what, key, t.Name, t.Name)
		} else {
			a.fail("0A000", "%s of the sharding key %s of %s is not supported: the row would have to move to another shard; delete the row and insert it again", what, key, t.Name)
		}
		return
	}
}

func (a *analyzer) updateStmt(s *pg.UpdateStmt) {
	a.write = true
	mark := len(a.ctes)
	defer func() { a.ctes = a.ctes[:mark] }()
	a.with(s.WithClause)
	sc := &scope{}
	if t := a.targetTable(s.Relation); t != nil {
		sc.add(t, s.Relation, "update", false)
		a.keyUpdate(t, s.TargetList, "UPDATE")
	}
	for _, f := range s.FromClause {
		a.fromItem(sc, f)
	}
	a.where(sc, s.WhereClause, 0, len(sc.ents))
	a.flush(sc)
	a.walkAll(s.TargetList, s.WhereClause, s.ReturningList)
}

func (a *analyzer) deleteStmt(s *pg.DeleteStmt) {
	a.write = true
	mark := len(a.ctes)
	defer func() { a.ctes = a.ctes[:mark] }()
	a.with(s.WithClause)
	sc := &scope{}
	if t := a.targetTable(s.Relation); t != nil {
		sc.add(t, s.Relation, "delete", false)
	}
	for _, f := range s.UsingClause {
		a.fromItem(sc, f)
	}
	a.where(sc, s.WhereClause, 0, len(sc.ents))
	a.flush(sc)
	a.walkAll(s.WhereClause, s.ReturningList)
}

func (a *analyzer) mergeStmt(s *pg.MergeStmt) {
	a.write = true
	mark := len(a.ctes)
	defer func() { a.ctes = a.ctes[:mark] }()
	a.with(s.WithClause)
	if t := a.targetTable(s.Relation); t != nil {
		for _, w := range s.MergeWhenClauses {
			mw := w.GetMergeWhenClause()
			switch mw.GetCommandType() {
			case pg.CmdType_CMD_INSERT:
				a.fail("0A000", "MERGE ... INSERT into %s cannot be routed: the new rows' shards are not known; insert them with INSERT ... VALUES instead", t.Name)
			case pg.CmdType_CMD_UPDATE:
				a.keyUpdate(t, mw.TargetList, "MERGE ... UPDATE")
			}
		}
		a.p.targets = append(a.p.targets, target{t: t, ref: refName(s.Relation), role: "merge"})
	}
	sc := &scope{}
	a.fromItem(sc, s.SourceRelation)
	a.flush(sc)
	a.walkAll(s.JoinCondition, s.MergeWhenClauses)
}

func (a *analyzer) copyStmt(s *pg.CopyStmt) {
	if s.IsFrom {
		a.write = true
	}
	if t := a.table(s.Relation); t != nil {
		a.p.targets = append(a.p.targets, target{t: t, ref: refName(s.Relation), role: "copy", insert: s.IsFrom})
		if s.IsFrom {
			a.fail("0A000", `COPY into %s cannot be routed through the pooler: a row can span several CopyData messages; use "vecshard split" to split the file per shard and COPY each part directly`, t.Name)
			return
		}
	}
	if s.Query != nil {
		a.stmt(s.Query)
	}
}

// walkAll walks each argument: *pg.Node, []*pg.Node or another message.
func (a *analyzer) walkAll(xs ...any) {
	for _, x := range xs {
		switch v := x.(type) {
		case *pg.Node:
			a.walk(v)
		case []*pg.Node:
			for _, n := range v {
				a.walk(n)
			}
		case *pg.OnConflictClause:
			if v != nil {
				a.walkMsg(v.ProtoReflect())
			}
		}
	}
}

func (a *analyzer) walk(n *pg.Node) {
	if n != nil {
		a.walkMsg(n.ProtoReflect())
	}
}

// walkMsg finds the statements nested anywhere in an expression tree
// (sublinks, CTEs in subqueries, ...) and any table reference the scope
// analysis did not see, which then counts as a reference without a key.
func (a *analyzer) walkMsg(m protoreflect.Message) {
	if !m.IsValid() {
		return
	}
	switch x := m.Interface().(type) {
	case *pg.SelectStmt:
		a.selectStmt(x)
		return
	case *pg.InsertStmt:
		a.insertStmt(x)
		return
	case *pg.UpdateStmt:
		a.updateStmt(x)
		return
	case *pg.DeleteStmt:
		a.deleteStmt(x)
		return
	case *pg.MergeStmt:
		a.mergeStmt(x)
		return
	case *pg.LockingClause:
		return // FOR UPDATE OF names range entries, not tables
	case *pg.RangeVar:
		if t := a.table(x); t != nil {
			a.p.targets = append(a.p.targets, target{t: t, ref: refName(x), role: "read"})
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				a.walkMsg(l.Get(i).Message())
			}
			return true
		}
		a.walkMsg(v.Message())
		return true
	})
}
