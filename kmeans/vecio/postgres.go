package vecio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
)

// pgReader streams the first column of a query's rows. The query runs in
// the simple protocol, so every value arrives as text: a pgvector value
// ("[1,2,3]"), its ::text form, or a float array ("{1,2,3}").
type pgReader struct {
	ctx  context.Context
	conn *pgx.Conn
	rows pgx.Rows
	row  int
}

// OpenPostgres connects to dsn (a PostgreSQL URL or key=value string) and
// runs query, whose first column must be a vector as text or a float
// array.
func OpenPostgres(ctx context.Context, dsn, query string) (Reader, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL (check --dsn: host, port, user, password, database): %w", err)
	}
	rows, err := conn.Query(ctx, query, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("--query failed: %w", err)
	}
	if len(rows.FieldDescriptions()) == 0 {
		rows.Close()
		conn.Close(ctx)
		return nil, errors.New("--query returns no columns: select the vector column first, as text or a float array")
	}
	return &pgReader{ctx: ctx, conn: conn, rows: rows}, nil
}

func (p *pgReader) pos() (string, string, int) { return "postgres", "row", p.row }

func (p *pgReader) Next(dst []float32) ([]float32, error) {
	if !p.rows.Next() {
		if err := p.rows.Err(); err != nil {
			return dst[:0], &RowError{Source: "postgres", Unit: "row", Row: p.row + 1, Err: err, Fatal: true}
		}
		return dst[:0], io.EOF
	}
	p.row++
	raw := p.rows.RawValues()[0]
	if raw == nil {
		return dst[:0], &RowError{Source: "postgres", Unit: "row", Row: p.row, Err: errors.New("NULL vector")}
	}
	v, err := ParseVector(dst, raw)
	if err != nil {
		return v, &RowError{Source: "postgres", Unit: "row", Row: p.row, Err: err}
	}
	return v, nil
}

func (p *pgReader) Close() error {
	p.rows.Close()
	return p.conn.Close(p.ctx)
}
