package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// write runs fn in one immediate transaction on the writer connection and
// wraps any error as "state: <op>: ...".
func (db *DB) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: %s: begin: %w", op, err)
	}
	return runTx(tx, op, fn)
}

// runTx runs fn in tx and commits, or rolls back if fn fails.
func runTx(tx *sql.Tx, op string, fn func(tx *sql.Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("state: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state: %s: commit: %w", op, err)
	}
	return nil
}

// writeDurable is write with PRAGMA synchronous=FULL for this one
// transaction, so its commit is fsynced to the WAL before it returns.
func (db *DB) writeDurable(ctx context.Context, op string, fn func(tx *sql.Tx) error) (err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	defer func() {
		// Restore NORMAL even if ctx was cancelled; a connection that
		// cannot be restored is discarded rather than reused.
		_, rerr := conn.ExecContext(context.Background(), "PRAGMA synchronous = NORMAL")
		if rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("state: %s: set synchronous: %w", op, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: %s: begin: %w", op, err)
	}
	return runTx(tx, op, fn)
}

// execOne runs a statement that must change a row: "no row changed" is
// ErrNotFound.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// toNanos stores a time as Unix nanoseconds; the zero time is 0, so the
// instant of the Unix epoch itself reads back as the zero time.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of toNanos; times come back in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// hash20 copies a 20-byte blob read from the database.
func hash20(b []byte) ([20]byte, error) {
	var h [20]byte
	if len(b) != len(h) {
		return h, fmt.Errorf("stored hash has %d bytes, want 20", len(b))
	}
	copy(h[:], b)
	return h, nil
}

// normIP returns the canonical text of an IP address (IPv4-mapped IPv6
// addresses become IPv4), or s unchanged if it does not parse.
func normIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.Unmap().String()
}

// nilIfEmpty maps empty byte slices to nil, so "no data" reads back as nil.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// emptyIfNil maps nil to an empty slice, for NOT NULL blob columns.
func emptyIfNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// noRows maps sql.ErrNoRows to ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// read runs query on the read pool and calls each for every row, wrapping
// any error as "state: <op>: ...".
func (db *DB) read(ctx context.Context, op string, each func(scanner) error, query string, args ...any) error {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return fmt.Errorf("state: %s: %w", op, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	return nil
}

// readAll is read collecting scan's value of every row, in order (nil for
// none).
func readAll[T any](ctx context.Context, db *DB, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := db.read(ctx, op, func(s scanner) error {
		v, err := scan(s)
		out = append(out, v)
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanString scans a one-column row of text.
func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

// readPairs is read into a map from a query of two text columns, key and
// value.
func (db *DB) readPairs(ctx context.Context, op, query string, args ...any) (map[string]string, error) {
	out := make(map[string]string)
	err := db.read(ctx, op, func(s scanner) error {
		var k, v string
		err := s.Scan(&k, &v)
		out[k] = v
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
