package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/spf13/cobra"
	"github.com/vecshard/vecshard/cmd/internal/cli"
	"io"
	"regexp"
	"strconv"
	"strings"

	pgvector "github.com/pgvector/pgvector-go"

	"github.com/vecshard/vecshard/idkey"
	"github.com/vecshard/vecshard/internal/vecbin"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/vecdecode"
)

// explainOptions are the flags of vecshard explain.
type explainOptions struct {
	configFlags
	params []string
	binary bool
	pooler string
}

// The poolers explain can route for (--pooler): whose merge rules decide
// what a ranking that needs several shards is answered.
const (
	poolerPgDog = "pgdog" // PgDog v0.1.54, the vtable library (libvecshard.so)
	poolerC2025 = "c2025" // the PgDog of January 2025, the C ABI library: merge rules not known
)

// poolerOption is the router option of --pooler.
func (o *explainOptions) poolerOption() (router.Option, error) {
	switch o.pooler {
	case poolerPgDog:
		return router.WithHost(router.PgDog), nil
	case poolerC2025:
		return router.WithHost(nil), nil
	}
	return nil, cli.Usagef("--pooler %q: want %s (PgDog v0.1.54, libvecshard.so) or %s (the January 2025 C ABI, libvecshard_c2025.so)", o.pooler, poolerPgDog, poolerC2025)
}

func newExplainCmd() *cobra.Command {
	var o explainOptions
	c := &cobra.Command{
		Use:   "explain --config FILE [--shards N] SQL [--param VALUE ...] [--binary]",
		Short: "Show the plugin's decision for one statement, and why",
		Long: `explain prints the decision the plugin would take for one statement (a
shard, ALL, no decision or an error; READ or WRITE) and why: which configured
table, which key column, which value, the nearest centroids or the jump-hash
key.

Parameters ($1, $2, ...) are given in order with --param, as text. An empty
--param '' is SQL NULL (the plugin cannot tell NULL from an empty value).
With --binary they are sent the way a binary-format client sends them:
vectors and sparse vectors as pgvector-go's EncodeBinary writes them,
halfvec as pgvector-go's pgx codec writes it, bigint ids as a big-endian
int8 (int2/int4 when the SQL casts to them), uuids as their 16 bytes, text
as its bytes. A parameter's type comes from the router's own reading of the
statement (the key column it feeds) or from a cast in the SQL ($1::vector);
parameters of unknown type stay text. Flags may come before or after the
SQL. --shards defaults to the configuration's shards.

--pooler says which library's answer to show: pgdog (default: PgDog v0.1.54
through libvecshard.so, whose merge rules decide what a ranking needing
several shards gets; see docs/ROUTING.md, "Rankings across shards") or
c2025 (the January 2025 C ABI library, which sends such rankings to ALL).`,
		Example: `  vecshard explain --config vecshard.toml \
    "SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT 10" --param '[0.1,0.2,0.3]' --binary`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one SQL statement, got %d arguments (quote the SQL; see %s --help)", len(args), c.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return o.run(c, c.OutOrStdout(), args[0])
		},
	}
	fs := c.Flags()
	o.register(fs, "the pooler's shard count `N` (default: the configuration's shards)")
	fs.StringArrayVarP(&o.params, "param", "p", nil, "the `VALUE` of the next parameter, as text (repeat for $1, $2, ...)")
	fs.BoolVar(&o.binary, "binary", false, "send the parameters in binary format")
	fs.StringVar(&o.pooler, "pooler", poolerPgDog, "route as the library for `POOLER` does: pgdog (v0.1.54, vtable ABI) or c2025 (January 2025 C ABI)")
	return c
}

