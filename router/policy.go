package router

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vecshard/vecshard/config"
	"github.com/vecshard/vecshard/sqlir"
)

// Rankings that need more than one shard. A ranking sent to ALL returns
// the right rows only when the pooler merges the shards' rows in its ORDER
// BY and then applies its LIMIT; PgDog does that for an ORDER BY of
// returned columns and positions only (see Host). When the snapshot knows
// its pooler, a ranking whose ORDER BY the pooler cannot merge is never
// sent to ALL: when the query vector's top probes centroids are on several
// shards it goes to the nearest centroid's shard (what probes = 1 answers)
// with a warning for the log; when the rows it asks for live on every shard
// (farthest first, no LIMIT, a distance threshold) it is refused. Both name
// the form the pooler merges: the distance selected, ordered by its alias.
// docs/ROUTING.md, "Rankings across shards", is the contract.

// A rankGuard is a ranking whose ORDER BY the pooler cannot merge across
// shards. Its answers are written when the plan is built; a call copies
// the one that applies.
type rankGuard struct {
	warn      string   // probes disagree: the nearest centroid's shard was answered; the log's warning
	block     Decision // the rows asked for live on every shard (the target's why)
	nullLimit Decision // LIMIT $n bound to NULL
	noVector  Decision // the query vector is NULL or cannot be read
	others    Decision // a top-level ranking whose statement needs every shard for another reference
	why       string   // Explain: why the pooler cannot merge the ORDER BY
}

// Reasons a ranking needs every shard that a call finds (the plan's are
// the target's why).
const (
	whyNoVector = "the query vector is NULL or cannot be read, so it names no shard"
	whyOthers   = "the statement reads other tables on every shard"
)

// guardRanking gives tg, ranked by the first ORDER BY item of the SELECT s
// (expr: that item's expression, through an output alias or position),
// its rankGuard when the snapshot's pooler cannot merge the ORDER BY and
// the table does not send such rankings to ALL anyway.
func (a *analyzer) guardRanking(tg *target, s *sqlir.Node, expr *sqlir.Node) {
	h := a.s.host
	if h == nil || a.exempt || tg.t.CrossShard == config.RankAll {
		return
	}
	top := s == a.top
	ok, why := hostSorts(h, s, top)
	if ok {
		return
	}
	sort := s.Slot(sqlir.SelSort)
	order := "ORDER BY " + sortText(sort)
	fix := rewrite(tg, s, sort[0], expr, top)
	refuse := func(reason string) Decision {
		return Decision{Kind: Error, Code: sqlStateFeatureNotSupported, Message: fmt.Sprintf(
			"vecshard: %s; but %s cannot merge %s across shards (%s): the client would get every shard's rows unsorted, and more of them than a LIMIT asks for; nothing was sent. Select the distance and order by its alias, which %s merges: %s (or set cross_shard_ranking = %q for %s if the pooler merges this ORDER BY)",
			strings.TrimSuffix(reason, ": ALL"), h.Name, order, why, h.Name, fix, config.RankAll.String(), tg.t.Name)}
	}
	g := &rankGuard{why: why,
		warn: fmt.Sprintf("vecshard: probes = %d: the query vector's nearest centroids of %s are on several shards, but %s cannot merge %s across shards (%s), so the statement went to the nearest centroid's shard only, as probes = 1 would. To search several shards, select the distance and order by its alias, which %s merges: %s",
			tg.t.Probes, tg.t.Name, h.Name, order, why, h.Name, fix),
		nullLimit: refuse(whyNullLimit),
		noVector:  refuse(whyNoVector),
		others:    refuse(whyOthers),
	}
	g.block = g.noVector
	if tg.why != "" {
		g.block = refuse(tg.why)
	}
	tg.guard = g
	if top {
		a.p.guard = g
	}
}

// refuseOthers is the answer to a statement whose own ranking the pooler
// cannot merge when another of its references needs another shard or all
// of them: each shard would return its own ranked rows.
func (g *rankGuard) refuseOthers(write bool, ex *Explanation) Decision {
	if ex != nil {
		ex.Note = whyOthers + ", and the pooler cannot merge this ORDER BY across shards (" + g.why + "): refused"
	}
	d := g.others
	d.Write = write
	return d
}

// hostSorts reports whether host h merges the ORDER BY of the SELECT s
// (top: the statement itself, not a subquery) as the client asked, its
// first item being a ranking; else why not.
func hostSorts(h *Host, s *sqlir.Node, top bool) (bool, string) {
	if !top && !h.Can(MergeNested) {
		return false, "the ranking is inside a subquery, CTE or set operation, and only the outermost ORDER BY is merged"
	}
	tlist := s.Slot(sqlir.SelTargets)
	for i, sb := range s.Slot(sqlir.SelSort) {
		if ok, why := hostSortsItem(h, sb, tlist, i == 0); !ok {
			return false, why
		}
	}
	return true, ""
}

