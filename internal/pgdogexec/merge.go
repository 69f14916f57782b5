package pgdogexec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vecshard/vecshard/vecdecode"
)

// merge combines the shards' results of an All route on a table PgDog
// knows, as PgDog v0.1.54 does (C/multi_shard/mod.rs, C/buffer.rs):
//   - writes: the row counts summed, RETURNING rows concatenated;
//   - reads: rows stream from every shard unless PgDog buffers, which it
//     does only for a sortable ORDER BY, aggregates, DISTINCT or OFFSET; so
//     LIMIT alone is never applied across shards;
//   - buffered: aggregates count/sum/min/max merged (avg and the others
//     return one row per shard), DISTINCT removes duplicate rows, the rows
//     are sorted by the keys PgDog can sort on, then LIMIT is applied.
func merge(st *stmt, r Request, results []*pgconn.Result, res *Result) error {
	var n int64
	for _, x := range results {
		// pgconn records a result's fields only when it has rows.
		if res.Fields == nil {
			res.Fields = x.FieldDescriptions
		}
		res.Rows = append(res.Rows, x.Rows...)
		n += x.CommandTag.RowsAffected()
	}
	if st.kind != "select" {
		res.Tag = tagWithCount(results[0].CommandTag, n)
		return nil
	}
	buffered := st.sortable() || st.hasAggregate() || st.distinct || st.offset
	if buffered && st.offset {
		// PgDog rewrites OFFSET m LIMIT n to LIMIT n+m on each shard.
		return fmt.Errorf("%w: OFFSET on an All route", ErrNotEmulated)
	}
	if buffered && st.hasAggregate() {
		if st.groupBy {
			return fmt.Errorf("%w: GROUP BY on an All route", ErrNotEmulated)
		}
		if rows, ok := mergeAggregates(st, res.Fields, res.Rows); ok {
			res.Rows = rows
		}
	}
	if buffered && st.distinct {
		res.Rows = distinctRows(res.Rows)
	}
	if st.sortable() {
		if err := sortRows(st, r, res.Fields, res.Rows); err != nil {
			return err
		}
	}
	if buffered {
		if lim, ok, err := limitOf(st, r); err != nil {
			return err
		} else if ok && int64(len(res.Rows)) > lim {
			res.Rows = res.Rows[:lim]
		}
	}
	res.Tag = pgconn.NewCommandTag(fmt.Sprintf("SELECT %d", len(res.Rows)))
	return nil
}

func tagWithCount(t pgconn.CommandTag, n int64) pgconn.CommandTag {
	s := t.String()
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		s = s[:i+1] + strconv.FormatInt(n, 10)
	}
	return pgconn.NewCommandTag(s)
}

// mergeAggregates folds one row per shard into one when every target is
// count, sum, min or max; otherwise PgDog returns the rows as they are.
func mergeAggregates(st *stmt, fields []pgconn.FieldDescription, rows [][][]byte) ([][][]byte, bool) {
	if len(rows) == 0 || len(st.aggs) != len(fields) {
		return rows, false
	}
	for _, a := range st.aggs {
		if a != "count" && a != "sum" && a != "min" && a != "max" {
			return rows, false
		}
	}
	out := slices.Clone(rows[0])
	for _, row := range rows[1:] {
		for i, a := range st.aggs {
			f := fields[i]
			switch {
			case row[i] == nil:
			case out[i] == nil:
				out[i] = row[i]
			case a == "count" || a == "sum":
				out[i] = addValues(f, out[i], row[i])
			case a == "min" && compareValues(f, row[i], out[i]) < 0,
				a == "max" && compareValues(f, row[i], out[i]) > 0:
				out[i] = row[i]
			}
		}
	}
	return [][][]byte{out}, true
}

func distinctRows(rows [][][]byte) [][][]byte {
	seen := map[string]bool{}
	var out [][][]byte
	for _, r := range rows {
		var k strings.Builder
		for _, v := range r {
			if v == nil {
				k.WriteString("\x00N")
			} else {
				fmt.Fprintf(&k, "\x00%d:%s", len(v), v)
			}
		}
		if !seen[k.String()] {
			seen[k.String()] = true
			out = append(out, r)
		}
	}
	return out
}