func (o *explainOptions) run(c *cobra.Command, stdout io.Writer, query string) error {
	host, err := o.poolerOption()
	if err != nil {
		return err
	}
	snap, err := o.load(c, host)
	if ue := (*cli.UsageError)(nil); errors.As(err, &ue) {
		return err
	}
	if err != nil {
		fmt.Fprintf(stdout, "problem: %v\n", err)
		fmt.Fprintln(stdout, "decision: NO_DECISION (the plugin answers NO_DECISION to everything when its configuration does not load)")
		return &cli.ProblemError{Err: err}
	}
	shards := o.hostShards(snap)
	if shards == 0 {
		return cli.Usagef("--shards is required: %s sets no shards, so give the pooler's shard count", o.config)
	}
	r := router.New(snap)
	params := o.params

	ps := make([]router.Param, len(params))
	for i, p := range params {
		if p != "" { // --param '' is SQL NULL, as the C ABI passes it
			ps[i] = router.Param{Data: []byte(p)}
		}
	}
	if err := missingParams(r, query, ps, shards); err != nil {
		return err
	}
	var notes []string
	if o.binary && len(ps) > 0 {
		// Learn each parameter's type from the router's reading of the
		// statement, then encode and route again.
		_, ex := r.Explain(query, ps, shards)
		ps, notes = encodeBinary(query, params, ex)
	}
	d, ex := r.Explain(query, ps, shards)
	printExplanation(stdout, d, ex, ps, notes, snap, shards)
	return nil
}

// missingParams reports parameters the statement uses but no --param
// gave. The router answers such a statement as the plugin would (no
// decision, or an error), which on the command line reads as if it were the
// answer for the statement; say plainly what is missing instead.
func missingParams(r *router.Router, query string, ps []router.Param, shards int) error {
	d, ex := r.Explain(query, ps, shards)
	unbound := len(ps) == 0 && strings.Contains(ex.Note, "none were bound")
	if !unbound && !(d.Kind == router.Error && d.Code == router.SQLStateProtocolViolation) {
		return nil
	}
	n := 0
	for _, m := range paramRE.FindAllStringSubmatch(query, -1) {
		k, _ := strconv.Atoi(m[1])
		n = max(n, k)
	}
	var keys []string
	for _, tg := range ex.Targets {
		if tg.Match != "" {
			keys = append(keys, fmt.Sprintf("%s.%s from %s", tg.Table, tg.Column, tg.Match))
		}
	}
	key := ""
	if len(keys) > 0 {
		key = "; the key is " + strings.Join(keys, ", ")
	}
	uses := "$1"
	if n > 1 {
		uses = fmt.Sprintf("$1..$%d", n)
	}
	return cli.Usagef("the statement uses %s but %d --param given: give --param VALUE for each, in order (--param '' is NULL)%s", uses, len(ps), key)
}

// paramRE finds parameter references $n in SQL.
var paramRE = regexp.MustCompile(`\$([0-9]+)`)

// castRE finds $n::type casts in SQL. Good enough to pick an encoding for
// a parameter the router does not read; the router itself parses the SQL.
var castRE = regexp.MustCompile(`\$([0-9]+)\s*::\s*"?([A-Za-z_][A-Za-z0-9_.]*)`)

var paramSourceRE = regexp.MustCompile(`^\$([0-9]+)`)

