package pgtree

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// Golden facts of the design docs, checked by hand against libpg_query's
// headers (nodes/nodetags.h, nodes/parsenodes.h, nodes/pg_list.h); the full
// table is checked against the headers by make layout-check.

func TestLayoutTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"T_List", T_List, 1},
		{"T_RawStmt", T_RawStmt, 136},
		{"T_SelectStmt", T_SelectStmt, 141},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
		if name := pg18TagNames[tc.want]; "T_"+name != tc.name {
			t.Errorf("pg18TagNames[%d] = %q, want %q", tc.want, name, tc.name[2:])
		}
	}
}

func TestLayoutGolden(t *testing.T) {
	type f struct {
		name string
		off  uint16
		kind fieldKind
	}
	for _, tc := range []struct {
		tag    int
		name   string
		size   uint16
		fields []f // exactly these, in order
	}{
		{T_RawStmt, "RawStmt", 24, []f{
			{"stmt", 8, fkNode}, {"stmt_location", 16, fkInt32}, {"stmt_len", 20, fkInt32},
		}},
		{T_List, "List", 24, []f{
			{"length", 4, fkInt32}, {"max_length", 8, fkInt32}, {"elements", 16, fkOpaque},
		}},
		{T_IntList, "IntList", 24, []f{
			{"length", 4, fkInt32}, {"max_length", 8, fkInt32}, {"elements", 16, fkOpaque},
		}},
		{T_A_Const, "A_Const", 32, []f{
			{"val", 8, fkValue}, {"isnull", 24, fkBool}, {"location", 28, fkInt32},
		}},
		// 18.0 layouts of the structs 18.1 appended a location to.
		{T_DefElem, "DefElem", 40, []f{
			{"defnamespace", 8, fkString}, {"defname", 16, fkString}, {"arg", 24, fkNode},
			{"defaction", 32, fkEnum}, {"location", 36, fkInt32},
		}},
		{T_NotifyStmt, "NotifyStmt", 24, []f{
			{"conditionname", 8, fkString}, {"payload", 16, fkString},
		}},
	} {
		l := pg18Nodes[tc.tag]
		if l.name != tc.name || l.size != tc.size {
			t.Errorf("tag %d: %s size %d, want %s size %d", tc.tag, l.name, l.size, tc.name, tc.size)
			continue
		}
		if len(l.fields) != len(tc.fields) {
			t.Errorf("%s: %d fields %v, want %d", tc.name, len(l.fields), l.fields, len(tc.fields))
			continue
		}
		for i, want := range tc.fields {
			got := l.fields[i]
			if got.name != want.name || got.off != want.off || got.kind != want.kind {
				t.Errorf("%s field %d: %s @%d kind %d, want %s @%d kind %d",
					tc.name, i, got.name, got.off, got.kind, want.name, want.off, want.kind)
			}
		}
	}
}

func TestLayoutSelectStmtFields(t *testing.T) {
	l := pg18Nodes[T_SelectStmt]
	want := map[string]fieldKind{
		"targetList": fkList, "fromClause": fkList, "whereClause": fkNode,
		"intoClause": fkNode, "withClause": fkNode, "limitOption": fkEnum,
		"larg": fkNode, "rarg": fkNode, "op": fkEnum, "all": fkBool,
	}
	for _, fl := range l.fields {
		if k, ok := want[fl.name]; ok {
			if fl.kind != k {
				t.Errorf("SelectStmt.%s kind %d, want %d", fl.name, fl.kind, k)
			}
			delete(want, fl.name)
		}
	}
	for name := range want {
		t.Errorf("SelectStmt.%s missing", name)
	}
}

