package pgdogexec

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// stmt is what the merge rules need to know of a statement. PgDog learns
// the same from its own parse (R/query/select.rs, R/order_by.rs); this one
// comes from pg_query's PostgreSQL 16 parser, which reads these clauses
// alike.
type stmt struct {
	kind     string   // select, insert, update, delete, copy, other
	tables   []string // relations named in FROM / INSERT INTO / UPDATE / DELETE FROM, unqualified
	write    bool     // what PgDog's parser sees as a write: not a plain SELECT
	order    []sortKey
	limit    *int64 // a constant LIMIT, nil when absent or a parameter
	limitArg int    // LIMIT $n: n (1-based), 0 when not a parameter
	offset   bool
	distinct bool
	aggs     []string // per target: the aggregate's name, "" for none
	groupBy  bool
}

// sortKey is one ORDER BY entry as PgDog classifies it
// (R/query/select.rs select_sort, R/order_by.rs).
type sortKey struct {
	form   sortForm
	pos    int    // byPosition: 1-based
	name   string // byName: the column; byL2: the vector column
	vecArg int    // byL2: $n of the query vector, 0 for a literal
	vecLit string // byL2: the literal
	desc   bool
}

type sortForm int

const (
	dropped    sortForm = iota // PgDog cannot sort on it and ignores it
	byPosition                 // ORDER BY 2
	byName                     // ORDER BY distance (a returned column's name)
	byL2                       // ORDER BY embedding <-> q
)

func parseStmt(sql string) (*stmt, error) {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) == 0 {
		return &stmt{kind: "other"}, nil
	}
	s := &stmt{}
	n := tree.Stmts[0].Stmt
	switch {
	case n.GetSelectStmt() != nil:
		sel := n.GetSelectStmt()
		s.kind = "select"
		s.write = len(sel.LockingClause) > 0 || hasModifyingCTE(sel.WithClause)
		s.fromSelect(sel)
	case n.GetInsertStmt() != nil:
		s.kind, s.write = "insert", true
		s.addRel(n.GetInsertStmt().Relation)
	case n.GetUpdateStmt() != nil:
		s.kind, s.write = "update", true
		s.addRel(n.GetUpdateStmt().Relation)
	case n.GetDeleteStmt() != nil:
		s.kind, s.write = "delete", true
		s.addRel(n.GetDeleteStmt().Relation)
	case n.GetCopyStmt() != nil:
		s.kind, s.write = "copy", true
		s.addRel(n.GetCopyStmt().Relation)
	default:
		s.kind, s.write = "other", true
	}
	return s, nil
}

func hasModifyingCTE(w *pg_query.WithClause) bool {
	if w == nil {
		return false
	}
	for _, c := range w.Ctes {
		if q := c.GetCommonTableExpr().GetCtequery(); q != nil && q.GetSelectStmt() == nil {
			return true
		}
	}
	return false
}

func (s *stmt) addRel(r *pg_query.RangeVar) {
	if r != nil {
		s.tables = append(s.tables, r.Relname)
	}
}

func (s *stmt) fromSelect(sel *pg_query.SelectStmt) {
	for _, f := range sel.FromClause {
		s.addFrom(f)
	}
	s.distinct = len(sel.DistinctClause) > 0
	s.offset = sel.LimitOffset != nil
	s.groupBy = len(sel.GroupClause) > 0
	if c := sel.LimitCount; c != nil {
		if v, ok := intConst(c); ok {
			s.limit = &v
		} else if p := c.GetParamRef(); p != nil {
			s.limitArg = int(p.Number)
		}
	}
	for _, t := range sel.TargetList {
		agg := ""
		if fc := t.GetResTarget().GetVal().GetFuncCall(); fc != nil && len(fc.Funcname) > 0 {
			name := fc.Funcname[len(fc.Funcname)-1].GetString_().Sval
			switch name {
			case "count", "sum", "min", "max", "avg", "stddev", "variance":
				agg = name
			}
		}
		s.aggs = append(s.aggs, agg)
	}
	for _, o := range sel.SortClause {
		s.order = append(s.order, classifySort(o.GetSortBy()))
	}
}

func (s *stmt) addFrom(n *pg_query.Node) {
	switch {
	case n.GetRangeVar() != nil:
		s.addRel(n.GetRangeVar())
	case n.GetJoinExpr() != nil:
		s.addFrom(n.GetJoinExpr().Larg)
		s.addFrom(n.GetJoinExpr().Rarg)
	case n.GetRangeSubselect() != nil:
		if sub := n.GetRangeSubselect().Subquery.GetSelectStmt(); sub != nil {
			for _, f := range sub.FromClause {
				s.addFrom(f)
			}
		}
	}
}

func classifySort(sb *pg_query.SortBy) sortKey {
	k := sortKey{desc: sb.SortbyDir == pg_query.SortByDir_SORTBY_DESC}
	n := sb.Node
	if v, ok := intConst(n); ok {
		k.form, k.pos = byPosition, int(v)
		return k
	}
	if name, ok := columnName(n); ok {
		k.form, k.name = byName, name
		return k
	}
	if e := n.GetAExpr(); e != nil && len(e.Name) == 1 && e.Name[0].GetString_().Sval == "<->" {
		col, ok := columnName(e.Lexpr)
		if !ok {
			return sortKey{}
		}
		r := e.Rexpr
		if tc := r.GetTypeCast(); tc != nil {
			r = tc.Arg
		}
		switch {
		case r.GetParamRef() != nil:
			k.vecArg = int(r.GetParamRef().Number)
		case r.GetAConst() != nil && r.GetAConst().GetSval() != nil:
			k.vecLit = r.GetAConst().GetSval().Sval
		default:
			return sortKey{}
		}
		// PgDog sorts by its own L2, always ascending (R/order_by.rs).
		return sortKey{form: byL2, name: col, vecArg: k.vecArg, vecLit: k.vecLit}
	}
	return sortKey{}
}

func intConst(n *pg_query.Node) (int64, bool) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		return int64(c.GetIval().Ival), true
	}
	return 0, false
}

func columnName(n *pg_query.Node) (string, bool) {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return "", false
	}
	s := cr.Fields[len(cr.Fields)-1].GetString_()
	if s == nil {
		return "", false
	}
	return s.Sval, true
}

// hasAggregate reports whether any target is an aggregate.
func (s *stmt) hasAggregate() bool {
	for _, a := range s.aggs {
		if a != "" {
			return true
		}
	}
	return false
}

// sortable reports whether some ORDER BY key is one PgDog sorts on.
func (s *stmt) sortable() bool {
	for _, k := range s.order {
		if k.form != dropped {
			return true
		}
	}
	return false
}

func (s *stmt) String() string {
	return fmt.Sprintf("%s %s", s.kind, strings.Join(s.tables, ","))
}
