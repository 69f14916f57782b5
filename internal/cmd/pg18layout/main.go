// Command pg18layout generates pgtree's layout table of PostgreSQL 18's raw
// parse-tree nodes, as libpg_query's 18.0 line lays them out on LP64 Linux,
// and the C files that check those numbers against the real headers.
//
//	go run ./internal/cmd/pg18layout \
//	    -headers ROOT/usr/include/pg_query/postgres \
//	    -out pgtree/layout_pg18.go \
//	    -check pgtree/testdata/pg18layout_check.c \
//	    -check-server pgtree/testdata/pg18layout_check_server.c
//
// It reads the C headers itself (nodes/nodetags.h for the tag numbers; the
// struct definitions of nodes/parsenodes.h, nodes/primnodes.h,
// nodes/value.h and List of nodes/pg_list.h; the enums those structs' fields
// use, wherever under -headers they are defined), then writes a small C
// program printing sizeof/offsetof/enum values, compiles it with -cc against
// the headers and runs it: every number in the output comes from the
// compiler, the parse only says which names to ask about. The enum values
// the parse works out are cross-checked against the compiler's.
//
// ROOT comes from scripts/pg18-deps.sh; scripts/pg18-layout-check.sh
// compiles the check files and checks the committed table is up to date.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// appended181 lists the members libpg_query 18.1 APPENDED at the end of
// four node structs (string-constant locations for its deparser/fingerprint:
// DefElem.arg_location, NotifyStmt.payload_location,
// CreateSubscriptionStmt.conninfo_location,
// AlterSubscriptionStmt.conninfo_location). The headers the table is
// generated from are 18.1's, but the table must describe libpg_query 18.0,
// which PgDog links: those members do not exist there and the structs are
// smaller. Nothing else moved: each is the struct's last member, so the 18.0
// layout is the 18.1 one without it, and the 18.0 sizeof is the end of the
// member before it rounded up to the struct's alignment (which equals the
// appended member's offset rounded up to that alignment; the generator
// checks both agree). Upstream PostgreSQL 18 does not have these members
// either, so the server check (-check-server) asserts those sizes exactly.
var appended181 = map[string]string{
	"DefElem":                "arg_location",
	"NotifyStmt":             "payload_location",
	"CreateSubscriptionStmt": "conninfo_location",
	"AlterSubscriptionStmt":  "conninfo_location",
}

// serverEnumDiffs lists the enums whose values upstream PostgreSQL's headers
// define differently from libpg_query's; the server check skips their values
// (the table follows libpg_query).
var serverEnumDiffs = map[string]string{
	// libpg_query patches nodes/nodes.h to add LIMIT_OPTION_DEFAULT = 0
	// ("no limit present") before COUNT and WITH_TIES, so libpg_query has
	// DEFAULT 0, COUNT 1, WITH_TIES 2; upstream has COUNT 0, WITH_TIES 1
	// and no DEFAULT.
	"LimitOption": "libpg_query adds LIMIT_OPTION_DEFAULT = 0; upstream has COUNT 0, WITH_TIES 1",
}

// structFiles are the headers whose node structs the table describes. From
// nodes/pg_list.h only List is taken.
var structFiles = []string{"nodes/parsenodes.h", "nodes/primnodes.h", "nodes/value.h", "nodes/pg_list.h"}

// listTags share List's layout (pg_list.h: "T_List, T_IntList, T_OidList,
// or T_XidList").
var listTags = []string{"List", "IntList", "OidList", "XidList"}

// notNodePointers are tagged types a pointer to which is nevertheless not
// read as a node (fkOpaque).
var notNodePointers = map[string]bool{
	"Bitmapset": true, // a set of integers, not a parse node
}

// abstractNodes are node types defined outside structFiles (nodes/nodes.h)
// a pointer to which points at a node. Structs of structFiles that begin
// with NodeTag (or embed such a struct first), tagged or abstract (Expr,
// JsonTablePlan), are node types too.
var abstractNodes = []string{"Node"}

// Scalar (non-pointer, non-enum, non-struct) member types. The kind of an
// integer or float type is decided from the compiler's sizeof and
// signedness, not from this list; the list only says what the type is.
var (
	intTypes = map[string]bool{
		"int": true, "int16": true, "int32": true, "int64": true, "uint16": true,
		"uint32": true, "uint64": true, "long": true, "Oid": true, "AttrNumber": true,
		"ParseLoc": true, "Index": true, "SubTransactionId": true, "bits32": true,
		"AclMode": true, "RelFileNumber": true,
	}
	floatTypes = map[string]bool{
		"double": true, "Cost": true, "Cardinality": true, "Selectivity": true,
	}
	// opaqueTypes are non-pointer member types the reader does not read.
	opaqueTypes = map[string]bool{
		"Datum": true, // a by-value datum or a pointer, per the Const's type
	}
)

var verbose bool

func main() {
	headers := flag.String("headers", "", "libpg_query's PostgreSQL headers: ROOT/usr/include/pg_query/postgres")
	out := flag.String("out", "", "Go file to write (pgtree/layout_pg18.go)")
	check := flag.String("check", "", "C check file to write (pgtree/testdata/pg18layout_check.c)")
	checkServer := flag.String("check-server", "", "optional: C check file against upstream's server headers (pgtree/testdata/pg18layout_check_server.c)")
	cc := flag.String("cc", "gcc", "C compiler")
	flag.BoolVar(&verbose, "v", false, "print every member's C type and kind to stderr")
	flag.Parse()
	if *headers == "" || *out == "" || *check == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: pg18layout -headers DIR -out FILE.go -check FILE.c [-check-server FILE.c] [-cc gcc]")
		os.Exit(2)
	}
	if err := run(*headers, *out, *check, *checkServer, *cc); err != nil {
		fmt.Fprintln(os.Stderr, "pg18layout:", err)
		os.Exit(1)
	}
}

