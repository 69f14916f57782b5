package router

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vecshard/vecshard/centroids"
	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/vecdecode"
)

// scratch is per-call decode memory, recycled through Snapshot.pool so
// that a steady stream of calls allocates nothing.
type scratch struct {
	vec []float32 // cap vecdecode.MaxDim
	sp  vecdecode.Sparse
	top []int
	buf []byte // unescaped array elements
}

func newScratch() any {
	return &scratch{vec: make([]float32, 0, vecdecode.MaxDim), top: make([]int, 0, 64)}
}

// Sentinel results of value resolution (shards are >= 0).
const (
	vAll      = -1 // no single shard: route to all
	vNull     = -2 // SQL NULL: no key
	vUnusable = -3 // an expression, a missing parameter, a type the router cannot read
)

// call is the state of one Route: it lives on the caller's stack.
//
// The bound parameters are not part of it: they are passed down as an
// argument (ps) so that they do not escape. Escape analysis does not tell
// a struct's fields apart, and the snapshot, its pool and the scratch in a
// call do reach the heap; parameters stored next to them would be taken to
// escape too, forcing the host's []Param (built per call) onto the heap.
type call struct {
	s       *Snapshot
	shards  int
	sc      *scratch // from s.pool, nil until needed; the caller puts it back
	ex      *Explanation
	unbound bool   // the plan needs parameters and none were bound
	near    int    // the shard of the nearest centroid of the last ranking whose top probes centroids disagreed
	warn    string // a guarded ranking went to its nearest centroid's shard: Decision.Warning
}

func (c *call) scratch() *scratch {
	if c.sc == nil {
		c.sc = c.s.pool.Get().(*scratch)
	}
	return c.sc
}

// decide is the general walk: what the plan answers before any key value
// (early), each target's shard (target), then the statement's answer from
// where its targets went (verdict).
func (c *call) decide(p *plan, ps []Param) Decision {
	if d, done := c.early(p, ps); done {
		return d
	}
	sp := spread{first: -1, other: -1}
	for i := range p.targets {
		tg := &p.targets[i]
		sh, err := c.target(tg, ps)
		if err != nil {
			err.Write = p.write
			return *err
		}
		sp.add(tg, sh)
	}
	if c.unbound {
		// Routed before Bind (no parameters yet): the shard is unknown.
		if c.ex != nil {
			c.ex.Note = "the statement has parameters and none were bound"
		}
		return Decision{}
	}
	return c.verdict(p, &sp)
}

// early answers what needs no key value, in this order: no shards, a
// pgdog_shard hint, nothing configured touched, configured shard counts
// that disagree with the host's, a pgdog_sharding_key hint, a refused
// plan. done is false when the targets' keys decide.
func (c *call) early(p *plan, ps []Param) (_ Decision, done bool) {
	switch {
	case c.shards < 1:
		if c.ex != nil {
			c.ex.Note = "the host reported no shards"
		}
		return Decision{}, true
	case p.hint.shard >= 0:
		return c.hintShard(p), true
	case p.kind == planNone && p.err == nil:
		return Decision{}, true
	}
	for i := range p.targets {
		if d, bad := c.checkShards(p.targets[i].t); bad {
			d.Write = p.write
			return d, true
		}
	}
	switch {
	case p.hint.hasKey && len(p.targets) > 0:
		return c.hintKey(p, ps), true
	case p.err != nil:
		d := *p.err
		d.Write = p.write
		return d, true
	}
	return Decision{}, false
}

// hintShard answers a pgdog_shard hint: its shard, when the host has it.
func (c *call) hintShard(p *plan) Decision {
	if p.hint.shard >= c.shards {
		return Decision{Kind: Error, Write: p.write, Code: sqlStateInvalidParameter,
			Message: fmt.Sprintf("vecshard: pgdog_shard: %d is out of range: the pooler has %d shards (0..%d); fix the hint", p.hint.shard, c.shards, c.shards-1)}
	}
	return Decision{Kind: Shard, Shard: p.hint.shard, Write: p.write}
}

// hintKey answers a pgdog_sharding_key hint: the shard of its value read
// as the first target's key.
func (c *call) hintKey(p *plan, ps []Param) Decision {
	t := p.targets[0].t
	v := valueSrc{kind: srcLit, lit: p.hint.key, text: "pgdog_sharding_key"}
	c.explainTarget(&p.targets[0], "pgdog_sharding_key")
	sh, err := c.value(ps, t, &v, false)
	if err != nil {
		err.Write = p.write
		return *err
	}
	if sh >= 0 {
		return Decision{Kind: Shard, Shard: sh, Write: p.write}
	}
	return Decision{Kind: Error, Write: p.write, Code: sqlStateInvalidParameter,
		Message: "vecshard: the pgdog_sharding_key hint has no usable value; write /* pgdog_sharding_key: V */ with V as " + t.Name + "." + t.KeyColumn() + " would be written"}
}