// sortRows sorts by the keys PgDog can resolve (R/order_by.rs, C/buffer.rs):
// a position; a column name found in the RowDescription; `col <-> q`, by an
// L2 distance PgDog computes, ascending, only when col is returned in text.
// Other keys are ignored, NULLS FIRST/LAST too (NULLs sort last here: a
// guess, no test depends on it).
func sortRows(st *stmt, r Request, fields []pgconn.FieldDescription, rows [][][]byte) error {
	type key struct {
		col  int
		desc bool
		q    []float32 // byL2
	}
	var keys []key
	for _, k := range st.order {
		switch k.form {
		case byPosition:
			if k.pos >= 1 && k.pos <= len(fields) {
				keys = append(keys, key{col: k.pos - 1, desc: k.desc})
			}
		case byName:
			if i := fieldIndex(fields, k.name); i >= 0 {
				keys = append(keys, key{col: i, desc: k.desc})
			}
		case byL2:
			i := fieldIndex(fields, k.name)
			if i < 0 || fields[i].Format != 0 {
				continue
			}
			lit := k.vecLit
			if k.vecArg > 0 {
				if k.vecArg > len(r.Params) || r.Params[k.vecArg-1] == nil {
					continue
				}
				if paramFormat(r.Formats, k.vecArg-1) == 1 {
					// PgDog reads a binary vector without pgvector's
					// 4-byte header and its length assertion fails
					// (pgdog-vector).
					return ErrPgDogPanics
				}
				lit = string(r.Params[k.vecArg-1])
			}
			q, err := vecdecode.ParseVector(lit)
			if err != nil {
				return fmt.Errorf("pgdogexec: ORDER BY %s <-> %q: %w", k.name, lit, err)
			}
			keys = append(keys, key{col: i, q: q})
		}
	}
	dist := func(row [][]byte, k key) float64 {
		v, err := vecdecode.VectorText(nil, row[k.col])
		if err != nil || len(v) != len(k.q) {
			return math.Inf(1)
		}
		var s float64
		for j := range v {
			d := float64(v[j]) - float64(k.q[j])
			s += d * d
		}
		return s
	}
	slices.SortStableFunc(rows, func(a, b [][]byte) int {
		for _, k := range keys {
			var c int
			switch {
			case k.q != nil:
				c = cmp.Compare(dist(a, k), dist(b, k))
			case a[k.col] == nil || b[k.col] == nil:
				c = boolInt(a[k.col] == nil) - boolInt(b[k.col] == nil)
			default:
				c = compareValues(fields[k.col], a[k.col], b[k.col])
				if k.desc {
					c = -c
				}
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}

func fieldIndex(fields []pgconn.FieldDescription, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// paramFormat applies Bind's rules: no codes all text, one code all.
func paramFormat(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return 0
	case 1:
		return codes[0]
	}
	if i < len(codes) {
		return codes[i]
	}
	return 0
}

func limitOf(st *stmt, r Request) (int64, bool, error) {
	if st.limit != nil {
		return *st.limit, true, nil
	}
	if st.limitArg == 0 {
		return 0, false, nil
	}
	i := st.limitArg - 1
	if i >= len(r.Params) || r.Params[i] == nil {
		return 0, false, nil
	}
	v := r.Params[i]
	if paramFormat(r.Formats, i) == 1 {
		switch len(v) {
		case 8:
			return int64(binary.BigEndian.Uint64(v)), true, nil
		case 4:
			return int64(int32(binary.BigEndian.Uint32(v))), true, nil
		}
		return 0, false, fmt.Errorf("pgdogexec: binary LIMIT of %d bytes", len(v))
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil, nil
}

// Numeric type OIDs PgDog compares as numbers.
const (
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidFloat4  = 700
	oidFloat8  = 701
	oidNumeric = 1700
)

func numeric(f pgconn.FieldDescription, v []byte) (float64, bool) {
	if f.Format == 0 {
		x, err := strconv.ParseFloat(string(v), 64)
		return x, err == nil
	}
	switch {
	case f.DataTypeOID == oidFloat8 && len(v) == 8:
		return math.Float64frombits(binary.BigEndian.Uint64(v)), true
	case f.DataTypeOID == oidFloat4 && len(v) == 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(v))), true
	case f.DataTypeOID == oidInt8 && len(v) == 8:
		return float64(int64(binary.BigEndian.Uint64(v))), true
	case f.DataTypeOID == oidInt4 && len(v) == 4:
		return float64(int32(binary.BigEndian.Uint32(v))), true
	case f.DataTypeOID == oidInt2 && len(v) == 2:
		return float64(int16(binary.BigEndian.Uint16(v))), true
	}
	return 0, false
}

func isNumeric(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidNumeric:
		return true
	}
	return false
}

func compareValues(f pgconn.FieldDescription, a, b []byte) int {
	if isNumeric(f.DataTypeOID) {
		x, okx := numeric(f, a)
		y, oky := numeric(f, b)
		if okx && oky {
			return cmp.Compare(x, y)
		}
	}
	return bytes.Compare(a, b)
}

// addValues adds two count/sum values, keeping their type and format.
func addValues(f pgconn.FieldDescription, a, b []byte) []byte {
	if f.Format == 0 {
		if x, err := strconv.ParseInt(string(a), 10, 64); err == nil {
			if y, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return strconv.AppendInt(nil, x+y, 10)
			}
		}
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		return strconv.AppendFloat(nil, x+y, 'g', -1, 64)
	}
	if f.DataTypeOID == oidInt8 && len(a) == 8 && len(b) == 8 {
		return binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(a)+binary.BigEndian.Uint64(b))
	}
	if f.DataTypeOID == oidFloat8 && len(a) == 8 && len(b) == 8 {
		x, _ := numeric(f, a)
		y, _ := numeric(f, b)
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(x+y))
	}
	return a
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
