package router

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vecshard/vecshard/sqlir"
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
	note    string    // Explain: why there is no decision, or the parser's error
	unknown string    // a node the front end could not read (its name): fail closed
	fast    *fastPlan // the plan's one parameter key, when it has that shape (see fastPlanOf)

	// guard is the statement's own ranking (its top-level ORDER BY) when
	// the pooler cannot merge it: an answer of ALL for any reason is then
	// refused with guard.others.
	guard *rankGuard
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
	ref     string    // as written, for messages: "public.items i"
	insert  bool      // rows are created here: they must be placed exactly
	role    role      // what the statement does with it
	stmt    int       // index of the top-level statement it is part of
	conds   []cond    // AND-ed key conditions; the first that pins one shard wins
	order   *valueSrc // the query vector of a ranking that routes (ORDER BY distance ... LIMIT)
	orderOp string
	rows    []valueSrc // insert: the key of each VALUES row

	// why is the reason a ranking on this table cannot pick one shard
	// (no LIMIT, farthest first, a distance threshold, ...); "" when there
	// is none or it routes. Explain reports it.
	why string
	// checks are the query vectors of distances that do not route (a
	// threshold, a descending ranking, a distance in the select list):
	// decoded on every call for their errors only, so that a malformed or
	// wrong-dimension vector is an ERROR in every shape.
	checks []valueSrc
	// limitParam is n when the ranking's LIMIT is $n (a NULL $n means no
	// limit), else 0.
	limitParam int
	// guard is set when the first ORDER BY item of this reference's SELECT
	// ranks it by a distance and the pooler cannot merge that ORDER BY
	// across shards (see policy.go): the reference then never resolves
	// to ALL.
	guard *rankGuard
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

// typeName is the last name of a TypeName node ("vector" for
// public.vector), or "".
func typeName(tn *sqlir.Node) string {
	return lastName(tn.Slot(sqlir.TypeNames))
}

// lastName is the last String of a qualified name list.
func lastName(names []*sqlir.Node) string {
	if len(names) == 0 {
		return ""
	}
	return str(names[len(names)-1])
}

// str is the value of a String node, or "".
func str(n *sqlir.Node) string {
	if n.Is(sqlir.String) {
		return n.Name
	}
	return ""
}

func classOf(tn *sqlir.Node) tclass {
	if !tn.Is(sqlir.TypeName) || len(tn.Slot(sqlir.TypeNames)) == 0 {
		return tcOther
	}
	switch typeName(tn) {
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
func lossyCast(tn *sqlir.Node, cls tclass) bool {
	switch cls {
	case tcOther:
		return true
	case tcText:
		switch typeName(tn) {
		case "bpchar", "name":
			return true
		}
		return len(tn.Slot(sqlir.TypeMods)) > 0
	}
	return false
}

type hint struct {
	shard  int // -1: none
	key    []byte
	hasKey bool
	text   string // the comment's hint, for Explain
}

// analyze builds the plan of a parsed statement list against the
// snapshot's tables. h holds the comment hints (text front end only).
func analyze(s *Snapshot, stmts []*sqlir.Node, h hint) *plan {
	p := &plan{hint: h}
	a := &analyzer{s: s, p: p}
	if len(stmts) == 1 {
		// The pooler merges the rows of one statement, by that statement's
		// ORDER BY; EXPLAIN's rows are plans, not the ranking's rows.
		a.top = stmts[0]
		a.exempt = stmts[0].Is(sqlir.ExplainStmt)
	}
	for i, st := range stmts {
		if p.stmt == "" {
			p.stmt = commandOf(st)
		}
		mark := len(p.targets)
		a.stmt(st)
		for j := mark; j < len(p.targets); j++ {
			p.targets[j].stmt = i
		}
	}
	p.write = a.write
	p.unknown = a.unknown
	s.memoize(p)
	switch {
	case a.err != nil:
		p.kind = planError
		p.err = a.err
	case len(p.targets) > 0 || p.unknown != "":
		p.kind = planRoute
	default:
		p.note = "no configured table is read or written"
	}
	p.fast = fastPlanOf(p)
	return p
}

type analyzer struct {
	s       *Snapshot
	p       *plan
	ctes    []string // names of the common table expressions in scope
	write   bool
	err     *Decision
	unknown string
	top     *sqlir.Node // the one statement of the list (nil for several): its ORDER BY is the one the pooler merges
	exempt  bool        // the statement is an EXPLAIN: no ranking guards
}

func (a *analyzer) fail(code, format string, args ...any) {
	if a.err == nil {
		a.err = &Decision{Kind: Error, Code: code, Message: "vecshard: " + fmt.Sprintf(format, args...)}
	}
}

// commandOf names a statement for Explain: SELECT, INSERT, ...
func commandOf(n *sqlir.Node) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case sqlir.SelectStmt:
		return "SELECT"
	case sqlir.InsertStmt:
		return "INSERT"
	case sqlir.UpdateStmt:
		return "UPDATE"
	case sqlir.DeleteStmt:
		return "DELETE"
	case sqlir.MergeStmt:
		return "MERGE"
	case sqlir.CopyStmt:
		return "COPY"
	case sqlir.ExplainStmt:
		return "EXPLAIN"
	case sqlir.Other, sqlir.Unknown:
		return strings.TrimSuffix(n.PG, "Stmt")
	}
	if sp := sqlir.SpecOf(n.Kind); sp != nil {
		return strings.TrimSuffix(sp.PG, "Stmt")
	}
	return ""
}

