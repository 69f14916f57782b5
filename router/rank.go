package router

import (
	"strconv"

	"github.com/vecshard/vecshard/sqlir"
)

// Similarity searches. A shard holds the rows nearest to its centroids, so
// a ranking by nearness to a query vector q with a LIMIT finds its rows on
// q's shard; every other use of a distance wants rows from every shard.
// docs/ROUTING.md, "Similarity search", is the contract these rules follow.

// Reasons a ranking goes to every shard (Explain's Note and the target's
// Reason).
const (
	whyNoLimit   = "ORDER BY a distance without LIMIT asks for every row, and the rows live on every shard: ALL"
	whyNullLimit = "the LIMIT parameter is NULL (no limit): every row is asked for, and the rows live on every shard: ALL"
	whyFarthest  = "the ranking puts the farthest rows first (DESC or USING > on a distance, or a similarity in ascending order): they live on every shard, not on the query vector's: ALL"
	whyMixed     = "ORDER BY combines the distance with something other than a constant, so it does not rank by nearness to the query vector: ALL"
	whyUsing     = "ORDER BY ... USING an operator other than < or > on a distance: not a ranking vecshard knows: ALL"
	whyThreshold = "a distance in WHERE (a threshold such as embedding <-> $1 < 5) selects rows within a distance, and those can live on any shard: ALL"
	whySelect    = "a distance in the select list without ORDER BY distance ... LIMIT is computed for every row: ALL"
	whyLaterSort = "the distance is not the first ORDER BY item, so the rows are not ranked by nearness to the query vector: ALL"
	whyAggregate = "an aggregate over the vector column (such as AVG(embedding)) reads every row: ALL"
	whySubquery  = "the query vector comes from a subquery, so it is not known before the statement runs: ALL"
	whyExpr      = "the query vector is an expression vecshard cannot evaluate (only a parameter or a literal, possibly cast, and the same quantizer or subvector as the column side): ALL"
)

// Shapes of the column side of a distance.
const (
	wrapNone     = iota
	wrapQuantize // binary_quantize(col)
	wrapSubvec   // subvector(col, start, n)
)

// A rank is one distance between a vector table's column and a query
// vector found in an expression.
type rank struct {
	ent  *scopeEnt
	val  valueSrc
	op   string // the operator or function, for Explain
	sign int    // +1: smaller is nearer; -1: larger is nearer; 0: neither
	why  string // the query vector cannot route (whySubquery, whyExpr)
}

// orderExpr resolves an ORDER BY item that names an output column (by
// alias or position) to the output expression.
func orderExpr(n *sqlir.Node, tlist []*sqlir.Node) *sqlir.Node {
	if n.Is(sqlir.ColumnRef) && len(n.Slot(0)) == 1 {
		name := str(n.Slot(0)[0])
		for _, t := range tlist {
			if t.Is(sqlir.ResTarget) && t.Name == name && name != "" {
				return t.One(sqlir.ResVal)
			}
		}
	} else if n.Is(sqlir.AConst) && n.Int == sqlir.ConstInt {
		// After a * a position counts the columns it expands to, which
		// the statement does not show.
		if i, err := strconv.Atoi(n.Name); err == nil && i >= 1 && i <= len(tlist) && !starBefore(tlist, i-1) {
			return tlist[i-1].One(sqlir.ResVal)
		}
	}
	return n
}

// numConst is the value of a numeric constant (possibly cast).
func numConst(n *sqlir.Node) (float64, bool) {
	for n.Is(sqlir.TypeCast) {
		n = n.One(sqlir.CastArg)
	}
	if !n.Is(sqlir.AConst) || (n.Int != sqlir.ConstInt && n.Int != sqlir.ConstFloat) {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Name, 64)
	return f, err == nil
}