// A spread is where decide's targets went, as verdict needs it.
type spread struct {
	first, other   int     // the first shard, and the first one other than it; -1 if none
	firstT, otherT *target // the targets that went there
	anyAll         bool    // a target resolved to no single shard
	insert         bool    // a target creates rows
	grp            stmtGroup
}

func (sp *spread) add(tg *target, sh int) {
	sp.grp.add(tg, sh)
	sp.insert = sp.insert || tg.insert
	switch {
	case sh < 0:
		sp.anyAll = true
	case sp.first < 0:
		sp.first, sp.firstT = sh, tg
	case sh != sp.first && sp.other < 0:
		sp.other, sp.otherT = sh, tg
	}
}

// verdict is the statement's answer from where its targets went: their one
// shard; else a read goes to every shard, and so does a write unless that
// would be wrong (it writes on two shards, inserts, or writes rows found
// through another table: refused); a ranking the pooler cannot merge is
// refused either way.
func (c *call) verdict(p *plan, sp *spread) Decision {
	switch {
	case !sp.anyAll && sp.other < 0:
		return Decision{Kind: Shard, Shard: sp.first, Write: p.write, Warning: c.warn}
	case p.guard != nil && !p.write:
		return p.guard.refuseOthers(false, c.ex)
	case !p.write:
		return Decision{Kind: All}
	case sp.other >= 0:
		return Decision{Kind: Error, Write: true, Code: sqlStateFeatureNotSupported,
			Message: fmt.Sprintf("vecshard: the statement writes on shard %d (%s) and shard %d (%s); nothing was sent: split it into one statement per shard", sp.first, sp.firstT.ref, sp.other, sp.otherT.ref)}
	case sp.insert:
		return Decision{Kind: Error, Write: true, Code: sqlStateFeatureNotSupported,
			Message: "vecshard: the statement inserts rows on one shard and reads or writes another table on all shards; nothing was sent: split it into separate statements"}
	}
	if sp.grp.end(); sp.grp.bad != nil {
		return sp.grp.decision()
	}
	if p.guard != nil {
		return p.guard.refuseOthers(true, c.ex)
	}
	return Decision{Kind: All, Write: true}
}

// fastPlan is a plan whose decision follows from one bound parameter: one
// target, not an INSERT, with no vectors to check, keyed either by one
// condition key = $n or (a vector table) by a ranking ORDER BY key <-> $n
// ... LIMIT; no hint, nothing refused or unread. For such a plan, once
// that parameter is resolved, decide's answer is known: its shard, ALL
// when it has none (unless a ranking follows the condition), or its
// error. So the hot path resolves that parameter alone and skips the
// general walk. What fast leaves to decide (a NULL or missing parameter,
// LIMIT NULL, a ranking after the condition) it leaves before resolving
// anything, so that no vector is decoded twice.
type fastPlan struct {
	t          *Table
	v          *valueSrc // srcParam, its casts kept (castsKeep)
	order      bool      // v is the ranking's query vector
	more       bool      // a ranking follows v's condition (decide tries it when v does not pin a shard)
	limitParam int       // the ranking's LIMIT $n, 0 if none
	write      bool
	guard      *rankGuard // order: the pooler cannot merge the ranking (see target.guard)
}

// fastPlanOf returns p's fastPlan, or nil when p does not have that shape.
func fastPlanOf(p *plan) *fastPlan {
	if p.kind != planRoute || p.err != nil || p.unknown != "" || p.hint.shard >= 0 || p.hint.hasKey || len(p.targets) != 1 {
		return nil
	}
	tg := &p.targets[0]
	if tg.insert || len(tg.checks) > 0 || (tg.guard != nil && tg.order == nil) {
		return nil // a guarded reference without a ranking to resolve is refused: decide says why
	}
	f := &fastPlan{t: tg.t, write: p.write}
	switch {
	case len(tg.conds) == 1 && !tg.conds[0].array && len(tg.conds[0].vals) == 1:
		f.v, f.more = &tg.conds[0].vals[0], tg.order != nil
	case len(tg.conds) == 0 && tg.order != nil:
		f.v, f.order, f.limitParam, f.guard = tg.order, true, tg.limitParam, tg.guard
	default:
		return nil
	}
	if f.v.kind != srcParam || !castsKeep(f.t, f.v, f.order) {
		return nil
	}
	return f
}