func run(headers, out, check, checkServer, cc string) error {
	m, err := parseHeaders(headers)
	if err != nil {
		return err
	}
	if err := m.probe(headers, cc); err != nil {
		return err
	}
	if err := m.build(); err != nil {
		return err
	}
	goSrc, err := m.genGo()
	if err != nil {
		return err
	}
	if err := writeFile(out, goSrc); err != nil {
		return err
	}
	if err := writeFile(check, m.genCheck(false)); err != nil {
		return err
	}
	if checkServer != "" {
		if err := writeFile(checkServer, m.genCheck(true)); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "pg18layout: %d tags (max %d), %d node layouts, %d enums\n",
		len(m.tags), m.maxTag, len(m.nodes), len(m.usedEnums))
	return nil
}

func writeFile(path string, b []byte) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b, 0o644)
}

// ---------------------------------------------------------------------------
// C parsing

type tag struct {
	name string // without T_
	num  int
}

// cMember is one parsed struct member declaration.
type cMember struct {
	name    string
	base    string // base type name, qualifiers and struct/union keywords removed
	ptr     int    // number of '*'
	array   bool
	flex    bool // flexible array member: not part of sizeof, not emitted
	fn      bool // function pointer
	isUnion bool // "union X name"
}

type cStruct struct {
	name    string
	file    string
	members []cMember
}

type cEnumItem struct {
	name   string
	val    int64
	parsed bool // val was worked out from the header text
}

type cEnum struct {
	name  string
	file  string
	items []cEnumItem
}

type model struct {
	tags    []tag
	tagNum  map[string]int
	maxTag  int
	structs map[string]*cStruct // from structFiles
	aliases map[string]string   // typedef Struct Alias; in structFiles
	enums   map[string]*cEnum   // every typedef enum under -headers
	// enumDup records enum names defined differently in two places.
	enumDup map[string]string

	// planned nodes: tag-ordered
	nodes []*node
	// scalars to probe
	scalars map[string]bool

	// compiler facts
	facts map[string]int64

	usedEnums []string       // sorted names
	enumIndex map[string]int // into usedEnums
}

// node is one tag's entry in the table.
type node struct {
	tag    tag
	cname  string // the C type to ask sizeof/offsetof of (a typedef alias or List)
	st     *cStruct
	size   int64 // 18.0 size
	fields []outField
	// appended: the 18.1-only member, if any
	appended       string
	appendedOff    int64
	size181, align int64
}

type outField struct {
	name string
	off  int64
	size int64
	kind string // fkNode ...
	enum string // kind fkEnum
	node string // kind fkNode: the node type the C member names (not Node *), if it has a tag
}