// hostSortsItem reports whether host h merges by one ORDER BY item; the
// first item (the ranking) must also name a column the host compares as a
// number.
func hostSortsItem(h *Host, sb *sqlir.Node, tlist []*sqlir.Node, first bool) (bool, string) {
	if !sb.Is(sqlir.SortBy) {
		return false, "an ORDER BY item vecshard cannot read"
	}
	switch {
	case sb.Int == sqlir.SortUsing && !h.Can(SortUsing):
		return false, "it does not sort by ORDER BY ... USING; write ASC or DESC"
	case sb.Int == sqlir.SortDesc && !h.Can(SortDescending):
		return false, "it does not sort descending"
	}
	n := sb.One(sqlir.SortNode)
	val, named, why := outputColumn(n, tlist)
	switch {
	case why != "":
		return false, why
	case val == nil && named == "":
		if first && isL2(n) {
			return h.Can(SortL2Expression), "it sorts by col <-> q only when the client asks for text results, and a binary query vector makes it drop the connection"
		}
		return h.Can(SortExpression), "it sorts only by returned columns and output positions, not by an expression"
	case named != "" && !h.Can(SortColumnName), named == "" && !h.Can(SortPosition):
		return false, "it does not sort by this kind of ORDER BY item"
	case first && (val == nil || !float8Expr(val, 0)):
		return false, "the ranking's column is not a float8 distance (a cast, or a column in the arithmetic), which it may not compare as a number"
	}
	return true, ""
}

// outputColumn resolves an ORDER BY item that names an output column: by
// position (named "") or by name. val is the output expression, nil for a
// name that only a * in the select list returns; both nil and why "" for
// an expression. why says the item cannot name a returned column.
func outputColumn(n *sqlir.Node, tlist []*sqlir.Node) (val *sqlir.Node, named, why string) {
	switch {
	case n.Is(sqlir.AConst) && n.Int == sqlir.ConstInt:
		i, err := strconv.Atoi(n.Name)
		if err != nil || i < 1 || i > len(tlist) || starBefore(tlist, i-1) {
			return nil, "", "ORDER BY " + n.Name + " is not a select-list position vecshard can see (out of range, or after a *)"
		}
		return tlist[i-1].One(sqlir.ResVal), "", ""
	case n.Is(sqlir.ColumnRef) && len(n.Slot(0)) == 1 && str(n.Slot(0)[0]) != "":
		name := str(n.Slot(0)[0])
		star := false
		for _, t := range tlist {
			if !t.Is(sqlir.ResTarget) {
				continue
			}
			if outName(t) == name {
				return t.One(sqlir.ResVal), name, ""
			}
			star = star || isStar(t.One(sqlir.ResVal), true)
		}
		if star {
			return nil, name, ""
		}
		return nil, "", "ORDER BY " + name + " is not a column the statement returns, and only returned columns are found"
	}
	return nil, "", ""
}

// outName is the column name a select-list item returns: its alias, or
// the last name of a plain column reference.
func outName(t *sqlir.Node) string {
	if t.Name != "" {
		return t.Name
	}
	if v := t.One(sqlir.ResVal); v.Is(sqlir.ColumnRef) {
		if f := v.Slot(0); len(f) > 0 {
			return str(f[len(f)-1])
		}
	}
	return ""
}

// isStar reports whether n is * (bare only: not t.*).
func isStar(n *sqlir.Node, bare bool) bool {
	if !n.Is(sqlir.ColumnRef) {
		return false
	}
	f := n.Slot(0)
	return len(f) > 0 && f[len(f)-1].Is(sqlir.AStar) && (!bare || len(f) == 1)
}

// starBefore reports whether a * (or t.*) comes before select-list item i:
// positions then count the columns it expands to.
func starBefore(tlist []*sqlir.Node, i int) bool {
	for _, t := range tlist[:i] {
		if t.Is(sqlir.ResTarget) && isStar(t.One(sqlir.ResVal), false) {
			return true
		}
	}
	return false
}

// isL2 reports whether n is col <-> q (either side), what PgDog sorts by
// itself under conditions a plugin cannot see.
func isL2(n *sqlir.Node) bool {
	return n.Is(sqlir.AExpr) && n.Int == sqlir.AExprOp && lastName(n.Slot(sqlir.AExprName)) == "<->"
}