// fast is decide for a fastPlan: the walk decide would take (target,
// anyOf or the ranking, value) reduced to what it does for one target and
// one parameter, through the same resolvers (idValue, vecValue), and
// decide's answer for one target: the shard, else ALL (a write to all
// shards when the statement writes), or the resolver's error. ok is false
// when decide must answer, in the cases fastPlan lists.
func (c *call) fast(f *fastPlan, ps []Param) (d Decision, ok bool) {
	if c.shards < 1 || !c.shardsMatch(f.t) || f.v.param >= len(ps) {
		return d, false
	}
	pv := ps[f.v.param]
	if pv.Data == nil {
		return d, false
	}
	if limitNull(f.limitParam, ps) {
		return d, false
	}
	var sh int
	var err *Decision
	if f.t.Key == KeyID {
		sh, err = c.idValue(f.t, f.v, pv.Data, pv.Binary)
	} else {
		sh, err = c.vecValue(f.t, f.v, pv.Data, pv.Binary, f.order)
	}
	switch {
	case err != nil:
		d = *err
		d.Write = f.write
		return d, true
	case sh >= 0:
		return Decision{Kind: Shard, Shard: sh, Write: f.write}, true
	case f.more:
		return d, false // decide tries the ranking (resolving v again: an id, or a rare vector key = $n)
	case f.guard != nil:
		if sh == vAll && c.near >= 0 {
			return Decision{Kind: Shard, Shard: c.near, Write: f.write, Warning: f.guard.warn}, true
		}
		return d, false // no usable query vector: decide refuses
	}
	return Decision{Kind: All, Write: f.write}, true
}

// limitNull reports whether a ranking's LIMIT $lp (lp, 0 when the LIMIT
// is not a parameter) is bound to NULL: no limit, so every row is asked
// for and the ranking needs every shard.
func limitNull(lp int, ps []Param) bool {
	return lp > 0 && lp <= len(ps) && ps[lp-1].Data == nil
}

// A stmtGroup follows the targets of one top-level statement through
// decide, to refuse an UPDATE, DELETE or MERGE sent to all shards whose
// statement also references another configured table (or the same one
// again): each shard would see only its own rows of that table, so the
// rows the write finds would depend on how the other table is split. A
// statement whose only configured table is its own target is fine on all
// shards.
type stmtGroup struct {
	stmt    int
	n       int     // targets seen
	all     bool    // one of them resolved to no single shard
	written *target // the first updated, deleted or merged target
	other   *target // the first target that is not written
	bad     *target // a cross-shard write found: its written target
	badWith *target // and the other one
}

func (g *stmtGroup) add(tg *target, sh int) {
	if g.n > 0 && tg.stmt != g.stmt {
		g.end()
		*g = stmtGroup{bad: g.bad, badWith: g.badWith}
	}
	g.stmt = tg.stmt
	g.n++
	g.all = g.all || sh < 0
	switch {
	case g.written == nil && tg.role.writesFound():
		g.written = tg
	case g.other == nil:
		g.other = tg
	}
}

// end closes the current statement.
func (g *stmtGroup) end() {
	if g.bad == nil && g.all && g.n >= 2 && g.written != nil && g.other != nil {
		g.bad, g.badWith = g.written, g.other
	}
}

func (g *stmtGroup) decision() Decision {
	w, o := g.bad, g.badWith
	return Decision{Kind: Error, Write: true, Code: sqlStateFeatureNotSupported,
		Message: fmt.Sprintf("vecshard: the statement writes %s (%s) on all shards and also uses %s (%s); nothing was sent: each shard would only see its own rows of %s, so the rows found would be wrong; give the tables' sharding keys values on one shard, or split the statement", w.t.Name, w.role, o.t.Name, o.ref, o.t.Name)}
}

// shardsMatch reports whether the configured shard counts that apply to t
// equal the host's: the snapshot's shards (0: not configured) and the
// count t's centroids were trained for (none for a bare set). It is the
// one home of that rule; checkShards says which count disagrees.
func (c *call) shardsMatch(t *Table) bool {
	return c.configShardsMatch() && c.centroidShardsMatch(t)
}

func (c *call) configShardsMatch() bool {
	return c.s.shards == 0 || c.s.shards == c.shards
}

func (c *call) centroidShardsMatch(t *Table) bool {
	return t.Set == nil || t.Set.Bare() || t.Set.Shards() == c.shards
}

// checkShards is shardsMatch with the client's error: bad is true, and d
// the error, when a configured shard count disagrees with the host's.
func (c *call) checkShards(t *Table) (d Decision, bad bool) {
	switch {
	case !c.configShardsMatch():
		return Decision{Kind: Error, Code: sqlStateConfigFileError,
			Message: fmt.Sprintf("vecshard: %s configures shards = %d but the pooler has %d shards; fix shards in %s (and the centroid files) to match the pooler", c.s.path, c.s.shards, c.shards, c.s.path)}, true
	case !c.centroidShardsMatch(t):
		return Decision{Kind: Error, Code: sqlStateConfigFileError,
			Message: fmt.Sprintf("vecshard: the centroids of %s (%s) are for %d shards but the pooler has %d shards; train centroids for %d shards or fix the pooler's shard count", t.Name, t.CentroidsPath, t.Set.Shards(), c.shards, c.shards)}, true
	}
	return Decision{}, false
}

