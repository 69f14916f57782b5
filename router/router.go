package router

import (
	"sync/atomic"
	"unsafe"

	"github.com/vecshard/vecshard/sqlir"
)

// Param is one bound parameter as the host passes it: the bytes of its
// value in text (Binary false) or binary format. A nil Data is SQL NULL; a
// non-nil empty Data is an empty value (the vtable ABI tells them apart;
// the C ABI cannot, and passes nil for both).
type Param struct {
	Data   []byte
	Binary bool
}

// Kind is the kind of a Decision.
type Kind uint8

// The decision kinds.
const (
	// NoDecision lets PgDog (or the next plugin) decide.
	NoDecision Kind = iota
	// Shard sends the statement to Decision.Shard.
	Shard
	// All sends the statement to every shard.
	All
	// Error refuses the statement: the client gets Code, Message, Detail.
	Error
)

// String returns the name of the kind.
func (k Kind) String() string {
	switch k {
	case NoDecision:
		return "NO_DECISION"
	case Shard:
		return "SHARD"
	case All:
		return "ALL"
	case Error:
		return "ERROR"
	}
	return "Kind(?)"
}

// Decision is what the router decided for one statement.
type Decision struct {
	Kind  Kind
	Shard int  // the shard, 0 <= Shard < shards, when Kind == Shard
	Write bool // the statement writes (or locks); false: READ

	// When Kind == Error: the SQLSTATE (5 characters), the message for the
	// client (it ends in what the user should do) and an optional detail.
	Code, Message, Detail string

	// Warning, when Kind == Shard, is for the pooler's log: the statement
	// was answered differently from how it was written to be (a ranking
	// whose nearest centroids are on several shards sent to the nearest
	// centroid's shard, since the pooler cannot merge its ORDER BY across
	// shards), and how to write it instead. It is text of the plan, shared
	// by every call; the library logs it rate-limited.
	Warning string
}

// Router routes statements with the current Snapshot. It is safe for
// concurrent use; Swap may run while statements are being routed.
type Router struct {
	cur atomic.Pointer[Snapshot]
}

// New returns a router that uses s. A nil s answers NoDecision to
// everything (the configuration could not be loaded).
func New(s *Snapshot) *Router {
	r := &Router{}
	r.cur.Store(s)
	return r
}

// Swap makes s the snapshot of every later call. Calls already running
// finish with the old one. Reloading is Load then Swap; when Load fails the
// caller keeps the old snapshot.
func (r *Router) Swap(s *Snapshot) { r.cur.Store(s) }

// Snapshot returns the current snapshot (nil if none).
func (r *Router) Snapshot() *Snapshot { return r.cur.Load() }

// Route decides where the statement query goes, given its bound parameters
// (none in the simple protocol) and the host's shard count. It neither
// retains query nor any Param.Data. On a cached plan it does not allocate.
func (r *Router) Route(query string, params []Param, shards int) Decision {
	s := r.cur.Load()
	if s == nil {
		return Decision{}
	}
	return s.Route(query, params, shards)
}

// Explain routes like Route and also tells how it decided. It is meant for
// operators (cmd/vecshard explain) and allocates freely.
func (r *Router) Explain(query string, params []Param, shards int) (Decision, Explanation) {
	s := r.cur.Load()
	if s == nil {
		return Decision{}, Explanation{Note: "no configuration loaded"}
	}
	return s.Explain(query, params, shards)
}

// TextFrontEnd turns SQL text into sqlir statements; package sqltext is
// the one vecshard ships (pg_query). A snapshot without one answers
// NoDecision to SQL text; parse trees (RouteTree) need none.
type TextFrontEnd interface {
	// Parse writes the statements of query into b, or returns the
	// parser's error.
	Parse(b *sqlir.Builder, query string) error
	// Comments returns the bodies of the C-style comments of query
	// (without the delimiters), in order.
	Comments(query string) ([]string, error)
}