// stmt dispatches one statement (top level, CTE body, subquery).
func (a *analyzer) stmt(n *sqlir.Node) {
	if n == nil || a.dml(n) {
		return
	}
	switch n.Kind {
	case sqlir.CopyStmt:
		a.copyStmt(n)
	case sqlir.ExplainStmt, sqlir.DeclareCursorStmt:
		a.stmt(n.One(0))
	case sqlir.TruncateStmt:
		a.write = true
		for _, rv := range n.Slot(0) {
			if t := a.table(rv); t != nil {
				a.p.targets = append(a.p.targets, target{t: t, ref: refName(rv), role: roleTruncate})
			}
		}
	case sqlir.Unknown:
		a.sawUnknown(n)
	default:
		// Utility statements (DDL, SET, SHOW, transaction control, ...):
		// NO_DECISION, PgDog knows what to do with them. Their children are
		// not analysed, but a part the front end could not read still
		// fails closed.
		a.findUnknown(n)
	}
}

// dml analyses n if it is a SELECT, INSERT, UPDATE, DELETE or MERGE, the
// statements that can stand at the top or nest in an expression, and
// reports whether it was one.
func (a *analyzer) dml(n *sqlir.Node) bool {
	switch n.Kind {
	case sqlir.SelectStmt:
		a.selectStmt(n)
	case sqlir.InsertStmt:
		a.insertStmt(n)
	case sqlir.UpdateStmt:
		a.updateStmt(n)
	case sqlir.DeleteStmt:
		a.deleteStmt(n)
	case sqlir.MergeStmt:
		a.mergeStmt(n)
	default:
		return false
	}
	return true
}

func (a *analyzer) sawUnknown(n *sqlir.Node) {
	if a.unknown == "" {
		a.unknown = n.PG
		if a.unknown == "" {
			a.unknown = "?"
		}
	}
}

func (a *analyzer) findUnknown(n *sqlir.Node) {
	if n == nil || a.unknown != "" {
		return
	}
	if n.Kind == sqlir.Unknown {
		a.sawUnknown(n)
		return
	}
	for _, s := range n.Kids {
		for _, k := range s {
			a.findUnknown(k)
		}
	}
}

// table returns the configured table rv names, or nil (also for a CTE name).
func (a *analyzer) table(rv *sqlir.Node) *Table {
	if !rv.Is(sqlir.RangeVar) {
		return nil
	}
	if rv.Schema == "" {
		for _, c := range a.ctes {
			if c == rv.Name {
				return nil
			}
		}
	}
	return a.s.Table(rv.Schema, rv.Name)
}