// target resolves one table reference to a shard or vAll: an INSERT by
// its rows, anything else by the first key condition that pins one shard,
// else by its ranking.
func (c *call) target(tg *target, ps []Param) (int, *Decision) {
	if tg.insert {
		return c.insertRows(tg, ps)
	}
	if err := c.checkVectors(tg, ps); err != nil {
		return 0, err
	}
	if sh, err := c.keyConds(tg, ps); err != nil || sh >= 0 {
		return sh, err
	}
	if tg.order != nil {
		return c.ranking(tg, ps)
	}
	if g := tg.guard; g != nil && !c.unbound {
		return c.refused(tg, g, &g.block, tg.why)
	}
	return c.toAll(tg, tg.why), nil
}

// insertRows is the one shard of an INSERT's rows. Rows on several shards,
// a NULL key or a key the pooler cannot evaluate are refused: a row must
// be placed exactly.
func (c *call) insertRows(tg *target, ps []Param) (int, *Decision) {
	t := tg.t
	c.explainTarget(tg, "VALUES")
	first, firstRow := -1, 0
	for i := range tg.rows {
		sh, err := c.value(ps, t, &tg.rows[i], false)
		if err != nil {
			return 0, err
		}
		if c.unbound {
			return vAll, nil // decide answers NO_DECISION
		}
		switch {
		case sh == vNull:
			return 0, &Decision{Kind: Error, Code: sqlStateNotNull,
				Message: fmt.Sprintf("vecshard: INSERT into %s has a NULL sharding key %s in row %d, so the row cannot be placed on a shard; give every row a value for %s", t.Name, t.KeyColumn(), i+1, t.KeyColumn())}
		case sh < 0:
			return 0, &Decision{Kind: Error, Code: sqlStateFeatureNotSupported,
				Message: fmt.Sprintf("vecshard: INSERT into %s computes the sharding key %s of row %d with an expression the pooler cannot evaluate; send the value as a parameter or a literal", t.Name, t.KeyColumn(), i+1)}
		case first < 0:
			first, firstRow = sh, i
		case sh != first:
			return 0, &Decision{Kind: Error, Code: sqlStateFeatureNotSupported,
				Message: fmt.Sprintf("vecshard: INSERT into %s has rows for shard %d (row %d) and shard %d (row %d); nothing was sent: insert each shard's rows in a separate statement", t.Name, first, firstRow+1, sh, i+1)}
		}
	}
	c.explainShard(first)
	return first, nil
}

// checkVectors decodes the query vectors of distances that do not route
// (tg.checks) for their errors only, which the server would report too;
// Explain does not show them.
func (c *call) checkVectors(tg *target, ps []Param) *Decision {
	ex := c.ex
	c.ex = nil
	var err *Decision
	for i := 0; i < len(tg.checks) && err == nil; i++ {
		_, err = c.value(ps, tg.t, &tg.checks[i], true)
	}
	c.ex = ex
	return err
}

// keyConds is the shard of the first of tg's key conditions that pins one,
// else vAll.
func (c *call) keyConds(tg *target, ps []Param) (int, *Decision) {
	for i := range tg.conds {
		cd := &tg.conds[i]
		c.explainTarget(tg, cd.op)
		var sh int
		var err *Decision
		if cd.array {
			sh, err = c.array(ps, tg.t, &cd.vals[0])
		} else {
			sh, err = c.anyOf(ps, tg.t, cd.vals)
		}
		if err != nil {
			return 0, err
		}
		if sh >= 0 {
			c.explainShard(sh)
			return sh, nil
		}
	}
	return vAll, nil
}

// ranking resolves tg by the query vector of its ranking (ORDER BY
// distance ... LIMIT): the one shard of its top probes centroids, else
// every shard, or guarded's answer for a ranking the pooler cannot merge.
func (c *call) ranking(tg *target, ps []Param) (int, *Decision) {
	c.explainTarget(tg, tg.orderOp)
	c.near = vAll
	sh, err := c.value(ps, tg.t, tg.order, true)
	if err != nil {
		return 0, err
	}
	why, nullLimit := tg.why, false
	if limitNull(tg.limitParam, ps) {
		sh, why, nullLimit = vAll, whyNullLimit, true
	}
	switch g := tg.guard; {
	case sh >= 0:
		c.explainShard(sh)
		return sh, nil
	case g != nil && !c.unbound:
		return c.guarded(tg, g, sh, nullLimit)
	}
	return c.toAll(tg, why), nil
}

// toAll is vAll for tg, explained: why (or, when empty, the reason
// explainReason finds) tg needs every shard.
func (c *call) toAll(tg *target, why string) int {
	if c.ex != nil {
		if len(tg.conds) == 0 && tg.order == nil {
			c.explainTarget(tg, tg.orderOp)
		}
		c.explainReason(tg, why)
	}
	c.explainShard(vAll)
	return vAll
}