// float8Expr reports whether n, an expression rankOf accepted, is a
// float8: a distance (every pgvector distance operator and function
// returns float8), arithmetic of float8s and numeric constants, casts to
// float8.
func float8Expr(n *sqlir.Node, depth int) bool {
	if n == nil || depth > 8 {
		return false
	}
	switch n.Kind {
	case sqlir.AConst:
		return n.Int == sqlir.ConstInt || n.Int == sqlir.ConstFloat
	case sqlir.TypeCast:
		tn := n.One(sqlir.CastType)
		return (typeName(tn) == "float8") && float8Expr(n.One(sqlir.CastArg), depth+1)
	case sqlir.FuncCall:
		switch lastName(n.Slot(sqlir.FuncName)) {
		case "cosine_distance", "l2_distance", "l1_distance", "hamming_distance", "jaccard_distance", "inner_product":
			return true
		}
	case sqlir.AExpr:
		if n.Int != sqlir.AExprOp {
			return false
		}
		switch lastName(n.Slot(sqlir.AExprName)) {
		case "<=>", "<->", "<#>", "<+>", "<~>", "<%>":
			return true
		case "+", "-", "*", "/":
			l, r := n.One(sqlir.AExprL), n.One(sqlir.AExprR)
			return (l == nil || float8Expr(l, depth+1)) && float8Expr(r, depth+1)
		}
	}
	return false
}

// rewrite is the form of the ranking the host merges: the distance
// selected under an alias, the ORDER BY by that alias in the direction
// asked, the same LIMIT.
func rewrite(tg *target, s, sb, expr *sqlir.Node, top bool) string {
	var b strings.Builder
	b.WriteString("SELECT ..., ")
	b.WriteString(exprText(expr, 0))
	b.WriteString(" AS distance FROM ")
	b.WriteString(tg.ref)
	b.WriteString(" ... ORDER BY distance")
	if sb.Int == sqlir.SortDesc || (sb.Int == sqlir.SortUsing && lastName(sb.Slot(sqlir.SortUseOp)) == ">") {
		b.WriteString(" DESC")
	}
	if lim, _ := hasLimit(s); lim {
		b.WriteString(" LIMIT ")
		b.WriteString(exprText(s.One(sqlir.SelLimit), 0))
	}
	if !top {
		b.WriteString(", as the outermost statement")
	}
	return b.String()
}

// sortText renders an ORDER BY list for messages.
func sortText(sort []*sqlir.Node) string {
	parts := make([]string, 0, len(sort))
	for _, sb := range sort {
		if !sb.Is(sqlir.SortBy) {
			parts = append(parts, "...")
			continue
		}
		t := exprText(sb.One(sqlir.SortNode), 0)
		switch sb.Int {
		case sqlir.SortAsc:
			t += " ASC"
		case sqlir.SortDesc:
			t += " DESC"
		case sqlir.SortUsing:
			t += " USING " + lastName(sb.Slot(sqlir.SortUseOp))
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, ", ")
}

// exprText renders the expressions a ranking is made of (column
// references, parameters, constants, casts, operators, function calls) as
// SQL for messages; anything else is "...".
func exprText(n *sqlir.Node, depth int) string {
	if n == nil || depth > 16 {
		return "..."
	}
	switch n.Kind {
	case sqlir.ColumnRef:
		parts := make([]string, 0, len(n.Slot(0)))
		for _, f := range n.Slot(0) {
			if f.Is(sqlir.AStar) {
				parts = append(parts, "*")
			} else {
				parts = append(parts, str(f))
			}
		}
		return strings.Join(parts, ".")
	case sqlir.ParamRef:
		return "$" + strconv.FormatInt(n.Int, 10)
	case sqlir.AConst:
		switch n.Int {
		case sqlir.ConstNull:
			return "NULL"
		case sqlir.ConstString:
			return quoteLit(n.Name)
		}
		return n.Name
	case sqlir.TypeCast:
		return operand(n.One(sqlir.CastArg), depth) + "::" + typeWithMods(n.One(sqlir.CastType))
	case sqlir.FuncCall:
		args := make([]string, 0, len(n.Slot(sqlir.FuncArgs)))
		for _, a := range n.Slot(sqlir.FuncArgs) {
			args = append(args, exprText(a, depth+1))
		}
		return lastName(n.Slot(sqlir.FuncName)) + "(" + strings.Join(args, ", ") + ")"
	case sqlir.AExpr:
		if n.Int != sqlir.AExprOp {
			break
		}
		op := lastName(n.Slot(sqlir.AExprName))
		r := operand(n.One(sqlir.AExprR), depth)
		if l := n.One(sqlir.AExprL); l != nil {
			return operand(l, depth) + " " + op + " " + r
		}
		return op + r
	}
	return "..."
}

// operand renders an operand, parenthesized when it is itself an operator
// expression.
func operand(n *sqlir.Node, depth int) string {
	t := exprText(n, depth+1)
	if n.Is(sqlir.AExpr) {
		return "(" + t + ")"
	}
	return t
}

// typeWithMods renders a type name with its modifiers: vector(3).
func typeWithMods(tn *sqlir.Node) string {
	t := typeText(tn)
	var mods []string
	for _, m := range tn.Slot(sqlir.TypeMods) {
		mods = append(mods, exprText(m, 0))
	}
	if len(mods) > 0 {
		t += "(" + strings.Join(mods, ",") + ")"
	}
	return t
}