// stripComments removes C comments (keeping newlines, so preprocessor lines
// stay lines) and returns the text.
func stripComments(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := strings.Index(src[i+2:], "*/")
			end := len(src)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			for _, r := range src[i:end] {
				if r == '\n' {
					b.WriteByte('\n')
				}
			}
			b.WriteByte(' ')
			i = end
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = len(src)
			} else {
				i += j
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(src) {
				j++
			}
			b.WriteString(src[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// stripPreprocessor drops preprocessor lines (with their continuations).
func stripPreprocessor(src string) string {
	var b strings.Builder
	cont := false
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if cont || strings.HasPrefix(t, "#") {
			cont = strings.HasSuffix(t, "\\")
			b.WriteByte('\n')
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func readClean(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return stripPreprocessor(stripComments(string(b))), nil
}

// stripAttr removes "name(...)" macro invocations with balanced parens.
func stripAttr(s, name string) string {
	for {
		i := strings.Index(s, name)
		if i < 0 {
			return s
		}
		j := i + len(name)
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
			j++
		}
		if j >= len(s) || s[j] != '(' {
			// not an invocation; keep scanning after it
			return s[:j] + stripAttr(s[j:], name)
		}
		depth := 0
		for ; j < len(s); j++ {
			if s[j] == '(' {
				depth++
			} else if s[j] == ')' {
				depth--
				if depth == 0 {
					j++
					break
				}
			}
		}
		s = s[:i] + " " + s[j:]
	}
}

// matchBrace returns the index just past the '}' matching the '{' at open.
func matchBrace(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced braces")
}

var (
	tagRe      = regexp.MustCompile(`(?m)^\s*T_(\w+)\s*=\s*(\d+)\s*,`)
	structRe   = regexp.MustCompile(`\btypedef\s+struct\s+(\w+)\s*\{`)
	enumRe     = regexp.MustCompile(`\btypedef\s+enum\s+(\w*)\s*\{`)
	closeRe    = regexp.MustCompile(`^\s*(\w+)\s*;`)
	aliasRe    = regexp.MustCompile(`\btypedef\s+(\w+)\s+(\w+)\s*;`)
	fnPtrRe    = regexp.MustCompile(`\(\s*\*\s*(\w+)\s*\)`)
	identRe    = regexp.MustCompile(`^[A-Za-z_]\w*$`)
	qualifiers = map[string]bool{"const": true, "volatile": true, "restrict": true}
)

func parseHeaders(root string) (*model, error) {
	m := &model{
		tagNum:  map[string]int{},
		structs: map[string]*cStruct{},
		aliases: map[string]string{},
		enums:   map[string]*cEnum{},
		enumDup: map[string]string{},
		scalars: map[string]bool{},
	}

	// Tags.
	src, err := readClean(filepath.Join(root, "nodes/nodetags.h"))
	if err != nil {
		return nil, err
	}
	seen := map[int]string{}
	for _, mm := range tagRe.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(mm[2])
		if prev, ok := seen[n]; ok {
			return nil, fmt.Errorf("nodetags.h: T_%s and T_%s both = %d", prev, mm[1], n)
		}
		if _, ok := m.tagNum[mm[1]]; ok {
			return nil, fmt.Errorf("nodetags.h: T_%s twice", mm[1])
		}
		seen[n] = mm[1]
		m.tagNum[mm[1]] = n
		m.tags = append(m.tags, tag{mm[1], n})
		if n > m.maxTag {
			m.maxTag = n
		}
	}
	if len(m.tags) == 0 {
		return nil, fmt.Errorf("nodetags.h: no tags found")
	}
	sort.Slice(m.tags, func(i, j int) bool { return m.tags[i].num < m.tags[j].num })

	// Structs.
	for _, f := range structFiles {
		src, err := readClean(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		sts, err := parseStructs(src, f)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			if f == "nodes/pg_list.h" && st.name != "List" {
				continue
			}
			if _, ok := m.structs[st.name]; ok {
				return nil, fmt.Errorf("%s: struct %s defined twice", f, st.name)
			}
			m.structs[st.name] = st
		}
		for _, mm := range aliasRe.FindAllStringSubmatch(src, -1) {
			m.aliases[mm[2]] = mm[1]
		}
	}
	// Keep only typedefs of structs (typedef OpExpr DistinctExpr;), not
	// of scalars (typedef uint64 AclMode;).
	for alias, target := range m.aliases {
		if _, ok := m.structs[target]; !ok {
			delete(m.aliases, alias)
		}
	}

	// Enums: anywhere under root (a field may use one from nodes/nodes.h,
	// nodes/lockoptions.h, access/cmptype.h, ...).
	var files []string
	err = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && strings.HasSuffix(p, ".h") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		src := stripComments(string(raw))
		macros := objectMacros(src)
		src = stripPreprocessor(src)
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		ens, err := parseEnums(src, rel, macros)
		if err != nil {
			return nil, err
		}
		for _, e := range ens {
			if prev, ok := m.enums[e.name]; ok {
				if !sameEnum(prev, e) {
					m.enumDup[e.name] = prev.file + " and " + rel
				}
				continue
			}
			m.enums[e.name] = e
		}
	}
	return m, nil
}

func sameEnum(a, b *cEnum) bool {
	if len(a.items) != len(b.items) {
		return false
	}
	for i := range a.items {
		if a.items[i] != b.items[i] {
			return false
		}
	}
	return true
}

func parseStructs(src, file string) ([]*cStruct, error) {
	var out []*cStruct
	for _, loc := range structRe.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		open := loc[1] - 1
		end, err := matchBrace(src, open)
		if err != nil {
			return nil, fmt.Errorf("%s: struct %s: %v", file, name, err)
		}
		cm := closeRe.FindStringSubmatch(src[end:])
		if cm == nil || cm[1] != name {
			// typedef struct X {...} *Y; or a different name: not a node
			continue
		}
		body := src[open+1 : end-1]
		st := &cStruct{name: name, file: file}
		body = stripAttr(body, "pg_node_attr")
		if strings.ContainsAny(body, "{}") {
			return nil, fmt.Errorf("%s: struct %s: nested struct/union definitions are not handled", file, name)
		}
		for _, decl := range strings.Split(body, ";") {
			decl = strings.Join(strings.Fields(decl), " ")
			if decl == "" {
				continue
			}
			mem, err := parseMember(decl)
			if err != nil {
				return nil, fmt.Errorf("%s: struct %s: %q: %v", file, name, decl, err)
			}
			st.members = append(st.members, mem)
		}
		out = append(out, st)
	}
	return out, nil
}

func parseMember(decl string) (cMember, error) {
	var mem cMember
	if strings.Contains(decl, "(") {
		mm := fnPtrRe.FindStringSubmatch(decl)
		if mm == nil {
			return mem, fmt.Errorf("unrecognised declaration")
		}
		mem.name, mem.fn, mem.base = mm[1], true, "function pointer"
		return mem, nil
	}
	if strings.Contains(decl, ",") {
		return mem, fmt.Errorf("several declarators in one declaration are not handled")
	}
	if i := strings.IndexByte(decl, '['); i >= 0 {
		mem.array = true
		dim := strings.TrimSpace(strings.Trim(decl[i:], "[] "))
		mem.flex = dim == "FLEXIBLE_ARRAY_MEMBER" || dim == ""
		decl = decl[:i]
	}
	decl = strings.ReplaceAll(decl, "*", " * ")
	var words []string
	for _, w := range strings.Fields(decl) {
		switch {
		case w == "*":
			mem.ptr++
		case qualifiers[w]:
		case w == "struct":
		case w == "union":
			mem.isUnion = true
		default:
			if !identRe.MatchString(w) {
				return mem, fmt.Errorf("unexpected %q", w)
			}
			words = append(words, w)
		}
	}
	if len(words) < 2 {
		return mem, fmt.Errorf("no type or no name")
	}
	mem.name = words[len(words)-1]
	mem.base = strings.Join(words[:len(words)-1], " ")
	return mem, nil
}

var defineRe = regexp.MustCompile(`(?m)^\s*#\s*define\s+(\w+)[ \t]+([^\n\\]+)$`)

// objectMacros evaluates the file's one-line object-like integer macros
// (#define AGGSPLITOP_COMBINE 0x01), for enumerators defined with them.
func objectMacros(src string) map[string]int64 {
	macros := map[string]int64{}
	for _, mm := range defineRe.FindAllStringSubmatch(src, -1) {
		if v, err := evalConst(strings.TrimSpace(mm[2]), macros); err == nil {
			macros[mm[1]] = v
		}
	}
	return macros
}

func parseEnums(src, file string, macros map[string]int64) ([]*cEnum, error) {
	var out []*cEnum
	for _, loc := range enumRe.FindAllStringSubmatchIndex(src, -1) {
		open := loc[1] - 1
		end, err := matchBrace(src, open)
		if err != nil {
			return nil, fmt.Errorf("%s: enum: %v", file, err)
		}
		cm := closeRe.FindStringSubmatch(src[end:])
		if cm == nil {
			continue
		}
		e := &cEnum{name: cm[1], file: file}
		body := src[open+1 : end-1]
		known := map[string]int64{}
		for k, v := range macros {
			known[k] = v
		}
		next, nextOK := int64(0), true
		for _, item := range strings.Split(body, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			name, expr, hasExpr := strings.Cut(item, "=")
			name = strings.TrimSpace(name)
			if !identRe.MatchString(name) {
				return nil, fmt.Errorf("%s: enum %s: bad enumerator %q", file, e.name, item)
			}
			it := cEnumItem{name: name}
			if hasExpr {
				v, err := evalConst(strings.TrimSpace(expr), known)
				it.val, it.parsed = v, err == nil
			} else {
				it.val, it.parsed = next, nextOK
			}
			if it.parsed {
				known[name] = it.val
			}
			next, nextOK = it.val+1, it.parsed
			e.items = append(e.items, it)
		}
		out = append(out, e)
	}
	return out, nil
}

// evalConst evaluates a constant expression of an enumerator: integer and
// character literals, earlier enumerators, unary - ~, parentheses, and the
// binary operators << >> | & + -.
func evalConst(s string, known map[string]int64) (int64, error) {
	p := &exprParser{s: s, known: known}
	v, err := p.binary(0)
	if err != nil {
		return 0, err
	}
	p.skip()
	if p.i != len(p.s) {
		return 0, fmt.Errorf("trailing %q", p.s[p.i:])
	}
	return v, nil
}

type exprParser struct {
	s     string
	i     int
	known map[string]int64
}

func (p *exprParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

var binOps = []struct {
	op   string
	prec int
}{{"<<", 4}, {">>", 4}, {"|", 1}, {"&", 2}, {"+", 5}, {"-", 5}}

func (p *exprParser) binary(minPrec int) (int64, error) {
	l, err := p.unary()
	if err != nil {
		return 0, err
	}
	for {
		p.skip()
		matched := false
		for _, o := range binOps {
			if o.prec >= minPrec && strings.HasPrefix(p.s[p.i:], o.op) {
				p.i += len(o.op)
				r, err := p.binary(o.prec + 1)
				if err != nil {
					return 0, err
				}
				switch o.op {
				case "<<":
					l <<= uint(r)
				case ">>":
					l >>= uint(r)
				case "|":
					l |= r
				case "&":
					l &= r
				case "+":
					l += r
				case "-":
					l -= r
				}
				matched = true
				break
			}
		}
		if !matched {
			return l, nil
		}
	}
}

func (p *exprParser) unary() (int64, error) {
	p.skip()
	if p.i >= len(p.s) {
		return 0, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '-':
		p.i++
		v, err := p.unary()
		return -v, err
	case c == '~':
		p.i++
		v, err := p.unary()
		return ^v, err
	case c == '(':
		p.i++
		v, err := p.binary(0)
		if err != nil {
			return 0, err
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	case c == '\'':
		j := strings.IndexByte(p.s[p.i+1:], '\'')
		if j < 0 {
			return 0, fmt.Errorf("bad char literal")
		}
		lit := p.s[p.i : p.i+j+2]
		p.i += j + 2
		r, _, tail, err := strconv.UnquoteChar(lit[1:len(lit)-1], '\'')
		if err != nil || tail != "" {
			return 0, fmt.Errorf("char literal %s", lit)
		}
		return int64(r), nil
	case c >= '0' && c <= '9':
		j := p.i
		for j < len(p.s) && (isIdent(p.s[j])) {
			j++
		}
		lit := strings.TrimRight(p.s[p.i:j], "uUlL")
		p.i = j
		return strconv.ParseInt(lit, 0, 64)
	case isIdent(c):
		j := p.i
		for j < len(p.s) && isIdent(p.s[j]) {
			j++
		}
		name := p.s[p.i:j]
		p.i = j
		v, ok := p.known[name]
		if !ok {
			return 0, fmt.Errorf("unknown name %s", name)
		}
		return v, nil
	}
	return 0, fmt.Errorf("unexpected %q", p.s[p.i:])
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ---------------------------------------------------------------------------
// Planning, probing, building

// isNodeType reports whether a pointer to base points at a node.
func (m *model) isNodeType(base string) bool {
	if notNodePointers[base] {
		return false
	}
	for _, a := range abstractNodes {
		if base == a {
			return true
		}
	}
	if _, ok := m.tagNum[base]; ok {
		return true
	}
	if target, ok := m.aliases[base]; ok {
		base = target
	}
	return m.isNodeStruct(base, 0)
}

// isNodeStruct reports whether the struct name of structFiles is a node:
// its first member is NodeTag or an embedded node struct.
func (m *model) isNodeStruct(name string, depth int) bool {
	st, ok := m.structs[name]
	if !ok || len(st.members) == 0 || depth > 10 {
		return false
	}
	first := st.members[0]
	if first.ptr != 0 || first.array || first.fn || first.isUnion {
		return false
	}
	if first.base == "NodeTag" {
		return true
	}
	if target, ok := m.aliases[first.base]; ok {
		return m.isNodeStruct(target, depth+1)
	}
	return m.isNodeStruct(first.base, depth+1)
}

// isStructType reports whether base names a struct type the parse knows.
func (m *model) isStructType(base string) bool {
	if _, ok := m.structs[base]; ok {
		return true
	}
	_, ok := m.aliases[base]
	return ok
}

// planNodes picks the table's nodes: every tag with a struct (or a typedef
// of one) in structFiles, plus List's variants.
func (m *model) planNodes() error {
	for _, t := range m.tags {
		n := &node{tag: t, cname: t.name}
		if st, ok := m.structs[t.name]; ok {
			n.st = st
		} else if target, ok := m.aliases[t.name]; ok {
			st, ok := m.structs[target]
			if !ok {
				continue
			}
			n.st = st
		} else {
			for _, l := range listTags[1:] {
				if t.name == l {
					n.st, n.cname = m.structs["List"], "List"
				}
			}
		}
		if n.st == nil {
			continue
		}
		if len(n.st.members) == 0 {
			return fmt.Errorf("struct %s: no members", n.st.name)
		}
		if !m.isNodeStruct(n.st.name, 0) {
			first := n.st.members[0]
			return fmt.Errorf("struct %s (T_%s): first member %s is neither NodeTag nor an embedded node", n.st.name, t.name, first.name)
		}
		if a, ok := appended181[n.st.name]; ok {
			last := n.st.members[len(n.st.members)-1]
			if last.name != a {
				return fmt.Errorf("struct %s: expected the 18.1-only member %s last, found %s", n.st.name, a, last.name)
			}
			n.appended = a
		}
		m.nodes = append(m.nodes, n)
	}
	for name := range appended181 {
		if _, ok := m.structs[name]; !ok {
			return fmt.Errorf("appended181 names %s, which is not a struct of %v", name, structFiles)
		}
	}
	return nil
}

// classify gives a member's kind; scalar kinds need m.facts.
func (m *model) classify(mem cMember) (kind, enum string, err error) {
	switch {
	case mem.fn || mem.array:
		return "fkOpaque", "", nil
	case mem.ptr >= 2:
		return "fkOpaque", "", nil
	case mem.ptr == 1:
		switch {
		case mem.base == "char":
			return "fkString", "", nil
		case mem.base == "List":
			return "fkList", "", nil
		case m.isNodeType(mem.base):
			return "fkNode", "", nil
		}
		return "fkOpaque", "", nil
	}
	switch {
	case mem.isUnion && mem.base == "ValUnion":
		return "fkValue", "", nil
	case mem.isUnion:
		return "fkOpaque", "", nil
	case mem.base == "bool":
		return "fkBool", "", nil
	case mem.base == "char":
		return "fkChar", "", nil
	case m.enums[mem.base] != nil:
		return "fkEnum", mem.base, nil
	case m.isStructType(mem.base):
		return "fkEmbedded", "", nil
	case opaqueTypes[mem.base]:
		return "fkOpaque", "", nil
	case intTypes[mem.base]:
		size, signed := m.facts["tsize "+mem.base], m.facts["tsigned "+mem.base] != 0
		switch {
		case size == 2 && signed:
			return "fkInt16", "", nil
		case size == 4 && signed:
			return "fkInt32", "", nil
		case size == 4:
			return "fkUint32", "", nil
		case size == 8:
			return "fkInt64", "", nil
		}
		return "", "", fmt.Errorf("integer type %s: %d bytes, signed %v: no kind for it", mem.base, size, signed)
	case floatTypes[mem.base]:
		if size := m.facts["tsize "+mem.base]; size != 8 {
			return "", "", fmt.Errorf("float type %s: %d bytes", mem.base, size)
		}
		return "fkFloat64", "", nil
	}
	return "", "", fmt.Errorf("member type %q: unknown; add it to intTypes, floatTypes or opaqueTypes in %s", mem.base, "internal/cmd/pg18layout/main.go")
}

// includes are the headers the probe and check programs include.
func (m *model) includes() []string {
	inc := []string{"postgres.h", "nodes/nodes.h", "nodes/pg_list.h", "nodes/value.h", "nodes/primnodes.h", "nodes/parsenodes.h"}
	seen := map[string]bool{}
	for _, s := range inc {
		seen[s] = true
	}
	var extra []string
	for _, e := range m.usedEnums {
		f := m.enums[e].file
		if !seen[f] {
			seen[f] = true
			extra = append(extra, f)
		}
	}
	sort.Strings(extra)
	return append(inc, extra...)
}

const cPrelude = "#define _POSIX_C_SOURCE 200809L /* sigjmp_buf, for utils/elog.h under -std=c11 */\n"

func (m *model) probe(root, cc string) error {
	if err := m.planNodes(); err != nil {
		return err
	}
	// Which enums and scalar types do the members use?
	used := map[string]bool{}
	for _, n := range m.nodes {
		for i, mem := range n.st.members {
			if mem.fn || mem.array || mem.ptr > 0 || mem.isUnion || i == 0 && mem.base == "NodeTag" {
				continue
			}
			switch {
			case m.enums[mem.base] != nil:
				used[mem.base] = true
			case intTypes[mem.base] || floatTypes[mem.base]:
				m.scalars[mem.base] = true
			}
		}
	}
	for e := range used {
		if d, ok := m.enumDup[e]; ok {
			return fmt.Errorf("enum %s is defined differently in %s", e, d)
		}
		m.usedEnums = append(m.usedEnums, e)
	}
	sort.Strings(m.usedEnums)
	if len(m.usedEnums) > 255 {
		return fmt.Errorf("%d enums do not fit field.enum (uint8)", len(m.usedEnums))
	}
	m.enumIndex = map[string]int{}
	for i, e := range m.usedEnums {
		m.enumIndex[e] = i
	}

	var c bytes.Buffer
	c.WriteString(cPrelude)
	for _, inc := range m.includes() {
		fmt.Fprintf(&c, "#include \"%s\"\n", inc)
	}
	c.WriteString("#include <stddef.h>\n#include <stdio.h>\n#undef printf /* port.h maps it to pg_printf, which is not linked */\n\nint main(void)\n{\n")
	pr := func(key, expr string) {
		fmt.Fprintf(&c, "\tprintf(\"%s %%lld\\n\", (long long) (%s));\n", key, expr)
	}
	for _, t := range m.tags {
		pr("tag "+t.name, "T_"+t.name)
	}
	var scalars []string
	for s := range m.scalars {
		scalars = append(scalars, s)
	}
	sort.Strings(scalars)
	for _, s := range scalars {
		pr("tsize "+s, "sizeof("+s+")")
		pr("tsigned "+s, "(("+s+") -1) < (("+s+") 0)")
	}
	for _, e := range m.usedEnums {
		pr("esize "+e, "sizeof("+e+")")
		for _, it := range m.enums[e].items {
			pr("eval "+e+" "+it.name, it.name)
		}
	}
	for _, n := range m.nodes {
		pr("size "+n.tag.name, "sizeof("+n.cname+")")
		pr("align "+n.tag.name, "_Alignof("+n.cname+")")
		for _, mem := range n.st.members {
			if mem.flex {
				continue
			}
			pr("off "+n.tag.name+" "+mem.name, "offsetof("+n.cname+", "+mem.name+")")
			pr("msize "+n.tag.name+" "+mem.name, "sizeof(((("+n.cname+" *) 0)->"+mem.name+"))")
		}
	}
	c.WriteString("\treturn 0;\n}\n")

	dir, err := os.MkdirTemp("", "pg18layout")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srcPath, exe := filepath.Join(dir, "probe.c"), filepath.Join(dir, "probe")
	if err := os.WriteFile(srcPath, c.Bytes(), 0o644); err != nil {
		return err
	}
	args := []string{"-std=c11", "-o", exe, "-I", root, srcPath}
	if inc := filepath.Join(root, "include"); isDir(inc) {
		args = append(args, "-I", inc)
	}
	cmd := exec.Command(cc, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling the probe (%s %s): %v\n%s", cc, strings.Join(args, " "), err, b)
	}
	outb, err := exec.Command(exe).Output()
	if err != nil {
		return fmt.Errorf("running the probe: %v", err)
	}
	m.facts = map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(outb))
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseInt(line[i+1:], 10, 64)
		if err != nil {
			return fmt.Errorf("probe output %q", line)
		}
		m.facts[line[:i]] = v
	}
	return sc.Err()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func (m *model) fact(key string) int64 {
	v, ok := m.facts[key]
	if !ok {
		panic("no fact " + key)
	}
	return v
}

func (m *model) build() error {
	for _, t := range m.tags {
		if got := m.fact("tag " + t.name); got != int64(t.num) {
			return fmt.Errorf("T_%s: nodetags.h says %d, the compiler %d", t.name, t.num, got)
		}
	}
	for _, e := range m.usedEnums {
		if s := m.fact("esize " + e); s != 4 {
			return fmt.Errorf("enum %s: sizeof %d, not 4", e, s)
		}
		en := m.enums[e]
		for i := range en.items {
			it := &en.items[i]
			got := m.fact("eval " + e + " " + it.name)
			if !it.parsed {
				fmt.Fprintf(os.Stderr, "pg18layout: note: %s.%s: value %d taken from the compiler (not worked out from the header)\n", e, it.name, got)
			}
			if it.parsed && it.val != got {
				return fmt.Errorf("enum %s: %s parsed as %d, compiler says %d", e, it.name, it.val, got)
			}
			if got < -1<<31 || got >= 1<<31 {
				return fmt.Errorf("enum %s: %s = %d does not fit int32", e, it.name, got)
			}
			it.val, it.parsed = got, true
		}
	}
	for _, n := range m.nodes {
		name := n.tag.name
		size, align := m.fact("size "+name), m.fact("align "+name)
		n.size, n.size181, n.align = size, size, align
		var prevEnd int64
		for i, mem := range n.st.members {
			if mem.flex {
				// initial_elements[FLEXIBLE_ARRAY_MEMBER]: past sizeof
				continue
			}
			off, msize := m.fact("off "+name+" "+mem.name), m.fact("msize "+name+" "+mem.name)
			if off < prevEnd {
				return fmt.Errorf("%s.%s: offset %d overlaps the previous member", name, mem.name, off)
			}
			if mem.name == n.appended {
				n.appendedOff = off
				n.size = roundUp(prevEnd, align)
				if alt := roundUp(off, align); alt != n.size {
					return fmt.Errorf("%s: 18.0 size from the previous member's end %d, from %s's offset %d", name, n.size, mem.name, alt)
				}
				continue
			}
			prevEnd = off + msize
			if i == 0 && mem.base == "NodeTag" && mem.ptr == 0 {
				if mem.name != "type" || off != 0 {
					return fmt.Errorf("%s: NodeTag member %s at %d", name, mem.name, off)
				}
				continue // the tag itself: not a field
			}
			kind, enum, err := m.classify(mem)
			if err != nil {
				return fmt.Errorf("%s.%s: %v", name, mem.name, err)
			}
			want := map[string]int64{"fkNode": 8, "fkList": 8, "fkString": 8, "fkBool": 1, "fkChar": 1,
				"fkInt16": 2, "fkInt32": 4, "fkUint32": 4, "fkInt64": 8, "fkFloat64": 8, "fkEnum": 4}[kind]
			if want != 0 && want != msize {
				return fmt.Errorf("%s.%s: kind %s but %d bytes", name, mem.name, kind, msize)
			}
			if off >= n.size || off > 0xffff {
				return fmt.Errorf("%s.%s: offset %d, size %d", name, mem.name, off, n.size)
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "%s.%s\t%s%s%s\t%s\n", name, mem.name, mem.base,
					strings.Repeat("*", mem.ptr), map[bool]string{true: "[]"}[mem.array], kind)
			}
			of := outField{name: mem.name, off: off, size: msize, kind: kind, enum: enum}
			if _, ok := m.tagNum[mem.base]; ok && kind == "fkNode" && mem.base != "Node" {
				// libpg_query's JSON writes a member of a named node type
				// without the {"Type": ...} wrapper: a builder needs the type.
				of.node = mem.base
			}
			n.fields = append(n.fields, of)
		}
		if n.size > 0xffff {
			return fmt.Errorf("%s: size %d", name, n.size)
		}
	}
	return nil
}

func roundUp(n, a int64) int64 { return (n + a - 1) / a * a }

// ---------------------------------------------------------------------------
// Output

const header = "Code generated by internal/cmd/pg18layout; DO NOT EDIT."

func (m *model) genGo() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// %s\n\n", header)
	b.WriteString(`// PostgreSQL 18's raw parse-tree nodes as libpg_query's 18.0 line lays
// them out on LP64 Linux: every number below was printed by a C program
// compiled against libpg_query's headers (sizeof, offsetof, enum values),
// and testdata/pg18layout_check.c asserts each of them against those
// headers at compile time (scripts/pg18-layout-check.sh).
//
// The headers are libpg_query 18.1's, which appended one member at the end
// of four structs and moved nothing; the table describes 18.0, without
// those members and with 18.0's sizeof (the 18.1 offset of the appended
// member rounded up to the struct's alignment):
`)
	for _, n := range m.nodes {
		if n.appended != "" && n.cname == n.st.name {
			fmt.Fprintf(&b, "//   - %s: 18.1 adds %s at %d (sizeof %d); 18.0 sizeof %d\n",
				n.st.name, n.appended, n.appendedOff, n.size181, n.size)
		}
	}
	b.WriteString("//\n// Tags without a struct of their own share another's layout; their entries\n// carry the tag's name:\n")
	shared := map[string][]string{}
	var sharedOrder []string
	for _, n := range m.nodes {
		if n.st.name != n.tag.name {
			if shared[n.st.name] == nil {
				sharedOrder = append(sharedOrder, n.st.name)
			}
			shared[n.st.name] = append(shared[n.st.name], "T_"+n.tag.name)
		}
	}
	for _, st := range sharedOrder {
		fmt.Fprintf(&b, "//   - %s: %s's layout\n", strings.Join(shared[st], ", "), st)
	}
	b.WriteString(`//
// List's flexible array member initial_elements lies past sizeof and is not
// listed; nor is NodeTag type, at offset 0 of every node.

package pgtree

// Node tags of nodes/nodetags.h (T_Invalid = 0 is nodes.h's, not listed).
const (
`)
	for _, t := range m.tags {
		fmt.Fprintf(&b, "T_%s = %d\n", t.name, t.num)
	}
	b.WriteString(")\n\n")
	fmt.Fprintf(&b, "// pg18MaxTag is the largest NodeTag number in nodes/nodetags.h.\nconst pg18MaxTag = %d\n\n", m.maxTag)

	b.WriteString("// pg18Nodes are the node structs of nodes/parsenodes.h, nodes/primnodes.h,\n// nodes/value.h and List, by tag.\n")
	b.WriteString("var pg18Nodes = [pg18MaxTag + 1]layout{\n")
	for _, n := range m.nodes {
		fmt.Fprintf(&b, "T_%s: {name: %q, size: %d, fields: []field{\n", n.tag.name, n.tag.name, n.size)
		for _, f := range n.fields {
			if f.kind == "fkEnum" {
				fmt.Fprintf(&b, "{name: %q, off: %d, kind: fkEnum, enum: %d}, // %s\n", f.name, f.off, m.enumIndex[f.enum], f.enum)
			} else if f.node != "" {
				fmt.Fprintf(&b, "{name: %q, off: %d, kind: fkNode, node: T_%s},\n", f.name, f.off, f.node)
			} else {
				fmt.Fprintf(&b, "{name: %q, off: %d, kind: %s},\n", f.name, f.off, f.kind)
			}
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n")

	b.WriteString("// pg18Enums are the enums the fields of pg18Nodes use, by name; field.enum\n// indexes this array.\n")
	b.WriteString("var pg18Enums = [...]enumType{\n")
	for i, e := range m.usedEnums {
		en := m.enums[e]
		fmt.Fprintf(&b, "%d: {name: %q, values: []enumValue{ // %s\n", i, e, en.file)
		for _, it := range en.items {
			fmt.Fprintf(&b, "{%q, %d},\n", it.name, it.val)
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n")

	b.WriteString("// pg18TagNames are the names of nodes/nodetags.h's tags (without T_), by\n// number, for messages.\n")
	b.WriteString("var pg18TagNames = [pg18MaxTag + 1]string{\n")
	for _, t := range m.tags {
		fmt.Fprintf(&b, "T_%s: %q,\n", t.name, t.name)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt of the generated code: %v", err)
	}
	return src, nil
}

func (m *model) genCheck(server bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "/* %s */\n\n", header)
	if !server {
		b.WriteString(`/*
 * Compile-time check of pgtree/layout_pg18.go against libpg_query's headers:
 *   gcc -std=c11 -fsyntax-only -I ROOT/usr/include/pg_query/postgres \
 *       pgtree/testdata/pg18layout_check.c
 * (ROOT from scripts/pg18-deps.sh; scripts/pg18-layout-check.sh runs it.)
 * The headers are libpg_query 18.1's; the table describes 18.0. 18.1 appended
 * one member to each of DefElem, NotifyStmt, CreateSubscriptionStmt and
 * AlterSubscriptionStmt: for those the check is that the 18.1 struct is at
 * least the 18.0 size and that the appended member lies at or past it.
 */
`)
	} else {
		b.WriteString(`/*
 * Compile-time check of pgtree/layout_pg18.go against UPSTREAM PostgreSQL
 * 18's server headers (postgresql-server-dev-18):
 *   gcc -std=c11 -fsyntax-only -I ROOT/usr/include/postgresql/18/server \
 *       pgtree/testdata/pg18layout_check_server.c
 * Every tag number, sizeof and offsetof of the table must hold upstream too.
 * Documented differences between libpg_query's headers and upstream's,
 * excluded here:
 *   - the members libpg_query 18.1 appended (DefElem.arg_location,
 *     NotifyStmt.payload_location, CreateSubscriptionStmt.conninfo_location,
 *     AlterSubscriptionStmt.conninfo_location) are not upstream; upstream
 *     has the 18.0 layout, so its sizeof is asserted to equal the table's
 *     exactly;
`)
		var diffs []string
		for e := range serverEnumDiffs {
			diffs = append(diffs, e)
		}
		sort.Strings(diffs)
		for _, e := range diffs {
			fmt.Fprintf(&b, " *   - enum %s: values not checked:\n *     %s.\n", e, serverEnumDiffs[e])
		}
		b.WriteString(" */\n")
	}
	b.WriteString(cPrelude)
	for _, inc := range m.includes() {
		fmt.Fprintf(&b, "#include \"%s\"\n", inc)
	}
	b.WriteString("#include <stddef.h>\n\n#define CHECK(cond) _Static_assert(cond, #cond)\n\n/* Tags (nodes/nodetags.h). */\n")
	for _, t := range m.tags {
		fmt.Fprintf(&b, "CHECK(T_%s == %d);\n", t.name, t.num)
	}
	b.WriteString("\n/* Enums. */\n")
	for _, e := range m.usedEnums {
		if server && serverEnumDiffs[e] != "" {
			fmt.Fprintf(&b, "/* %s: values differ upstream (see above) */\n", e)
			continue
		}
		fmt.Fprintf(&b, "CHECK(sizeof(%s) == 4);\n", e)
		for _, it := range m.enums[e].items {
			fmt.Fprintf(&b, "CHECK(%s == %d);\n", it.name, it.val)
		}
	}
	b.WriteString("\n/* Node structs: sizeof, and offsetof and sizeof of each field. */\n")
	for _, n := range m.nodes {
		fmt.Fprintf(&b, "/* T_%s */\n", n.tag.name)
		c := n.cname
		switch {
		case n.appended != "" && !server:
			fmt.Fprintf(&b, "CHECK(sizeof(%s) >= %d); /* 18.0 size; 18.1 appended %s */\n", c, n.size, n.appended)
			fmt.Fprintf(&b, "CHECK(offsetof(%s, %s) >= %d);\n", c, n.appended, n.size)
		case n.appended != "":
			fmt.Fprintf(&b, "CHECK(sizeof(%s) == %d); /* 18.0 size: upstream lacks 18.1's %s */\n", c, n.size, n.appended)
		default:
			fmt.Fprintf(&b, "CHECK(sizeof(%s) == %d);\n", c, n.size)
		}
		for _, f := range n.fields {
			fmt.Fprintf(&b, "CHECK(offsetof(%s, %s) == %d);\n", c, f.name, f.off)
			if f.kind != "fkEmbedded" && f.kind != "fkOpaque" {
				fmt.Fprintf(&b, "CHECK(sizeof(((%s *) 0)->%s) == %d);\n", c, f.name, f.size)
			}
		}
	}
	return b.Bytes()
}