// guarded answers a ranking the pooler cannot merge that resolved to no
// single shard (sh, a sentinel): the nearest centroid's shard when its top
// probes centroids disagree, else a refusal.
func (c *call) guarded(tg *target, g *rankGuard, sh int, nullLimit bool) (int, *Decision) {
	switch {
	case nullLimit:
		return c.refused(tg, g, &g.nullLimit, whyNullLimit)
	case sh == vAll && c.near >= 0:
		c.warn = g.warn
		if c.ex != nil {
			c.explainShard(c.near)
			c.ex.Targets[len(c.ex.Targets)-1].Reason = "the query vector's nearest centroids are on several shards, and the pooler cannot merge this ORDER BY across shards (" + g.why + "): the nearest centroid's shard"
		}
		return c.near, nil
	}
	return c.refused(tg, g, &g.noVector, whyNoVector)
}

// refused is a guarded ranking's refusal d (a copy: the caller sets its
// Write), explained.
func (c *call) refused(tg *target, g *rankGuard, d *Decision, why string) (int, *Decision) {
	if c.ex != nil {
		if tg.order == nil {
			c.explainTarget(tg, tg.orderOp)
		}
		c.explainReason(tg, strings.TrimSuffix(why, ": ALL")+", and the pooler cannot merge this ORDER BY across shards ("+g.why+"): refused")
	}
	e := *d
	return 0, &e
}

// explainReason says why the last explained target goes to every shard.
func (c *call) explainReason(tg *target, why string) {
	if len(c.ex.Targets) == 0 {
		return
	}
	tx := &c.ex.Targets[len(c.ex.Targets)-1]
	if why == "" && tg.order != nil && len(tx.Values) > 0 {
		v := tx.Values[len(tx.Values)-1]
		switch {
		case v.Source == "expression":
			why = whyExpr
		case v.Err != "":
			why = "the query vector " + v.Source + " cannot be used to route (" + v.Err + "): ALL"
		case len(v.Centroids) > 1:
			why = fmt.Sprintf("probes = %d: the query vector's %d nearest centroids are on several shards: ALL", len(v.Centroids), len(v.Centroids))
		case v.Type == "":
			why = "the query vector is NULL: ALL"
		}
	}
	if why == "" {
		if len(tg.conds) > 0 {
			why = "the key conditions on " + tg.t.KeyColumn() + " do not pin one shard (values on several shards, NULL, or expressions): ALL"
		} else if tg.t.Key == KeyVector {
			why = "no key condition on " + tg.t.KeyColumn() + " and no ORDER BY distance to a query vector ... LIMIT: every shard holds rows of " + tg.t.Name + ": ALL"
		} else {
			why = "no key condition on " + tg.t.KeyColumn() + ": every shard holds rows of " + tg.t.Name + ": ALL"
		}
	}
	tx.Reason = why
}

// anyOf is the shard of key IN (vals): the one shard all non-NULL values
// map to, else vAll.
func (c *call) anyOf(ps []Param, t *Table, vals []valueSrc) (int, *Decision) {
	one := vAll
	for i := range vals {
		sh, err := c.value(ps, t, &vals[i], false)
		if err != nil {
			return 0, err
		}
		switch {
		case sh == vNull:
			continue // matches no row
		case sh < 0:
			return vAll, nil
		case one < 0:
			one = sh
		case sh != one:
			return vAll, nil
		}
	}
	return one, nil
}

// value resolves one key value of table t, a literal or one of the bound
// parameters ps, to its shard or a sentinel.
// order selects the ORDER BY rule (probes) for vector tables.
func (c *call) value(ps []Param, t *Table, v *valueSrc, order bool) (int, *Decision) {
	var data []byte
	binary := false
	if !castsKeep(t, v, order) {
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Shard: -1, Err: "a cast may change the value"})
		}
		return vUnusable, nil
	}
	switch v.kind {
	case srcUnusable:
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: "expression", Shard: -1})
		}
		return vUnusable, nil
	case srcNull:
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Shard: -1})
		}
		return vNull, nil
	case srcLit:
		if m := v.memo; m != nil && c.ex == nil {
			if m.err != nil {
				d := *m.err
				return 0, &d
			}
			if t.Key == KeyID {
				return idkey.Shard(m.key, c.shards), nil
			}
			if order && t.Probes > 1 {
				sh := c.topShard(t.Set, m.top)
				if sh == vAll {
					c.near = t.Set.ShardFor(m.near, c.shards)
				}
				return sh, nil
			}
			return t.Set.ShardFor(m.near, c.shards), nil
		}
		data = v.lit
	case srcParam:
		if v.param >= len(ps) {
			if len(ps) == 0 {
				c.unbound = true
				return vUnusable, nil
			}
			return 0, &Decision{Kind: Error, Code: SQLStateProtocolViolation,
				Message: fmt.Sprintf("vecshard: the statement uses $%d but only %d parameters were bound; bind a value for every parameter", v.param+1, len(ps))}
		}
		p := ps[v.param]
		if p.Data == nil {
			if c.ex != nil {
				c.explainValue(ValueExplanation{Source: v.text, Binary: p.Binary, Shard: -1})
			}
			return vNull, nil
		}
		data, binary = p.Data, p.Binary
	}
	if t.Key == KeyID {
		return c.idValue(t, v, data, binary)
	}
	return c.vecValue(t, v, data, binary, order)
}