// encodeBinary encodes the text parameters in binary format, each by the
// type the router decoded it as, else by its cast in the SQL; parameters of
// unknown type stay text. notes says what was done to each.
func encodeBinary(query string, params []string, ex router.Explanation) ([]router.Param, []string) {
	types := map[int]string{}
	for _, m := range castRE.FindAllStringSubmatch(query, -1) {
		n, _ := strconv.Atoi(m[1])
		types[n] = strings.ToLower(m[2])
	}
	casts := map[int]string{}
	for n, t := range types {
		casts[n] = t
	}
	for _, tg := range ex.Targets {
		for _, v := range tg.Values {
			m := paramSourceRE.FindStringSubmatch(v.Source)
			if m == nil || v.Type == "" {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			types[n] = v.Type
		}
	}
	ps := make([]router.Param, len(params))
	notes := make([]string, len(params))
	for i, text := range params {
		n := i + 1
		ps[i] = router.Param{Data: []byte(text)}
		if text == "" {
			notes[i] = "NULL"
			continue
		}
		typ, ok := types[n]
		if !ok {
			notes[i] = "text (type unknown: add a cast such as $" + strconv.Itoa(n) + "::bigint to send it in binary)"
			continue
		}
		data, err := encodeParam(typ, casts[n], text)
		if err != nil {
			notes[i] = fmt.Sprintf("text (cannot encode as binary %s: %v)", typ, err)
			continue
		}
		ps[i] = router.Param{Data: data, Binary: true}
		notes[i] = fmt.Sprintf("binary %s, %d bytes", typ, len(data))
	}
	return ps, notes
}

// encodeParam returns the binary form of text as type typ (cast: the SQL's
// cast on the parameter, which picks the integer width).
func encodeParam(typ, cast, text string) ([]byte, error) {
	switch typ {
	case "vector":
		v, err := vecdecode.VectorText(nil, []byte(text))
		if err != nil {
			return nil, err
		}
		return pgvector.NewVector(v).EncodeBinary(nil)
	case "sparsevec":
		var s vecdecode.Sparse
		if err := vecdecode.SparsevecText(&s, []byte(text)); err != nil {
			return nil, err
		}
		m := make(map[int32]float32, len(s.Indices))
		for i, ix := range s.Indices {
			m[ix] = s.Values[i]
		}
		return pgvector.NewSparseVectorFromMap(m, int32(s.Dim)).EncodeBinary(nil)
	case "halfvec":
		// The server's rounding (decimal -> float32 -> binary16), then the
		// binary form pgvector-go's pgx codec sends: int16 dim, int16 0,
		// dim x binary16.
		v, err := vecdecode.HalfvecText(nil, []byte(text))
		if err != nil {
			return nil, err
		}
		return vecbin.Halfvec(v...), nil
	case "bigint", "int8", "int4", "integer", "int", "int2", "smallint":
		v, err := idkey.ParseBigint([]byte(text))
		if err != nil {
			return nil, err
		}
		switch cast {
		case "int2", "smallint":
			if v != int64(int16(v)) {
				return nil, fmt.Errorf("%d does not fit the cast's smallint", v)
			}
			return binary.BigEndian.AppendUint16(nil, uint16(v)), nil
		case "int4", "integer", "int":
			if v != int64(int32(v)) {
				return nil, fmt.Errorf("%d does not fit the cast's integer", v)
			}
			return binary.BigEndian.AppendUint32(nil, uint32(v)), nil
		}
		return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
	case "uuid":
		u, err := idkey.ParseUUID([]byte(text))
		if err != nil {
			return nil, err
		}
		return u[:], nil
	case "text", "varchar", "character varying":
		return []byte(text), nil
	}
	return nil, fmt.Errorf("unsupported type %q", typ)
}

func printExplanation(w io.Writer, d router.Decision, ex router.Explanation, ps []router.Param, notes []string, snap *router.Snapshot, shards int) {
	rw := "READ"
	if ex.Write {
		rw = "WRITE"
	}
	if ex.Statement != "" {
		// ex.Cached is not shown: a fresh process has an empty plan cache.
		fmt.Fprintf(w, "statement: %s (%s)\n", ex.Statement, rw)
	}
	for i, p := range ps {
		format := "text"
		if p.Binary {
			format = "binary"
		}
		line := fmt.Sprintf("param $%d: %s", i+1, format)
		if notes != nil && notes[i] != "" {
			line = fmt.Sprintf("param $%d: %s", i+1, notes[i])
		} else if len(p.Data) == 0 {
			line += " (NULL)"
		}
		fmt.Fprintln(w, line)
	}
	if ex.Hint != "" {
		fmt.Fprintf(w, "hint: /* %s */ decides\n", ex.Hint)
	}
	for _, tg := range ex.Targets {
		fmt.Fprintf(w, "table %s", tg.Table)
		if tg.Ref != "" && tg.Ref != tg.Table {
			fmt.Fprintf(w, " (referenced as %s)", tg.Ref)
		}
		fmt.Fprintf(w, ": %s, key %s column %s", tg.Role, tg.Key, tg.Column)
		if tg.Match != "" {
			fmt.Fprintf(w, ", key from %s", tg.Match)
		} else {
			fmt.Fprint(w, ", no usable key")
		}
		switch {
		case ex.Hint != "":
			fmt.Fprintln(w) // the hint decides, not the table
		case d.Kind == router.Error && tg.Shard < 0:
			fmt.Fprintln(w, " -> no shard")
		default:
			fmt.Fprintf(w, " -> %s\n", shardText(tg.Shard))
		}
		var t *router.Table
		for _, ct := range snap.Tables() {
			if ct.Name == tg.Table {
				t = ct
			}
		}
		for _, v := range tg.Values {
			printValue(w, v, t, shards)
		}
		if tg.Reason != "" && tg.Reason != ex.Note {
			fmt.Fprintf(w, "  why: %s\n", tg.Reason)
		}
	}
	if ex.Note != "" {
		fmt.Fprintf(w, "note: %s\n", ex.Note)
	}
	if d.Warning != "" {
		// The plugin logs it (rate-limited) as a warning.
		fmt.Fprintf(w, "warning: %s\n", strings.TrimPrefix(d.Warning, "vecshard: "))
	}
	switch d.Kind {
	case router.Shard:
		fmt.Fprintf(w, "decision: SHARD %d, %s\n", d.Shard, rwOf(d))
	case router.All:
		fmt.Fprintf(w, "decision: ALL, %s\n", rwOf(d))
	case router.Error:
		// The plugin's messages start with "vecshard: " for PgDog's log;
		// here the command's own output says whose they are.
		fmt.Fprintf(w, "decision: ERROR %s, %s: %s\n", d.Code, rwOf(d), strings.TrimPrefix(d.Message, "vecshard: "))
		if strings.TrimSpace(d.Detail) != "" {
			fmt.Fprintf(w, "detail: %s\n", d.Detail)
		}
	default:
		fmt.Fprintln(w, "decision: NO_DECISION (PgDog or the next plugin decides)")
	}
}

func rwOf(d router.Decision) string {
	if d.Write {
		return "WRITE"
	}
	return "READ"
}

func shardText(s int) string {
	if s < 0 {
		return "ALL"
	}
	return "shard " + strconv.Itoa(s)
}

// printValue prints one key value: where it came from, how it decoded and
// where it led under a pooler of shards shards.
func printValue(w io.Writer, v router.ValueExplanation, t *router.Table, shards int) {
	fmt.Fprintf(w, "  value %s", v.Source)
	if v.Binary {
		fmt.Fprint(w, " (binary)")
	}
	switch {
	case v.Err != "":
		fmt.Fprintf(w, ": %s: %s\n", orUnknown(v.Type), v.Err)
		return
	case v.Source == "expression":
		fmt.Fprintln(w, " (a subquery, function call or column, not a constant or parameter): the router cannot know its value, so it gives no shard")
		return
	case v.Type == "" && v.Source == "NULL":
		fmt.Fprintln(w, ": a NULL key gives no shard")
		return
	case v.Type == "":
		fmt.Fprintln(w, ": NULL (--param ''): a NULL key gives no shard")
		return
	}
	if v.Dim > 0 {
		fmt.Fprintf(w, ": %s of %d dimensions", v.Type, v.Dim)
		if len(v.Centroids) > 0 {
			fmt.Fprint(w, "; nearest centroids:")
			for i, c := range v.Centroids {
				fmt.Fprintf(w, " #%d", c)
				if i < len(v.Scores) {
					fmt.Fprintf(w, " (%s %.6g)", scoreName(t), v.Scores[i])
				}
				if t != nil && t.Set != nil {
					// A bare centroid file maps by the pooler's count.
					fmt.Fprintf(w, " on shard %d", t.Set.ShardFor(c, shards))
				}
				if i < len(v.Centroids)-1 {
					fmt.Fprint(w, ",")
				}
			}
		}
	} else {
		fmt.Fprintf(w, ": %s, jump-hash key %#016x", v.Type, v.JumpKey)
	}
	fmt.Fprintf(w, " -> %s\n", shardText(v.Shard))
}

func orUnknown(s string) string {
	if s == "" {
		return "value"
	}
	return s
}

// scoreName names a similarity in the table's metric.
func scoreName(t *router.Table) string {
	if t == nil {
		return "score"
	}
	switch t.Metric.String() {
	case "cosine":
		return "cosine similarity"
	case "l2":
		return "negative squared L2 distance"
	case "inner_product":
		return "inner product"
	}
	return "score"
}