// Route is Router.Route with this snapshot.
func (s *Snapshot) Route(query string, params []Param, shards int) Decision {
	p, _ := s.lookup(s.cache, query, (*Snapshot).analyzeText)
	return s.decide(p, params, shards, nil)
}

// lookup returns the plan cache c holds for key, or analyze's plan of key,
// which it then caches; cached reports which. analyze is a method
// expression or a plain function, not a closure, so that a lookup does
// not allocate.
func (s *Snapshot) lookup(c *planCache, key string, analyze func(*Snapshot, string) *plan) (p *plan, cached bool) {
	if p = c.get(key); p != nil {
		return p, true
	}
	p = analyze(s, key)
	c.put(key, p)
	return p, false
}

// RouteTree decides where a statement goes from its parse tree in sqlir's
// flat encoding (as package pgtree writes it from the host's tree). The
// encoding is the plan cache key: equal trees share a plan wherever they
// lived. Neither stmts nor any Param.Data is retained. Comment hints are
// the host's business under this front end.
func (s *Snapshot) RouteTree(stmts []byte, params []Param, shards int) Decision {
	return s.decide(s.treePlan(stmts), params, shards, nil)
}

// A Plan is the analysis of one parse tree against one snapshot: which
// configured tables it touches and where their keys come from. A caller
// that already knows which tree it holds (the vtable library's tree memo)
// keeps the Plan with it and routes by it, skipping the plan cache lookup.
// A Plan belongs to the snapshot that made it.
type Plan plan

// TreePlan returns the plan of a parse tree in sqlir's flat encoding, from
// the plan cache or analysed now. stmts is not retained.
func (s *Snapshot) TreePlan(stmts []byte) *Plan { return (*Plan)(s.treePlan(stmts)) }

// RoutePlan is RouteTree with the tree's plan, which must come from
// s.TreePlan.
func (s *Snapshot) RoutePlan(p *Plan, params []Param, shards int) Decision {
	return s.decide((*plan)(p), params, shards, nil)
}

// treePlan looks the tree up by its bytes, viewed as a string without a
// copy: the cache clones a key it keeps.
func (s *Snapshot) treePlan(stmts []byte) *plan {
	p, _ := s.lookup(s.trees, unsafe.String(unsafe.SliceData(stmts), len(stmts)), analyzeTreeKey)
	return p
}

// analyzeTreeKey is analyzeTree for lookup: key holds the flat tree's bytes.
func analyzeTreeKey(s *Snapshot, key string) *plan {
	return s.analyzeTree(unsafe.Slice(unsafe.StringData(key), len(key)))
}

func (s *Snapshot) decide(p *plan, params []Param, shards int, ex *Explanation) Decision {
	c := call{s: s, shards: shards, ex: ex}
	if p.fast != nil && ex == nil {
		if d, ok := c.fast(p.fast, params); ok {
			if c.sc != nil {
				s.pool.Put(c.sc)
			}
			return d
		}
		// Left to decide (c keeps its scratch).
	}
	return c.full(p, params)
}

// full is decide's general walk, then the fail-closed rule.
func (c *call) full(p *plan, params []Param) Decision {
	d := c.decide(p, params)
	if c.sc != nil {
		c.s.pool.Put(c.sc)
	}
	if p.unknown != "" && d.Kind != Error {
		d = failClosed(p, c.ex)
	}
	return d
}

// failClosed is the decision for a statement with a part the front end
// could not read: that part could name any table, so a read goes to every
// shard and a write is refused rather than sent where it might not belong.
func failClosed(p *plan, ex *Explanation) Decision {
	if ex != nil {
		ex.Note = "the statement has a part vecshard cannot read (" + p.unknown + ")"
	}
	if !p.write {
		return Decision{Kind: All}
	}
	return Decision{Kind: Error, Write: true, Code: sqlStateFeatureNotSupported,
		Message: "vecshard: the statement has a part vecshard cannot read (" + p.unknown + "), so the shards it writes cannot be known; nothing was sent. Report this with the statement: it is a PostgreSQL node or version vecshard does not handle"}
}