// castsKeep reports whether v is a value the router reads as PostgreSQL
// does (not a numeric constant) and the casts on v leave the key value of t
// as the router reads it: every cast is to the key's own type family (or to
// unlimited text, which only carries the text the value is read from) and
// none of them may change the value.
//
// In a ranking (order) a halfvec cast is fine on any vector table: the
// server compares the rows with the rounded query vector, which is then
// the vector to route by, and a ranking needs no exact match.
func castsKeep(t *Table, v *valueSrc, order bool) bool {
	if v.lossy {
		return false
	}
	if v.casts == 0 {
		return true
	}
	allowed := uint16(1<<tcText | 1<<tcNone)
	switch {
	case t.Key == KeyVector && (t.VectorType == vecdecode.Halfvec || order):
		allowed |= 1<<tcVector | 1<<tcHalfvec | 1<<tcSparsevec
	case t.Key == KeyVector:
		// A halfvec anywhere in the chain rounds the value, and a column
		// of another type compared with a halfvec is compared as halfvec:
		// several stored rows may match.
		allowed |= 1<<tcVector | 1<<tcSparsevec
	case t.IDType == idkey.Bigint:
		allowed |= 1 << tcInt
	case t.IDType == idkey.UUID:
		allowed |= 1 << tcUUID
	}
	return v.casts&^allowed == 0
}

// An idReading is how a value of an id key is read, given its casts.
type idReading uint8

const (
	idNotAnID    idReading = iota // cast to a type that is not an id (a vector, another type): never routes
	idUnreadable                  // binary, sent as a type the router does not read as this id
	idText                        // read in the text format (binary text is its UTF-8 bytes)
	idBinary                      // read in the binary format, as sent
)

// readID tells how a value v of t's id key, in the binary format or not,
// is read: the one rule for the value reader (idValue), the literal memo
// and the kernel's eligibility (BigintKernel). A value cast to a type that
// is not an id is not one. A binary value is read as the type it is sent
// as: its own (no cast), text (the bytes of the text), or the key's type.
func readID(t *Table, v *valueSrc, binary bool) idReading {
	switch v.as {
	case tcVector, tcHalfvec, tcSparsevec, tcOther:
		return idNotAnID
	}
	if !binary {
		return idText
	}
	switch {
	case v.wire == tcNone,
		v.wire == tcInt && t.IDType == idkey.Bigint,
		v.wire == tcUUID && t.IDType == idkey.UUID:
		return idBinary
	case v.wire == tcText:
		return idText
	}
	return idUnreadable
}

func (c *call) idValue(t *Table, v *valueSrc, data []byte, binary bool) (int, *Decision) {
	switch readID(t, v, binary) {
	case idNotAnID:
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Shard: -1, Err: "not a " + t.IDType.String()})
		}
		return vUnusable, nil
	case idUnreadable:
		return vUnusable, nil
	case idText:
		binary = false
	}
	key, err := idkey.Key(t.IDType, binary, data)
	if err != nil {
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Type: t.IDType.String(), Shard: -1, Err: capQuoted(err.Error())})
		}
		return 0, decodeError(err, t, v)
	}
	sh := idkey.Shard(key, c.shards)
	if c.ex != nil {
		c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Type: t.IDType.String(), JumpKey: key, Shard: sh})
	}
	return sh, nil
}

func vecType(tc tclass, dflt vecdecode.Type) (vecdecode.Type, bool) {
	switch tc {
	case tcNone:
		return dflt, true
	case tcVector:
		return vecdecode.Vector, true
	case tcHalfvec:
		return vecdecode.Halfvec, true
	case tcSparsevec:
		return vecdecode.Sparsevec, true
	}
	return 0, false
}

// vecKey is a decoded vector key and its best centroids.
type vecKey struct {
	typ    vecdecode.Type
	binary bool  // decoded from the binary format
	dim    int   // decoded dimension
	top    []int // best centroids, best first; in the call's scratch
}