func TestLayoutEnums(t *testing.T) {
	// libpg_query's LimitOption, not upstream's (which has no DEFAULT).
	want := map[string][]enumValue{
		"LimitOption": {{"LIMIT_OPTION_DEFAULT", 0}, {"LIMIT_OPTION_COUNT", 1}, {"LIMIT_OPTION_WITH_TIES", 2}},
		"PartitionStrategy": {{"PARTITION_STRATEGY_LIST", 'l'}, {"PARTITION_STRATEGY_RANGE", 'r'},
			{"PARTITION_STRATEGY_HASH", 'h'}},
	}
	for _, e := range pg18Enums {
		w, ok := want[e.name]
		if !ok {
			continue
		}
		delete(want, e.name)
		if len(e.values) != len(w) {
			t.Errorf("%s: %v, want %v", e.name, e.values, w)
			continue
		}
		for i := range w {
			if e.values[i] != w[i] {
				t.Errorf("%s: %v, want %v", e.name, e.values, w)
				break
			}
		}
	}
	for name := range want {
		t.Errorf("enum %s missing", name)
	}
	// A field's enum index names the right enum.
	for _, fl := range pg18Nodes[T_SelectStmt].fields {
		if fl.name == "limitOption" && pg18Enums[fl.enum].name != "LimitOption" {
			t.Errorf("SelectStmt.limitOption: enum %s", pg18Enums[fl.enum].name)
		}
	}
}

func TestLayoutInvariants(t *testing.T) {
	nodes := 0
	for tag, l := range pg18Nodes {
		if l.size == 0 {
			if l.name != "" || l.fields != nil {
				t.Errorf("tag %d: size 0 but name %q, %d fields", tag, l.name, len(l.fields))
			}
			continue
		}
		nodes++
		if l.name != pg18TagNames[tag] {
			t.Errorf("tag %d: layout %q, tag name %q", tag, l.name, pg18TagNames[tag])
		}
		if l.size%8 != 0 && l.size%4 != 0 {
			t.Errorf("%s: size %d is not a multiple of the alignment (8 or 4)", l.name, l.size)
		}
		if l.size < 4 {
			t.Errorf("%s: size %d smaller than the NodeTag", l.name, l.size)
		}
		seen := map[string]bool{}
		for i, fl := range l.fields {
			if fl.off >= l.size {
				t.Errorf("%s.%s: offset %d >= size %d", l.name, fl.name, fl.off, l.size)
			}
			if i > 0 && fl.off <= l.fields[i-1].off {
				t.Errorf("%s.%s: offset %d not after %s's %d", l.name, fl.name, fl.off, l.fields[i-1].name, l.fields[i-1].off)
			}
			if fl.kind < fkNode || fl.kind > fkOpaque {
				t.Errorf("%s.%s: kind %d", l.name, fl.name, fl.kind)
			}
			if fl.kind == fkEnum && int(fl.enum) >= len(pg18Enums) {
				t.Errorf("%s.%s: enum index %d, %d enums", l.name, fl.name, fl.enum, len(pg18Enums))
			}
			if fl.kind != fkEnum && fl.enum != 0 {
				t.Errorf("%s.%s: kind %d with enum index %d", l.name, fl.name, fl.kind, fl.enum)
			}
			if fl.off == 0 && fl.kind != fkEmbedded {
				t.Errorf("%s.%s: offset 0 is the NodeTag, kind %d", l.name, fl.name, fl.kind)
			}
			if a := map[fieldKind]uint16{fkNode: 8, fkList: 8, fkString: 8, fkInt16: 2, fkInt32: 4,
				fkUint32: 4, fkInt64: 8, fkFloat64: 8, fkEnum: 4, fkValue: 8}[fl.kind]; a != 0 && fl.off%a != 0 {
				t.Errorf("%s.%s: offset %d misaligned for kind %d", l.name, fl.name, fl.off, fl.kind)
			}
			if seen[fl.name] {
				t.Errorf("%s.%s: twice", l.name, fl.name)
			}
			seen[fl.name] = true
		}
	}
	if nodes < 250 {
		t.Errorf("only %d node layouts", nodes)
	}
	for tag, name := range pg18TagNames {
		if tag == 0 && name != "" {
			t.Errorf("tag 0 (T_Invalid) named %q", name)
		}
	}
	if pg18TagNames[pg18MaxTag] == "" {
		t.Errorf("pg18MaxTag %d has no name", pg18MaxTag)
	}
	for i, e := range pg18Enums {
		if e.name == "" || len(e.values) == 0 {
			t.Errorf("enum %d: %q with %d values", i, e.name, len(e.values))
		}
	}
}

