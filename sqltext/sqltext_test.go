package sqltext_test

import (
	"reflect"
	"testing"

	"github.com/vecshard/vecshard/sqlir"
	"github.com/vecshard/vecshard/sqltext"
)

func parse(t *testing.T, q string) []*sqlir.Node {
	t.Helper()
	var b sqlir.Builder
	if err := sqltext.Parse(&b, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	ns, err := sqlir.Decode(b.Bytes())
	if err != nil {
		t.Fatalf("%s: Decode: %v", q, err)
	}
	return ns
}

// path follows slot/index pairs from n: path(n, s0, i0, s1, i1, ...).
func path(n *sqlir.Node, steps ...int) *sqlir.Node {
	for i := 0; i+1 < len(steps) && n != nil; i += 2 {
		s := n.Slot(steps[i])
		if steps[i+1] >= len(s) {
			return nil
		}
		n = s[steps[i+1]]
	}
	return n
}

// want is one expectation on the node at a path of the first statement.
type want struct {
	path   []int
	kind   sqlir.Kind
	name   string
	schema string
	i1, i2 int64
	flags  uint32
	pg     string // Other
}

func TestParseShapes(t *testing.T) {
	for _, tc := range []struct {
		sql   string
		kinds []sqlir.Kind // statement kinds
		want  []want
	}{
		{"SELECT a FROM t1 LEFT JOIN t2 ON t1.id = t2.id WHERE a = 1 AND b <> 2 ORDER BY a DESC LIMIT 5",
			[]sqlir.Kind{sqlir.SelectStmt}, []want{
				{path: nil, kind: sqlir.SelectStmt, i1: sqlir.SetopNone, i2: sqlir.LimitCount},
				{path: []int{sqlir.SelTargets, 0}, kind: sqlir.ResTarget},
				{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0}, kind: sqlir.ColumnRef},
				{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, 0, 0}, kind: sqlir.String, name: "a"},
				{path: []int{sqlir.SelFrom, 0}, kind: sqlir.JoinExpr, i1: sqlir.JoinLeft},
				{path: []int{sqlir.SelFrom, 0, sqlir.JoinLarg, 0}, kind: sqlir.RangeVar, name: "t1"},
				{path: []int{sqlir.SelFrom, 0, sqlir.JoinRarg, 0}, kind: sqlir.RangeVar, name: "t2"},
				{path: []int{sqlir.SelFrom, 0, sqlir.JoinQuals, 0}, kind: sqlir.AExpr, i1: sqlir.AExprOp},
				{path: []int{sqlir.SelWhere, 0}, kind: sqlir.BoolExpr, i1: sqlir.BoolAnd},
				{path: []int{sqlir.SelWhere, 0, 0, 1, sqlir.AExprName, 0}, kind: sqlir.String, name: "<>"},
				{path: []int{sqlir.SelWhere, 0, 0, 1, sqlir.AExprR, 0}, kind: sqlir.AConst, name: "2", i1: sqlir.ConstInt},
				{path: []int{sqlir.SelSort, 0}, kind: sqlir.SortBy, i1: sqlir.SortDesc},
				{path: []int{sqlir.SelLimit, 0}, kind: sqlir.AConst, name: "5", i1: sqlir.ConstInt},
			}},
		{"SELECT 1 UNION ALL SELECT 2 EXCEPT SELECT 3", []sqlir.Kind{sqlir.SelectStmt}, []want{
			{kind: sqlir.SelectStmt, i1: sqlir.SetopExcept},
			{path: []int{sqlir.SelLarg, 0}, kind: sqlir.SelectStmt, i1: sqlir.SetopUnion, flags: 1 << sqlir.FlagSelectAll},
		}},
		{"SELECT * FROM t ORDER BY x FETCH FIRST 3 ROWS WITH TIES", nil, []want{
			{kind: sqlir.SelectStmt, i2: sqlir.LimitWithTies},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, 0, 0}, kind: sqlir.AStar},
		}},
		{"SELECT x FROM a RIGHT JOIN b USING (id) FULL JOIN c ON true NATURAL JOIN d", nil, []want{
			{path: []int{sqlir.SelFrom, 0}, kind: sqlir.JoinExpr, i1: sqlir.JoinInner, flags: 1 << sqlir.FlagJoinNatural},
			{path: []int{sqlir.SelFrom, 0, sqlir.JoinLarg, 0}, kind: sqlir.JoinExpr, i1: sqlir.JoinFull},
			{path: []int{sqlir.SelFrom, 0, sqlir.JoinLarg, 0, sqlir.JoinLarg, 0}, kind: sqlir.JoinExpr, i1: sqlir.JoinRight},
			// USING's column list is in the rest slot.
			{path: []int{sqlir.SelFrom, 0, sqlir.JoinLarg, 0, sqlir.JoinLarg, 0, 3, 0}, kind: sqlir.String, name: "id"},
		}},
		{"SELECT 1 WHERE a OR NOT b", nil, []want{
			{path: []int{sqlir.SelWhere, 0}, kind: sqlir.BoolExpr, i1: sqlir.BoolOr},
			{path: []int{sqlir.SelWhere, 0, 0, 1}, kind: sqlir.BoolExpr, i1: sqlir.BoolNot},
		}},
		{"DELETE FROM t WHERE id = ANY($1) AND k IN (1, 2) AND j IS DISTINCT FROM 3", []sqlir.Kind{sqlir.DeleteStmt}, []want{
			{path: []int{sqlir.DelRelation, 0}, kind: sqlir.RangeVar, name: "t"},
			{path: []int{sqlir.DelWhere, 0, 0, 0}, kind: sqlir.AExpr, i1: sqlir.AExprOpAny},
			{path: []int{sqlir.DelWhere, 0, 0, 0, sqlir.AExprR, 0}, kind: sqlir.ParamRef, i1: 1},
			{path: []int{sqlir.DelWhere, 0, 0, 1}, kind: sqlir.AExpr, i1: sqlir.AExprIn},
			{path: []int{sqlir.DelWhere, 0, 0, 1, sqlir.AExprR, 0}, kind: sqlir.List},
			{path: []int{sqlir.DelWhere, 0, 0, 2}, kind: sqlir.AExpr, i1: sqlir.AExprDistinct},
		}},
		{"INSERT INTO s.items AS i (id, v) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id", []sqlir.Kind{sqlir.InsertStmt}, []want{
			{path: []int{sqlir.InsRelation, 0}, kind: sqlir.RangeVar, name: "items", schema: "s"},
			{path: []int{sqlir.InsRelation, 0, 0, 0}, kind: sqlir.Alias, name: "i"},
			{path: []int{sqlir.InsCols, 1}, kind: sqlir.ResTarget, name: "v"},
			{path: []int{sqlir.InsSelect, 0}, kind: sqlir.SelectStmt},
			{path: []int{sqlir.InsSelect, 0, sqlir.SelValues, 0}, kind: sqlir.List},
			{path: []int{sqlir.InsSelect, 0, sqlir.SelValues, 0, 0, 1}, kind: sqlir.ParamRef, i1: 2},
			{path: []int{sqlir.InsOnConflict, 0}, kind: sqlir.OnConflictClause, i1: sqlir.OnConflictNothing},
			{path: []int{sqlir.InsReturning, 0}, kind: sqlir.ResTarget},
		}},
		{"UPDATE t SET v = 1 FROM u WHERE t.id = u.id", []sqlir.Kind{sqlir.UpdateStmt}, []want{
			{path: []int{sqlir.UpdTargets, 0}, kind: sqlir.ResTarget, name: "v"},
			{path: []int{sqlir.UpdFrom, 0}, kind: sqlir.RangeVar, name: "u"},
		}},
		{"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (s.id)", []sqlir.Kind{sqlir.MergeStmt}, []want{
			{path: []int{sqlir.MrgWhen, 0}, kind: sqlir.MergeWhenClause, i1: sqlir.CmdDelete},
			{path: []int{sqlir.MrgWhen, 1}, kind: sqlir.MergeWhenClause, i1: sqlir.CmdInsert},
		}},
		{"COPY items FROM STDIN", []sqlir.Kind{sqlir.CopyStmt}, []want{
			{kind: sqlir.CopyStmt, flags: 1 << sqlir.FlagCopyFrom},
			{path: []int{sqlir.CopyRelation, 0}, kind: sqlir.RangeVar, name: "items"},
		}},
		{"COPY (SELECT 1) TO STDOUT", nil, []want{
			{kind: sqlir.CopyStmt},
			{path: []int{sqlir.CopyQuery, 0}, kind: sqlir.SelectStmt},
		}},
		{"WITH RECURSIVE c AS MATERIALIZED (SELECT 1), d AS NOT MATERIALIZED (SELECT 2) SELECT * FROM c, d", nil, []want{
			{path: []int{sqlir.SelWith, 0}, kind: sqlir.WithClause, flags: 1 << sqlir.FlagWithRecursive},
			{path: []int{sqlir.SelWith, 0, 0, 0}, kind: sqlir.CommonTableExpr, name: "c", i1: sqlir.CTEMaterializeAlways},
			{path: []int{sqlir.SelWith, 0, 0, 1}, kind: sqlir.CommonTableExpr, name: "d", i1: sqlir.CTEMaterializeNever},
		}},
		{"SELECT count(DISTINCT x), count(*) FILTER (WHERE y > 1) OVER (PARTITION BY z) FROM t FOR UPDATE OF t", nil, []want{
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0}, kind: sqlir.FuncCall, flags: 1 << sqlir.FlagFuncAggDistinct},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.FuncName, 0}, kind: sqlir.String, name: "count"},
			{path: []int{sqlir.SelTargets, 1, sqlir.ResVal, 0}, kind: sqlir.FuncCall, flags: 1 << sqlir.FlagFuncAggStar},
			// The rest slot: agg_filter, then over.
			{path: []int{sqlir.SelTargets, 1, sqlir.ResVal, 0, 2, 0}, kind: sqlir.AExpr},
			{path: []int{sqlir.SelTargets, 1, sqlir.ResVal, 0, 2, 1}, kind: sqlir.Other, pg: "WindowDef"},
			{path: []int{sqlir.SelLocking, 0}, kind: sqlir.LockingClause},
			{path: []int{sqlir.SelLocking, 0, 0, 0}, kind: sqlir.RangeVar, name: "t"},
		}},
		{"SELECT '[1,2]'::vector(2), ARRAY[1, 2], (SELECT 1)", nil, []want{
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0}, kind: sqlir.TypeCast},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.CastArg, 0}, kind: sqlir.AConst, name: "[1,2]", i1: sqlir.ConstString},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.CastType, 0}, kind: sqlir.TypeName},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.CastType, 0, sqlir.TypeNames, 0}, kind: sqlir.String, name: "vector"},
			{path: []int{sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.CastType, 0, sqlir.TypeMods, 0}, kind: sqlir.AConst, name: "2"},
			{path: []int{sqlir.SelTargets, 1, sqlir.ResVal, 0}, kind: sqlir.AArrayExpr},
			{path: []int{sqlir.SelTargets, 2, sqlir.ResVal, 0}, kind: sqlir.SubLink},
			{path: []int{sqlir.SelTargets, 2, sqlir.ResVal, 0, sqlir.SubLinkSelect, 0}, kind: sqlir.SelectStmt},
		}},
		{"SELECT * FROM (SELECT 1) AS s", nil, []want{
			{path: []int{sqlir.SelFrom, 0}, kind: sqlir.RangeSubselect},
			{path: []int{sqlir.SelFrom, 0, 0, 0}, kind: sqlir.SelectStmt},
			{path: []int{sqlir.SelFrom, 0, 1, 0}, kind: sqlir.Alias, name: "s"}, // rest: alias
		}},
		{"TRUNCATE a, b; EXPLAIN SELECT 1; DECLARE c CURSOR FOR SELECT 1", []sqlir.Kind{sqlir.TruncateStmt, sqlir.ExplainStmt, sqlir.DeclareCursorStmt}, []want{
			{path: []int{0, 1}, kind: sqlir.RangeVar, name: "b"},
		}},
		{"CREATE TABLE t (id int)", []sqlir.Kind{sqlir.Other}, []want{
			{kind: sqlir.Other, pg: "CreateStmt"},
			{path: []int{0, 0}, kind: sqlir.RangeVar, name: "t"},
			{path: []int{0, 1}, kind: sqlir.Other, pg: "ColumnDef"},
		}},
		{"SELECT 1 AS x", nil, []want{
			// Every spec'd node has its slots and the rest.
			{path: []int{sqlir.SelTargets, 0}, kind: sqlir.ResTarget, name: "x"},
		}},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			ns := parse(t, tc.sql)
			if tc.kinds != nil {
				var got []sqlir.Kind
				for _, n := range ns {
					got = append(got, n.Kind)
				}
				if !reflect.DeepEqual(got, tc.kinds) {
					t.Fatalf("statements %v, want %v", got, tc.kinds)
				}
			}
			for _, w := range tc.want {
				n := path(ns[0], w.path...)
				if n == nil {
					t.Errorf("%v: no node", w.path)
					continue
				}
				if n.Kind != w.kind || n.Name != w.name || n.Schema != w.schema || n.Int != w.i1 || n.Int2 != w.i2 || n.Flags != w.flags || n.PG != w.pg {
					t.Errorf("%v: got kind %d name %q schema %q int %d int2 %d flags %b pg %q\n want %+v",
						w.path, n.Kind, n.Name, n.Schema, n.Int, n.Int2, n.Flags, n.PG, w)
				}
				if s := sqlir.SpecOf(n.Kind); s != nil && len(s.Slots) > 0 && len(n.Kids) != s.Rest()+1 {
					t.Errorf("%v: %d slots, want %d and the rest", w.path, len(n.Kids), len(s.Slots))
				}
			}
		})
	}
}