// vecValue resolves a vector key of t to its shard: its nearest centroid's,
// or under order with probes > 1 the one shard of its top t.Probes
// centroids, else vAll.
func (c *call) vecValue(t *Table, v *valueSrc, data []byte, binary bool, order bool) (int, *Decision) {
	k, ok, err := c.vecTop(t, v, data, binary, order)
	if err != nil || !ok {
		return vUnusable, err
	}
	sh := c.topShard(t.Set, k.top)
	if sh == vAll {
		c.near = t.Set.ShardFor(k.top[0], c.shards)
	}
	if c.ex != nil {
		ve := ValueExplanation{Source: v.text, Binary: k.binary, Type: k.typ.String(), Dim: k.dim,
			Centroids: append([]int(nil), k.top...), Scores: make([]float32, len(k.top)), Shard: sh}
		sc := c.scratch()
		for i, cent := range k.top {
			if k.typ == vecdecode.Sparsevec {
				ve.Scores[i] = t.Set.ScoreSparse(sc.sp.Indices, sc.sp.Values, cent)
			} else {
				ve.Scores[i] = t.Set.Score(sc.vec, cent)
			}
		}
		c.explainValue(ve)
	}
	return sh, nil
}

// topShard is the one shard the centroids top map to under the host's
// shard count, or vAll if they map to several (or top is empty, which
// cannot happen after vecTop's dimension check: never guess).
func (c *call) topShard(set *centroids.Set, top []int) int {
	sh := vAll
	for i, cent := range top {
		s := set.ShardFor(cent, c.shards)
		if s < 0 {
			return vAll
		}
		if i == 0 {
			sh = s
		} else if s != sh {
			return vAll
		}
	}
	return sh
}

// vecTop decodes the vector key data of t into the call's scratch and
// finds its best centroids: the nearest one, or under order the top
// t.Probes. ok is false (and the error nil) when the value is not a vector
// the router can read.
func (c *call) vecTop(t *Table, v *valueSrc, data []byte, binary bool, order bool) (k vecKey, ok bool, _ *Decision) {
	typ, ok := vecType(v.as, t.VectorType)
	if !ok {
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Shard: -1, Err: "not a vector"})
		}
		return k, false, nil
	}
	if binary {
		switch v.wire {
		case tcNone:
		case tcText:
			binary = false
		default:
			if typ, ok = vecType(v.wire, t.VectorType); !ok {
				return k, false, nil
			}
		}
		if typ != vecdecode.Sparsevec {
			typ = sniffDense(data, typ)
		}
	}
	sc := c.scratch()
	set := t.Set
	var dim int
	var err error
	if typ == vecdecode.Sparsevec {
		if binary {
			err = vecdecode.SparsevecBinary(&sc.sp, data)
		} else {
			err = vecdecode.SparsevecText(&sc.sp, data)
		}
		dim = sc.sp.Dim
	} else {
		sc.vec, err = vecdecode.Dense(typ, binary, sc.vec[:0], data)
		dim = len(sc.vec)
		// A halfvec column stores the value rounded to binary16, whatever
		// type it was sent as: place and find it by the rounded value.
		if err == nil && typ != vecdecode.Halfvec && t.VectorType == vecdecode.Halfvec && !vecdecode.RoundHalf(sc.vec) {
			if c.ex != nil {
				c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Type: typ.String(), Shard: -1, Err: "out of halfvec range"})
			}
			return k, false, nil
		}
	}
	if err != nil {
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Type: typ.String(), Shard: -1, Err: capQuoted(err.Error())})
		}
		return k, false, decodeError(err, t, v)
	}
	if dim != set.Dim() {
		if c.ex != nil {
			c.explainValue(ValueExplanation{Source: v.text, Binary: binary, Type: typ.String(), Dim: dim, Shard: -1, Err: "dimension mismatch"})
		}
		return k, false, &Decision{Kind: Error, Code: sqlStateDataException,
			Message: fmt.Sprintf("expected %d dimensions, not %d", set.Dim(), dim),
			Detail:  fmt.Sprintf("vecshard routes %s by its %d-dimensional centroids; send %s values of %d dimensions", t.Name, set.Dim(), t.VectorColumn, set.Dim())}
	}
	k = vecKey{typ: typ, binary: binary, dim: dim}
	if !order || t.Probes == 1 {
		var cent int
		if typ == vecdecode.Sparsevec {
			cent, _ = set.NearestSparse(sc.sp.Indices, sc.sp.Values)
		} else {
			cent, _ = set.Nearest(sc.vec)
		}
		sc.top = append(sc.top[:0], cent)
	} else {
		if cap(sc.top) < t.Probes {
			sc.top = make([]int, 0, t.Probes)
		}
		if typ == vecdecode.Sparsevec {
			sc.top = set.TopPSparse(sc.sp.Indices, sc.sp.Values, t.Probes, sc.top[:0])
		} else {
			sc.top = set.TopP(sc.vec, t.Probes, sc.top[:0])
		}
	}
	k.top = sc.top
	return k, true, nil
}