// analyzeText parses query with the snapshot's text front end and plans it.
func (s *Snapshot) analyzeText(query string) *plan {
	h := hint{shard: -1}
	if s.text == nil {
		return &plan{hint: h, note: "no SQL text front end (this build routes parse trees only)"}
	}
	if err := scanHints(s.text, query, &h); err != nil {
		return &plan{kind: planError, err: err, hint: h}
	}
	var b sqlir.Builder
	if err := s.text.Parse(&b, query); err != nil {
		return &plan{hint: h, note: "the statement does not parse (the server will report it): " + err.Error()}
	}
	return s.analyzeTree(b.Bytes(), h)
}

// analyzeTree plans a flat statement list. A malformed encoding (a front
// end's bug) fails closed like a node it could not read.
func (s *Snapshot) analyzeTree(flat []byte, hs ...hint) *plan {
	h := hint{shard: -1}
	if len(hs) > 0 {
		h = hs[0]
	}
	stmts, err := sqlir.Decode(flat)
	if err != nil {
		return analyze(s, []*sqlir.Node{{Kind: sqlir.Unknown, PG: err.Error()}}, h)
	}
	return analyze(s, stmts, h)
}

// Explain is Router.Explain with this snapshot.
func (s *Snapshot) Explain(query string, params []Param, shards int) (Decision, Explanation) {
	ex := Explanation{}
	p, cached := s.lookup(s.cache, query, (*Snapshot).analyzeText)
	ex.Cached = cached
	ex.Statement, ex.Write, ex.Note = p.stmt, p.write, p.note
	ex.Hint = p.hint.text
	d := s.decide(p, params, shards, &ex)
	ex.Decision = d.Kind.String()
	ex.Warning = d.Warning
	if d.Kind == All && ex.Note == "" {
		for _, tx := range ex.Targets {
			if tx.Shard < 0 && tx.Reason != "" {
				ex.Note = tx.Reason
				break
			}
		}
	}
	return d, ex
}

// Explanation tells how a decision was reached.
type Explanation struct {
	Statement string // the first statement's command: SELECT, INSERT, ...
	Write     bool   // the statement was classified as a write
	Cached    bool   // the plan came from the plan cache
	Hint      string // the comment hint that applies ("pgdog_shard: 2"), if any
	Note      string // why there is no decision, or the parse error
	Warning   string // Decision.Warning
	Decision  string // NO_DECISION, SHARD, ALL, ERROR
	Targets   []TargetExplanation
}

// TargetExplanation is one reference to a configured table.
type TargetExplanation struct {
	Table  string // the configured name
	Ref    string // as referenced, with schema and alias
	Role   string // read, insert, update, delete, merge, copy, truncate
	Key    string // "vector" or "id"
	Column string // the key column
	Match  string // where the key came from: "ORDER BY <=>", "=", "IN", "= ANY", "VALUES", or "" (no usable key)
	Values []ValueExplanation
	Shard  int    // the target's shard, -1 for ALL
	Reason string // when Shard is -1: why this reference needs every shard
}

// ValueExplanation is one key value and where it led.
type ValueExplanation struct {
	Source    string // $1, '[1,2,3]'::vector, 42, NULL, or "expression"
	Binary    bool   // the parameter was in binary format
	Type      string // how it was decoded: vector, halfvec, sparsevec, bigint, uuid, text
	Dim       int    // vectors: the decoded dimension
	Centroids []int  // vectors: the best centroids, best first (probes of them for ORDER BY, else 1)

	// Scores[i] is the similarity of Centroids[i] to the value as the
	// centroid Set ranks them, larger being nearer: the cosine similarity
	// (0 for a zero vector), the negated squared L2 distance or the inner
	// product (see centroids.Set.Score).
	Scores []float32

	JumpKey uint64 // ids: the 64-bit key given to jump hash
	Shard   int    // -1: no single shard (NULL, unusable, or top centroids on several shards)
	Err     string // the decoding error, if any
}