// targetTable returns the configured table that the target relation of an
// INSERT, UPDATE, DELETE or MERGE names, or nil. PostgreSQL never resolves
// such a target to a WITH query, so the CTE names in scope do not shadow it.
func (a *analyzer) targetTable(rv *sqlir.Node) *Table {
	if !rv.Is(sqlir.RangeVar) {
		return nil
	}
	return a.s.Table(rv.Schema, rv.Name)
}

func aliasOf(rv *sqlir.Node) string {
	if al := rv.One(0); al.Is(sqlir.Alias) {
		return al.Name
	}
	return ""
}

func refName(rv *sqlir.Node) string {
	s := rv.Name
	if rv.Schema != "" {
		s = rv.Schema + "." + s
	}
	if al := aliasOf(rv); al != "" {
		s += " " + al
	}
	return s
}

// with brings the CTE names into scope (the caller pops them with
// a.ctes = a.ctes[:mark]) and analyses their bodies. A CTE sees the
// ones before it, and itself when the clause is RECURSIVE.
func (a *analyzer) with(w *sqlir.Node) {
	if !w.Is(sqlir.WithClause) {
		a.walk(w)
		return
	}
	rec := w.Flag(sqlir.FlagWithRecursive)
	if rec {
		for _, c := range w.Slot(0) {
			if c.Is(sqlir.CommonTableExpr) {
				a.ctes = append(a.ctes, c.Name)
			}
		}
	}
	for _, cte := range w.Slot(0) {
		if !cte.Is(sqlir.CommonTableExpr) {
			a.walk(cte)
			continue
		}
		a.stmt(cte.One(0))
		a.walkAll(cte.Slot(1))
		if !rec {
			a.ctes = append(a.ctes, cte.Name)
		}
	}
	a.walkAll(w.Slot(1))
}

// A scope is the range table of one SELECT/UPDATE/DELETE level: the
// configured tables in it get the key conditions of its WHERE and inner JOINs.
type scope struct {
	ents  []scopeEnt
	later []*sqlir.Node // nested expressions, walked after the scope's own targets
}

type scopeEnt struct {
	tgt    *target
	alias  string // alias, or the relation name when there is none
	schema string
	hasAl  bool
}