// TestLayoutMatchesCheckFile ties the table to testdata/pg18layout_check.c,
// the file make layout-check compiles against the headers: every tag,
// sizeof, offsetof and enum value asserted there must be the table's, and
// every one of the table's must be asserted there. So the committed Go
// numbers are the compiler-checked ones even where no C compiler runs.
func TestLayoutMatchesCheckFile(t *testing.T) {
	f, err := os.Open("testdata/pg18layout_check.c")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		tagRe    = regexp.MustCompile(`^CHECK\(T_(\w+) == (\d+)\);`)
		nodeRe   = regexp.MustCompile(`^/\* T_(\w+) \*/$`)
		sizeRe   = regexp.MustCompile(`^CHECK\(sizeof\((\w+)\) (==|>=) (\d+)\);`)
		offRe    = regexp.MustCompile(`^CHECK\(offsetof\((\w+), (\w+)\) (==|>=) (\d+)\);`)
		enumRe   = regexp.MustCompile(`^CHECK\((\w+) == (-?\d+)\);`)
		atoi     = func(s string) int { n, _ := strconv.Atoi(s); return n }
		tags     = map[string]int{}
		sizes    = map[string]int{}
		offs     = map[string]int{} // "Tag.field"
		enumVals = map[string]int{}
		cur      string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := tagRe.FindStringSubmatch(line); m != nil {
			tags[m[1]] = atoi(m[2])
		} else if m := nodeRe.FindStringSubmatch(line); m != nil {
			cur = m[1]
		} else if m := sizeRe.FindStringSubmatch(line); m != nil && cur != "" {
			sizes[cur] = atoi(m[3])
		} else if m := offRe.FindStringSubmatch(line); m != nil && m[3] == "==" {
			offs[cur+"."+m[2]] = atoi(m[4])
		} else if m := enumRe.FindStringSubmatch(line); m != nil && cur == "" {
			enumVals[m[1]] = atoi(m[2])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	nTags := 0
	for tag, name := range pg18TagNames {
		if name == "" {
			continue
		}
		nTags++
		if n, ok := tags[name]; !ok || n != tag {
			t.Errorf("T_%s = %d; check file: %d (present %v)", name, tag, n, ok)
		}
	}
	if nTags != len(tags) {
		t.Errorf("%d tags in the table, %d in the check file", nTags, len(tags))
	}
	nNodes, nOffs := 0, 0
	for _, l := range pg18Nodes {
		if l.size == 0 {
			continue
		}
		nNodes++
		if s, ok := sizes[l.name]; !ok || s != int(l.size) {
			t.Errorf("%s: size %d; check file: %d (present %v)", l.name, l.size, s, ok)
		}
		for _, fl := range l.fields {
			nOffs++
			if o, ok := offs[l.name+"."+fl.name]; !ok || o != int(fl.off) {
				t.Errorf("%s.%s: offset %d; check file: %d (present %v)", l.name, fl.name, fl.off, o, ok)
			}
		}
	}
	if nNodes != len(sizes) || nOffs != len(offs) {
		t.Errorf("table: %d nodes, %d fields; check file: %d, %d", nNodes, nOffs, len(sizes), len(offs))
	}
	nVals := 0
	for _, e := range pg18Enums {
		for _, v := range e.values {
			nVals++
			if c, ok := enumVals[v.name]; !ok || c != int(v.value) {
				t.Errorf("%s.%s = %d; check file: %d (present %v)", e.name, v.name, v.value, c, ok)
			}
		}
	}
	if nVals != len(enumVals) {
		t.Errorf("table: %d enum values; check file: %d", nVals, len(enumVals))
	}
}