func TestParseConstants(t *testing.T) {
	ns := parse(t, "SELECT 1, -2, 0, 2147483647, 2147483648, -2147483649, 1.5, 1e3, 99999999999999999999, 'x', '', "+
		"E'a\\nb', true, false, B'0101', X'FF', NULL, $$dollar$$")
	want := []struct {
		class int64
		text  string
	}{
		{sqlir.ConstInt, "1"}, {sqlir.ConstInt, "-2"}, {sqlir.ConstInt, "0"}, {sqlir.ConstInt, "2147483647"},
		{sqlir.ConstFloat, "2147483648"}, {sqlir.ConstFloat, "-2147483649"},
		{sqlir.ConstFloat, "1.5"}, {sqlir.ConstFloat, "1e3"}, {sqlir.ConstFloat, "99999999999999999999"},
		{sqlir.ConstString, "x"}, {sqlir.ConstString, ""}, {sqlir.ConstString, "a\nb"},
		{sqlir.ConstBool, "true"}, {sqlir.ConstBool, "false"},
		{sqlir.ConstBits, "b0101"}, {sqlir.ConstBits, "xFF"},
		{sqlir.ConstNull, ""}, {sqlir.ConstString, "dollar"},
	}
	targets := ns[0].Slot(sqlir.SelTargets)
	if len(targets) != len(want) {
		t.Fatalf("%d targets, want %d", len(targets), len(want))
	}
	for i, w := range want {
		c := targets[i].One(sqlir.ResVal)
		if c == nil || c.Kind != sqlir.AConst || c.Int != w.class || c.Name != w.text || len(c.Kids) != 0 {
			t.Errorf("constant %d: %+v, want class %d %q", i, c, w.class, w.text)
		}
	}
}