func (sc *scope) add(t *Table, rv *sqlir.Node, r role, insert bool) {
	e := scopeEnt{tgt: &target{t: t, ref: refName(rv), role: r, insert: insert}, alias: rv.Name, schema: rv.Schema}
	if al := aliasOf(rv); al != "" {
		e.alias, e.hasAl = al, true
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
func (sc *scope) resolve(cr *sqlir.Node, lo, hi int) *scopeEnt {
	f := cr.Slot(0)
	name := func(i int) string { return str(f[i]) }
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
func (a *analyzer) fromItem(sc *scope, n *sqlir.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case sqlir.RangeVar:
		if t := a.table(n); t != nil {
			sc.add(t, n, roleRead, false)
		}
	case sqlir.JoinExpr:
		l0 := len(sc.ents)
		a.fromItem(sc, n.One(sqlir.JoinLarg))
		l1 := len(sc.ents)
		a.fromItem(sc, n.One(sqlir.JoinRarg))
		l2 := len(sc.ents)
		quals := n.One(sqlir.JoinQuals)
		// An ON condition filters the rows of a side that is not preserved:
		// both sides of an inner join, the right of LEFT, the left of RIGHT.
		if quals != nil && !n.Flag(sqlir.FlagJoinNatural) {
			switch n.Int {
			case sqlir.JoinInner:
				a.where(sc, quals, l0, l2)
			case sqlir.JoinLeft:
				a.where(sc, quals, l1, l2)
			case sqlir.JoinRight:
				a.where(sc, quals, l0, l1)
			}
		}
		sc.later = append(sc.later, quals)
		sc.later = append(sc.later, n.Slot(3)...)
	case sqlir.RangeSubselect:
		sc.later = append(sc.later, n.One(0))
		sc.later = append(sc.later, n.Slot(1)...)
	default:
		sc.later = append(sc.later, n)
	}
}

// conjuncts flattens AND.
func conjuncts(n *sqlir.Node, dst []*sqlir.Node) []*sqlir.Node {
	if n == nil {
		return dst
	}
	if n.Is(sqlir.BoolExpr) && n.Int == sqlir.BoolAnd {
		for _, arg := range n.Slot(0) {
			dst = conjuncts(arg, dst)
		}
		return dst
	}
	return append(dst, n)
}

// where attaches the key conditions among the conjuncts of w to the scope
// entries in [lo,hi). Only top-level AND-ed conditions count: a condition
// under OR or NOT does not restrict the rows.
func (a *analyzer) where(sc *scope, w *sqlir.Node, lo, hi int) {
	for _, e := range conjuncts(w, nil) {
		if !e.Is(sqlir.AExpr) || lastName(e.Slot(sqlir.AExprName)) != "=" {
			continue
		}
		l, r := e.One(sqlir.AExprL), e.One(sqlir.AExprR)
		switch e.Int {
		case sqlir.AExprOp:
			for _, side := range [2][2]*sqlir.Node{{l, r}, {r, l}} {
				if !side[0].Is(sqlir.ColumnRef) {
					continue
				}
				if ent := sc.resolve(side[0], lo, hi); ent != nil && isValue(side[1]) {
					ent.tgt.conds = append(ent.tgt.conds, cond{op: "=", vals: []valueSrc{valueOf(side[1])}})
					break
				}
			}
		case sqlir.AExprIn:
			if !l.Is(sqlir.ColumnRef) || !r.Is(sqlir.List) {
				continue
			}
			ent := sc.resolve(l, lo, hi)
			if ent == nil {
				continue
			}
			items := r.Slot(0)
			vals := make([]valueSrc, len(items))
			for i, it := range items {
				vals[i] = valueOf(it)
			}
			ent.tgt.conds = append(ent.tgt.conds, cond{op: "IN", vals: vals})
		case sqlir.AExprOpAny:
			if !l.Is(sqlir.ColumnRef) {
				continue
			}
			ent := sc.resolve(l, lo, hi)
			if ent == nil {
				continue
			}
			if r.Is(sqlir.AArrayExpr) {
				elems := r.Slot(0)
				vals := make([]valueSrc, len(elems))
				for i, it := range elems {
					vals[i] = valueOf(it)
				}
				ent.tgt.conds = append(ent.tgt.conds, cond{op: "= ANY", vals: vals})
			} else if isValue(r) {
				ent.tgt.conds = append(ent.tgt.conds, cond{op: "= ANY", vals: []valueSrc{valueOf(r)}, array: true})
			}
		}
	}
}

// isValue reports whether n is a parameter, a literal or a cast of one.
func isValue(n *sqlir.Node) bool {
	return valueOf(n).kind != srcUnusable
}

// valueOf says where the value of expression n comes from.
func valueOf(n *sqlir.Node) valueSrc {
	if n == nil {
		return valueSrc{}
	}
	switch n.Kind {
	case sqlir.ParamRef:
		i := int(n.Int) - 1
		if i < 0 || n.Int > 1<<16 {
			return valueSrc{}
		}
		return valueSrc{kind: srcParam, param: i, text: "$" + strconv.Itoa(i+1)}
	case sqlir.AConst:
		lit := n.Name
		switch n.Int {
		case sqlir.ConstNull:
			return valueSrc{kind: srcNull, text: "NULL"}
		case sqlir.ConstInt:
		case sqlir.ConstFloat:
			// The parser keeps integers beyond int32 here too. One that fits
			// int8 is a bigint constant; any other (2.0, 1.5,
			// 9223372036854775808) is numeric: the server compares it as
			// numeric or rounds it on a cast, which the router does not
			// evaluate.
			if _, err := strconv.ParseInt(lit, 10, 64); err != nil {
				return valueSrc{kind: srcLit, lit: []byte(lit), text: lit, lossy: true}
			}
		case sqlir.ConstString:
			return valueSrc{kind: srcLit, lit: []byte(lit), text: quoteLit(lit)}
		default:
			return valueSrc{}
		}
		return valueSrc{kind: srcLit, lit: []byte(lit), text: lit}
	case sqlir.TypeCast:
		v := valueOf(n.One(sqlir.CastArg))
		if v.kind == srcUnusable {
			return v
		}
		tn := n.One(sqlir.CastType)
		cls := classOf(tn)
		if v.kind == srcParam && v.wire == tcNone {
			v.wire = cls
		}
		v.as = cls
		v.casts |= 1 << cls
		v.lossy = v.lossy || lossyCast(tn, cls)
		v.text += "::" + typeText(tn)
		return v
	}
	return valueSrc{}
}

func typeText(tn *sqlir.Node) string {
	if !tn.Is(sqlir.TypeName) || len(tn.Slot(sqlir.TypeNames)) == 0 {
		return "?"
	}
	s := typeName(tn)
	if len(tn.Slot(sqlir.TypeArrayBounds)) > 0 {
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

// popCTEs restores the CTE scope to mark.
func (a *analyzer) popCTEs(mark int) { a.ctes = a.ctes[:mark] }

func (a *analyzer) selectStmt(s *sqlir.Node) {
	mark := len(a.ctes)
	defer a.popCTEs(mark)
	a.with(s.One(sqlir.SelWith))
	if s.Int != sqlir.SetopNone {
		a.selectLike(s.One(sqlir.SelLarg))
		a.selectLike(s.One(sqlir.SelRarg))
		a.walkAll(s.Slot(sqlir.SelSort), s.Slot(sqlir.SelOffset), s.Slot(sqlir.SelLimit))
		a.walkAll(s.Slot(sqlir.SelLocking), s.Slot(sqlir.SelInto), rest(s))
		return
	}
	if len(s.Slot(sqlir.SelLocking)) > 0 || len(s.Slot(sqlir.SelInto)) > 0 {
		a.write = true
	}
	sc := &scope{}
	for _, f := range s.Slot(sqlir.SelFrom) {
		a.fromItem(sc, f)
	}
	where := s.One(sqlir.SelWhere)
	a.where(sc, where, 0, len(sc.ents))
	a.ranking(sc, s)
	a.flush(sc)
	a.walkAll(s.Slot(sqlir.SelWhere), s.Slot(sqlir.SelTargets), s.Slot(sqlir.SelDistinct), s.Slot(sqlir.SelGroup),
		s.Slot(sqlir.SelHaving), s.Slot(sqlir.SelWindow), s.Slot(sqlir.SelValues), s.Slot(sqlir.SelSort),
		s.Slot(sqlir.SelOffset), s.Slot(sqlir.SelLimit), s.Slot(sqlir.SelLocking), s.Slot(sqlir.SelInto),
		rest(s))
}

// selectLike analyses the arm of a set operation (a SelectStmt, or a node
// the front end could not read).
func (a *analyzer) selectLike(n *sqlir.Node) {
	if n.Is(sqlir.SelectStmt) {
		a.selectStmt(n)
		return
	}
	a.walk(n)
}

// rest returns n's trailing slot: the children its spec does not name.
func rest(n *sqlir.Node) []*sqlir.Node {
	if sp := sqlir.SpecOf(n.Kind); sp != nil {
		return n.Slot(sp.Rest())
	}
	return nil
}

func (a *analyzer) insertStmt(s *sqlir.Node) {
	a.write = true
	mark := len(a.ctes)
	defer a.popCTEs(mark)
	a.with(s.One(sqlir.InsWith))
	rel := s.One(sqlir.InsRelation)
	t := a.targetTable(rel)
	if t == nil {
		a.walkAll(s.Slot(sqlir.InsSelect), s.Slot(sqlir.InsOnConflict), s.Slot(sqlir.InsReturning), rest(s))
		return
	}
	tg := target{t: t, ref: refName(rel), role: roleInsert, insert: true}
	key := t.KeyColumn()
	sel := s.One(sqlir.InsSelect)
	cols := s.Slot(sqlir.InsCols)
	idx := -1
	for i, c := range cols {
		if c.Is(sqlir.ResTarget) && c.Name == key {
			idx = i
		}
	}
	var nested [][]*sqlir.Node
	switch {
	case sel == nil:
		a.fail(sqlStateNotNull, "INSERT into %s with DEFAULT VALUES has no sharding key %s, so the row cannot be placed on a shard; insert the row with a value for %s", t.Name, key, key)
	case !sel.Is(sqlir.SelectStmt) || len(sel.Slot(sqlir.SelValues)) == 0 || len(sel.Slot(sqlir.SelFrom)) > 0 || sel.One(sqlir.SelWith) != nil:
		a.fail(sqlStateFeatureNotSupported, "INSERT ... SELECT into %s cannot be routed: the rows' shards are not known before the rows exist; insert the rows with VALUES and their %s instead", t.Name, key)
		nested = append(nested, s.Slot(sqlir.InsSelect))
	case len(cols) == 0:
		a.fail(sqlStateInvalidColumnRef, "INSERT into %s has no column list, so its sharding key %s cannot be found; name the columns", t.Name, key)
	case idx < 0:
		a.fail(sqlStateInvalidColumnRef, "INSERT into %s does not set its sharding key %s, so the row cannot be placed on a shard; include %s in the column list", t.Name, key, key)
	default:
		for _, row := range sel.Slot(sqlir.SelValues) {
			var items []*sqlir.Node
			if row.Is(sqlir.List) {
				items = row.Slot(0)
			}
			if idx < len(items) {
				tg.rows = append(tg.rows, valueOf(items[idx]))
			} else {
				tg.rows = append(tg.rows, valueSrc{})
			}
		}
		nested = append(nested, sel.Slot(sqlir.SelValues), rest(sel))
	}
	if oc := s.One(sqlir.InsOnConflict); oc != nil {
		if oc.Is(sqlir.OnConflictClause) {
			if oc.Int == sqlir.OnConflictUpdate {
				a.keyUpdate(t, oc.Slot(sqlir.OnConflictTargets), "INSERT ... ON CONFLICT DO UPDATE")
			}
			nested = append(nested, oc.Slot(sqlir.OnConflictTargets), oc.Slot(sqlir.OnConflictWhere), rest(oc))
		} else {
			nested = append(nested, []*sqlir.Node{oc})
		}
	}
	a.p.targets = append(a.p.targets, tg)
	a.walkAll(nested...)
	a.walkAll(s.Slot(sqlir.InsReturning), rest(s))
}

// keyUpdate refuses SET of the key column unless the table allows it.
func (a *analyzer) keyUpdate(t *Table, set []*sqlir.Node, what string) {
	key := t.KeyColumn()
	for _, n := range set {
		if !n.Is(sqlir.ResTarget) || n.Name != key {
			continue
		}
		if t.Key == KeyVector && t.AllowKeyUpdate {
			return
		}
		if t.Key == KeyVector {
			a.fail(sqlStateFeatureNotSupported, "%s of the sharding key %s of %s is not supported: the row would have to move to another shard; delete the row and insert it again, or set allow_key_update = true for %s to keep rows on their shard", what, key, t.Name, t.Name)
		} else {
			a.fail(sqlStateFeatureNotSupported, "%s of the sharding key %s of %s is not supported: the row would have to move to another shard; delete the row and insert it again", what, key, t.Name)
		}
		return
	}
}

func (a *analyzer) updateStmt(s *sqlir.Node) {
	a.write = true
	mark := len(a.ctes)
	defer a.popCTEs(mark)
	a.with(s.One(sqlir.UpdWith))
	sc := &scope{}
	rel := s.One(sqlir.UpdRelation)
	if t := a.targetTable(rel); t != nil {
		sc.add(t, rel, roleUpdate, false)
		a.keyUpdate(t, s.Slot(sqlir.UpdTargets), "UPDATE")
	}
	for _, f := range s.Slot(sqlir.UpdFrom) {
		a.fromItem(sc, f)
	}
	a.where(sc, s.One(sqlir.UpdWhere), 0, len(sc.ents))
	a.flush(sc)
	a.walkAll(s.Slot(sqlir.UpdTargets), s.Slot(sqlir.UpdWhere), s.Slot(sqlir.UpdReturning), rest(s))
}

func (a *analyzer) deleteStmt(s *sqlir.Node) {
	a.write = true
	mark := len(a.ctes)
	defer a.popCTEs(mark)
	a.with(s.One(sqlir.DelWith))
	sc := &scope{}
	rel := s.One(sqlir.DelRelation)
	if t := a.targetTable(rel); t != nil {
		sc.add(t, rel, roleDelete, false)
	}
	for _, f := range s.Slot(sqlir.DelUsing) {
		a.fromItem(sc, f)
	}
	a.where(sc, s.One(sqlir.DelWhere), 0, len(sc.ents))
	a.flush(sc)
	a.walkAll(s.Slot(sqlir.DelWhere), s.Slot(sqlir.DelReturning), rest(s))
}

func (a *analyzer) mergeStmt(s *sqlir.Node) {
	a.write = true
	mark := len(a.ctes)
	defer a.popCTEs(mark)
	a.with(s.One(sqlir.MrgWith))
	rel := s.One(sqlir.MrgRelation)
	if t := a.targetTable(rel); t != nil {
		for _, mw := range s.Slot(sqlir.MrgWhen) {
			if !mw.Is(sqlir.MergeWhenClause) {
				continue
			}
			switch mw.Int {
			case sqlir.CmdInsert:
				a.fail(sqlStateFeatureNotSupported, "MERGE ... INSERT into %s cannot be routed: the new rows' shards are not known; insert them with INSERT ... VALUES instead", t.Name)
			case sqlir.CmdUpdate:
				a.keyUpdate(t, mw.Slot(sqlir.MergeWhenTargets), "MERGE ... UPDATE")
			}
		}
		a.p.targets = append(a.p.targets, target{t: t, ref: refName(rel), role: roleMerge})
	}
	sc := &scope{}
	a.fromItem(sc, s.One(sqlir.MrgSource))
	a.flush(sc)
	a.walkAll(s.Slot(sqlir.MrgJoin), s.Slot(sqlir.MrgWhen), s.Slot(sqlir.MrgReturning), rest(s))
}

func (a *analyzer) copyStmt(s *sqlir.Node) {
	from := s.Flag(sqlir.FlagCopyFrom)
	if from {
		a.write = true
	}
	rel := s.One(sqlir.CopyRelation)
	if t := a.table(rel); t != nil {
		a.p.targets = append(a.p.targets, target{t: t, ref: refName(rel), role: roleCopy, insert: from})
		if from {
			a.fail(sqlStateFeatureNotSupported, `COPY into %s cannot be routed through the pooler: a row can span several CopyData messages; use "vecshard split" to split the file per shard and COPY each part directly`, t.Name)
			return
		}
	}
	if q := s.One(sqlir.CopyQuery); q != nil {
		a.stmt(q)
	}
	a.walkAll(rest(s))
}

// walkAll walks every node of every list.
func (a *analyzer) walkAll(lists ...[]*sqlir.Node) {
	for _, l := range lists {
		for _, n := range l {
			a.walk(n)
		}
	}
}

// walk finds the statements nested anywhere in an expression tree
// (sublinks, CTEs in subqueries, ...) and any table reference the scope
// analysis did not see, which then counts as a reference without a key.
func (a *analyzer) walk(n *sqlir.Node) {
	if n == nil || a.dml(n) {
		return
	}
	switch n.Kind {
	case sqlir.LockingClause:
		a.walkAll(rest(n)) // FOR UPDATE OF names range entries, not tables
		return
	case sqlir.RangeVar:
		if t := a.table(n); t != nil {
			a.p.targets = append(a.p.targets, target{t: t, ref: refName(n), role: roleRead})
		}
		return
	case sqlir.Unknown:
		a.sawUnknown(n)
		return
	}
	for _, s := range n.Kids {
		for _, k := range s {
			a.walk(k)
		}
	}
}