func signOf(f float64) int {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

// arithSign is the sign (as rank.sign) of d op c when rankLeft, else of
// c op d, for a distance d of the given sign, op one of + - * / and c the
// other operand: 0 unless c is a numeric constant.
func arithSign(sign int, op string, other *sqlir.Node, rankLeft bool) int {
	c, isConst := numConst(other)
	switch {
	case !isConst:
		return 0
	case op == "*", op == "/" && rankLeft:
		return sign * signOf(c)
	case op == "/":
		return 0 // c / d is not monotonic across d = 0
	case op == "-" && !rankLeft:
		return -sign
	}
	return sign
}

// rankOf finds a distance in n: a distance operator or function, also
// inside arithmetic with constants (1 - (vec <=> q), (vec <#> q) * -1) and
// casts, up to 4 levels. sign says how n orders rows relative to nearness.
func (a *analyzer) rankOf(sc *scope, n *sqlir.Node, depth int) (rank, bool) {
	if n == nil || depth > 4 {
		return rank{}, false
	}
	switch n.Kind {
	case sqlir.TypeCast:
		return a.rankOf(sc, n.One(sqlir.CastArg), depth+1)
	case sqlir.AExpr:
		if n.Int != sqlir.AExprOp {
			return rank{}, false
		}
		op := lastName(n.Slot(sqlir.AExprName))
		l, r := n.One(sqlir.AExprL), n.One(sqlir.AExprR)
		switch op {
		case "<=>", "<->", "<#>", "<+>", "<~>", "<%>":
			return a.distanceOf(sc, op, l, r, 1)
		case "+", "-", "*", "/":
		default:
			return rank{}, false
		}
		if l == nil { // unary + or -
			rk, ok := a.rankOf(sc, r, depth+1)
			if op == "-" {
				rk.sign = -rk.sign
			} else if op != "+" {
				rk.sign = 0
			}
			return rk, ok
		}
		if rk, ok := a.rankOf(sc, l, depth+1); ok {
			rk.sign = arithSign(rk.sign, op, r, true)
			return rk, true
		}
		if rk, ok := a.rankOf(sc, r, depth+1); ok {
			rk.sign = arithSign(rk.sign, op, l, false)
			return rk, true
		}
	case sqlir.FuncCall:
		args := n.Slot(sqlir.FuncArgs)
		if len(args) != 2 {
			return rank{}, false
		}
		switch op := lastName(n.Slot(sqlir.FuncName)); op {
		case "cosine_distance", "l2_distance", "l1_distance", "hamming_distance", "jaccard_distance":
			return a.distanceOf(sc, op, args[0], args[1], 1)
		case "inner_product": // the inner product itself: larger is nearer
			return a.distanceOf(sc, op, args[0], args[1], -1)
		}
	}
	return rank{}, false
}

// distanceOf matches the operands of a distance: one side a vector table's
// column (possibly cast, quantized or a subvector), the other the query
// vector in the same shape.
func (a *analyzer) distanceOf(sc *scope, op string, l, r *sqlir.Node, sign int) (rank, bool) {
	bits := op == "<~>" || op == "<%>" || op == "hamming_distance" || op == "jaccard_distance"
	for _, side := range [2][2]*sqlir.Node{{l, r}, {r, l}} {
		ent, cast, wrap := vecSide(sc, side[0], 0)
		if ent == nil {
			continue
		}
		if bits != (wrap == wrapQuantize) {
			return rank{}, false // bit distances only compare quantized vectors
		}
		v, why := queryValue(side[1], wrap, cast)
		return rank{ent: ent, val: v, op: op, sign: sign, why: why}, true
	}
	return rank{}, false
}

// vecSide matches the column side of a distance: a vector table's key
// column, cast to a vector type (embedding::halfvec(3)), quantized
// (binary_quantize(embedding)::bit(3)) or a subvector
// (subvector(embedding, 1, 2)::vector(2)). cast is the vector type the
// column is compared as (tcNone: its own).
func vecSide(sc *scope, n *sqlir.Node, depth int) (ent *scopeEnt, cast tclass, wrap int) {
	if n == nil || depth > 4 {
		return nil, 0, 0
	}
	switch n.Kind {
	case sqlir.ColumnRef:
		if e := sc.resolve(n, 0, len(sc.ents)); e != nil && e.tgt.t.Key == KeyVector {
			return e, tcNone, wrapNone
		}
	case sqlir.TypeCast:
		ent, cast, wrap = vecSide(sc, n.One(sqlir.CastArg), depth+1)
		if ent == nil {
			return nil, 0, 0
		}
		tn := n.One(sqlir.CastType)
		switch cls := classOf(tn); cls {
		case tcVector, tcHalfvec, tcSparsevec:
			if wrap == wrapNone {
				cast = cls
			}
			return ent, cast, wrap
		}
		if typeName(tn) == "bit" && wrap == wrapQuantize {
			return ent, cast, wrap
		}
	case sqlir.FuncCall:
		args := n.Slot(sqlir.FuncArgs)
		w := wrapNone
		switch lastName(n.Slot(sqlir.FuncName)) {
		case "binary_quantize":
			if len(args) == 1 {
				w = wrapQuantize
			}
		case "subvector":
			if len(args) == 3 {
				w = wrapSubvec
			}
		}
		if w == wrapNone {
			return nil, 0, 0
		}
		ent, cast, wrap = vecSide(sc, args[0], depth+1)
		if ent == nil || wrap != wrapNone {
			return nil, 0, 0
		}
		return ent, cast, w
	}
	return nil, 0, 0
}

// queryValue finds the query vector on the other side of a distance whose
// column side has shape wrap. The full query vector is the key: inside
// binary_quantize(q) or subvector(q, ...) (casts of the result are the
// comparison's, not the value's). A query side of another shape than the
// column side's is not a vector the router can read. Without casts of its
// own, the value has the type the column is cast to (the server infers a
// parameter's type from the operator).
func queryValue(n *sqlir.Node, wrap int, colCast tclass) (valueSrc, string) {
	if wrap == wrapNone {
		if n.Is(sqlir.SubLink) {
			return valueSrc{}, whySubquery
		}
		v := valueOf(n)
		if v.kind == srcUnusable {
			return v, whyExpr
		}
		if v.casts == 0 && colCast != tcNone && v.kind != srcNull {
			v.as, v.casts = colCast, 1<<colCast
			if v.kind == srcParam {
				v.wire = colCast
			}
		}
		return v, ""
	}
	m := n
	for m.Is(sqlir.TypeCast) {
		m = m.One(sqlir.CastArg)
	}
	want := "binary_quantize"
	if wrap == wrapSubvec {
		want = "subvector"
	}
	if !m.Is(sqlir.FuncCall) || lastName(m.Slot(sqlir.FuncName)) != want || len(m.Slot(sqlir.FuncArgs)) == 0 {
		return valueSrc{}, whyExpr
	}
	arg := m.Slot(sqlir.FuncArgs)[0]
	if arg.Is(sqlir.SubLink) {
		return valueSrc{}, whySubquery
	}
	v := valueOf(arg)
	if v.kind == srcUnusable {
		return v, whyExpr
	}
	v.text = want + "(" + v.text + ")"
	return v, ""
}

// hasLimit reports whether a SELECT has a LIMIT (LIMIT ALL and LIMIT NULL
// are none), and the parameter number when the LIMIT is $n.
func hasLimit(s *sqlir.Node) (bool, int) {
	if s.Int2 == sqlir.LimitDefault {
		return false, 0
	}
	lim := s.One(sqlir.SelLimit)
	for lim.Is(sqlir.TypeCast) {
		lim = lim.One(sqlir.CastArg)
	}
	switch {
	case lim == nil:
		return false, 0
	case lim.Is(sqlir.AConst) && lim.Int == sqlir.ConstNull:
		return false, 0
	case lim.Is(sqlir.ParamRef) && lim.Int >= 1 && lim.Int <= 1<<16:
		return true, int(lim.Int)
	}
	return true, 0
}

// nearFirst reports whether the ORDER BY item sb, over an expression of
// the given sign, puts the nearest rows first; else the reason it does not.
func nearFirst(sb *sqlir.Node, sign int) string {
	desc := false
	switch sb.Int {
	case sqlir.SortDesc:
		desc = true
	case sqlir.SortUsing:
		switch lastName(sb.Slot(sqlir.SortUseOp)) {
		case "<":
		case ">":
			desc = true
		default:
			return whyUsing
		}
	}
	switch {
	case sign == 0:
		return whyMixed
	case (sign > 0) != desc:
		return ""
	}
	return whyFarthest
}

var aggregates = map[string]bool{"avg": true, "sum": true, "min": true, "max": true, "array_agg": true,
	"string_agg": true, "json_agg": true, "jsonb_agg": true, "count": true}

// ranking analyses the similarity searches of one SELECT level: the
// first ORDER BY item may route its table by the query vector; every other
// distance on the scope's vector tables is checked and, where it asks for
// rows from every shard, says why.
func (a *analyzer) ranking(sc *scope, s *sqlir.Node) {
	vec := false
	for i := range sc.ents {
		vec = vec || sc.ents[i].tgt.t.Key == KeyVector
	}
	if !vec {
		return
	}
	setWhy := func(tg *target, why string) {
		if tg.why == "" {
			tg.why = why
		}
	}
	sort, tlist := s.Slot(sqlir.SelSort), s.Slot(sqlir.SelTargets)
	var ranked *target       // the reference the first ORDER BY item ranks
	var rankExpr *sqlir.Node // that item's expression
	if len(sort) > 0 && sort[0].Is(sqlir.SortBy) {
		rankExpr = orderExpr(sort[0].One(sqlir.SortNode), tlist)
		if rk, ok := a.rankOf(sc, rankExpr, 0); ok {
			tg := rk.ent.tgt
			ranked = tg
			v := rk.val
			tg.order, tg.orderOp = &v, "ORDER BY "+rk.op
			setWhy(tg, rk.why)
			setWhy(tg, nearFirst(sort[0], rk.sign))
			if lim, param := hasLimit(s); !lim {
				setWhy(tg, whyNoLimit)
			} else {
				tg.limitParam = param
			}
		}
	}
	// Every other distance of this level: a threshold in WHERE or HAVING
	// overrides a ranking; the others explain why there is none.
	each := func(list []*sqlir.Node, why string, always bool) {
		for _, n := range list {
			a.eachRank(sc, n, func(rk rank) {
				tg := rk.ent.tgt
				tg.addCheck(rk.val)
				if always || tg.order == nil {
					setWhy(tg, why)
				}
			})
		}
	}
	each(s.Slot(sqlir.SelWhere), whyThreshold, true)
	each(s.Slot(sqlir.SelHaving), whyThreshold, true)
	each(tlist, whySelect, false)
	for i, sb := range sort {
		if i > 0 {
			each(sb.Slot(sqlir.SortNode), whyLaterSort, false)
		}
	}
	for _, n := range append(tlist[:len(tlist):len(tlist)], s.Slot(sqlir.SelHaving)...) {
		a.eachAggregate(sc, n, func(tg *target) {
			if tg.order == nil {
				setWhy(tg, whyAggregate)
			}
		})
	}
	for i := range sc.ents {
		tg := sc.ents[i].tgt
		if tg.order != nil && tg.why != "" {
			v := *tg.order
			tg.order = nil
			tg.addCheck(v)
		}
	}
	if ranked != nil {
		a.guardRanking(ranked, s, rankExpr)
	}
}

// addCheck records a query vector to decode for its errors (once).
func (tg *target) addCheck(v valueSrc) {
	if v.kind != srcParam && v.kind != srcLit {
		return
	}
	same := func(o *valueSrc) bool {
		return o.kind == v.kind && o.param == v.param && string(o.lit) == string(v.lit) && o.as == v.as && o.wire == v.wire && o.casts == v.casts
	}
	if tg.order != nil && same(tg.order) {
		return
	}
	for i := range tg.checks {
		if same(&tg.checks[i]) {
			return
		}
	}
	tg.checks = append(tg.checks, v)
}

// eachRank calls fn for every distance in the expression n, not looking
// into nested statements (their own levels analyse them).
func (a *analyzer) eachRank(sc *scope, n *sqlir.Node, fn func(rank)) {
	if n == nil || n.Kind == sqlir.SelectStmt {
		return
	}
	if rk, ok := a.rankOf(sc, n, 4); ok { // a bare distance (no arithmetic)
		fn(rk)
		return
	}
	for _, s := range n.Kids {
		for _, k := range s {
			a.eachRank(sc, k, fn)
		}
	}
}

// eachAggregate calls fn for the target of every aggregate over a vector
// table's column in n.
func (a *analyzer) eachAggregate(sc *scope, n *sqlir.Node, fn func(*target)) {
	if n == nil || n.Kind == sqlir.SelectStmt {
		return
	}
	if n.Is(sqlir.FuncCall) && aggregates[lastName(n.Slot(sqlir.FuncName))] {
		for _, arg := range n.Slot(sqlir.FuncArgs) {
			if ent, _, _ := vecSide(sc, arg, 0); ent != nil {
				fn(ent.tgt)
			}
		}
	}
	for _, s := range n.Kids {
		for _, k := range s {
			a.eachAggregate(sc, k, fn)
		}
	}
}