// decodeError turns a decoder's error into the client's error: the
// decoder's SQLSTATE and message (the server's words), and where the value
// came from in the detail.
func decodeError(err error, t *Table, v *valueSrc) *Decision {
	code, msg, detail := sqlStateInvalidText, err.Error(), ""
	var ve *vecdecode.Error
	var ie *idkey.Error
	switch {
	case errors.As(err, &ve):
		code, msg, detail = ve.Code, ve.Msg, ve.Detail
		if detail != "" {
			detail += "; "
		}
		detail += ve.Type.String() + " input, byte " + strconv.Itoa(ve.Offset) + "; "
	case errors.As(err, &ie):
		code, msg = ie.Code, ie.Msg
	}
	msg = capQuoted(msg)
	src := v.text
	if src == "" {
		src = "a value"
	}
	return &Decision{Kind: Error, Code: code, Message: msg,
		Detail: detail + "vecshard could not read " + src + " as " + t.Name + "." + t.KeyColumn() + " to route the statement; send a valid value"}
}

// Explain helpers: no-ops (one nil check) on the routing path.

func (c *call) explainTarget(tg *target, match string) {
	if c.ex == nil {
		return
	}
	c.ex.Targets = append(c.ex.Targets, TargetExplanation{Table: tg.t.Name, Ref: tg.ref, Role: tg.role.String(),
		Key: tg.t.Key.String(), Column: tg.t.KeyColumn(), Match: match, Shard: -1})
}

func (c *call) explainValue(v ValueExplanation) {
	if c.ex == nil || len(c.ex.Targets) == 0 {
		return
	}
	tx := &c.ex.Targets[len(c.ex.Targets)-1]
	tx.Values = append(tx.Values, v)
}

func (c *call) explainShard(sh int) {
	if c.ex == nil || len(c.ex.Targets) == 0 {
		return
	}
	if sh < 0 {
		sh = -1
	}
	c.ex.Targets[len(c.ex.Targets)-1].Shard = sh
}

// memoize resolves the plan's literal keys once (see litMemo).
func (s *Snapshot) memoize(p *plan) {
	c := call{s: s, shards: 1}
	defer func() {
		if c.sc != nil {
			s.pool.Put(c.sc)
		}
	}()
	memo := func(t *Table, v *valueSrc) {
		if v.kind != srcLit {
			return
		}
		m := &litMemo{}
		if t.Key == KeyID {
			if readID(t, v, false) == idNotAnID {
				return // not an id: value() says so every time, cheaply
			}
			key, err := idkey.Key(t.IDType, false, v.lit)
			if err != nil {
				m.err = decodeError(err, t, v)
			}
			m.key = key
		} else {
			k, ok, err := c.vecTop(t, v, v.lit, false, false)
			switch {
			case err != nil:
				m.err = err
			case !ok:
				return // not a vector: value() says so every time, cheaply
			default:
				m.near = k.top[0]
			}
			if err == nil && t.Probes > 1 {
				if k, _, _ = c.vecTop(t, v, v.lit, false, true); len(k.top) > 0 {
					m.top = append([]int(nil), k.top...)
				}
			}
		}
		v.memo = m
	}
	for i := range p.targets {
		tg := &p.targets[i]
		for j := range tg.rows {
			memo(tg.t, &tg.rows[j])
		}
		for j := range tg.conds {
			if tg.conds[j].array {
				continue
			}
			for k := range tg.conds[j].vals {
				memo(tg.t, &tg.conds[j].vals[k])
			}
		}
		if tg.order != nil {
			memo(tg.t, tg.order)
		}
		for j := range tg.checks {
			memo(tg.t, &tg.checks[j])
		}
	}
}

// sniffDense tells a binary vector from a binary halfvec by its length
// (both start with the dimension d; vector then has 4-byte elements,
// halfvec 2-byte ones). A client may declare either type for a parameter
// the server then casts (pgvector casts vector to halfvec implicitly, and
// halfvec to vector on assignment), and the server accepts the bytes only
// when they fit the declared type, so the length decides. A length that
// fits neither keeps typ, and the decoder reports it.
func sniffDense(data []byte, typ vecdecode.Type) vecdecode.Type {
	if len(data) < 4 {
		return typ
	}
	d := int(data[0])<<8 | int(data[1])
	switch len(data) {
	case 4 + 4*d:
		return vecdecode.Vector
	case 4 + 2*d:
		return vecdecode.Halfvec
	}
	return typ
}

// maxQuoted is how much of a bad value an error message quotes.
const maxQuoted = 64

// capQuoted shortens the value a decoder's message quotes (the server's
// messages quote the whole input: invalid input syntax for type vector:
// "...") to its first maxQuoted bytes, and says so, so that a huge bad
// parameter does not become a huge message the C ABI keeps for the life of
// the process.
func capQuoted(msg string) string {
	i, j := strings.IndexByte(msg, '"'), strings.LastIndexByte(msg, '"')
	if i < 0 || j-i-1 <= maxQuoted {
		return msg
	}
	v := msg[i+1 : j]
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return msg[:i+1] + v[:cut] + `..."` + msg[j+1:] + " (the value has " + strconv.Itoa(len(v)) + " bytes; vecshard quotes the first " + strconv.Itoa(cut) + ")"
}