func TestParseValueNodes(t *testing.T) {
	// Value nodes outside A_Const: names are String nodes, a typmod list of
	// Integers in a TypeName's arrayBounds.
	ns := parse(t, "SELECT x::int[3]")
	tn := path(ns[0], sqlir.SelTargets, 0, sqlir.ResVal, 0, sqlir.CastType, 0)
	if tn == nil || tn.Kind != sqlir.TypeName {
		t.Fatalf("no TypeName: %+v", tn)
	}
	if b := tn.One(sqlir.TypeArrayBounds); b == nil || b.Kind != sqlir.Integer || b.Name != "3" {
		t.Errorf("arrayBounds %+v", b)
	}
	if n := tn.One(sqlir.TypeNames); n == nil || n.Kind != sqlir.String || n.Name != "pg_catalog" {
		t.Errorf("names %+v", n)
	}
}

func TestParseErrorsAndEmpty(t *testing.T) {
	for _, tc := range []struct {
		sql string
		n   int // statements, -1: a parse error
	}{
		{"", 0},
		{";", 0},
		{"-- only a comment", 0},
		{"SELEC 1", -1},
		{"SELECT (", -1},
		{"SELECT 1; SELECT 2;", 2},
	} {
		var b sqlir.Builder
		b.Count(7) // Parse appends after what b holds
		before := b.Len()
		err := sqltext.Parse(&b, tc.sql)
		if tc.n < 0 {
			if err == nil {
				t.Errorf("%q: no error", tc.sql)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.sql, err)
			continue
		}
		ns, err := sqlir.Decode(b.Bytes()[before:])
		if err != nil || len(ns) != tc.n {
			t.Errorf("%q: %d statements, %v; want %d", tc.sql, len(ns), err, tc.n)
		}
	}
}

func TestComments(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"SELECT 1", nil},
		{"/* pgdog_shard: 2 */ SELECT 1", []string{" pgdog_shard: 2 "}},
		{"SELECT '/* not */', \"/* nor */\", $$/* no */$$, E'\\' /* no */' /*yes*/ FROM t /* and */", []string{"yes", " and "}},
		{"SELECT 1 -- /* in a line comment */\n/* after */", []string{" after "}},
		{"SELECT /* outer /* nested */ still */ 1", []string{" outer /* nested */ still "}},
		{"SELECT /**/ 1", []string{""}},
		{"SELECT $tag$ /* no */ $tag$ /* x */", []string{" x "}},
		{"SELECT U&'/* no */'", nil},
	} {
		got, err := sqltext.Comments(tc.sql)
		if err != nil {
			t.Errorf("%q: %v", tc.sql, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.sql, got, tc.want)
		}
	}
	var p sqltext.Parser
	if got, err := p.Comments("SELECT /* a */ 1"); err != nil || !reflect.DeepEqual(got, []string{" a "}) {
		t.Errorf("Parser.Comments: %q, %v", got, err)
	}
}
