package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	// Registers the "sqlite3" database/sql driver.
	"github.com/mattn/go-sqlite3"
)

// ApplicationID is the value of PRAGMA application_id in every Shoal state
// database ("Shol" in ASCII). Open refuses files carrying another value.
const ApplicationID int32 = 0x53686f6c

// readConns is the size of the read-only connection pool.
const readConns = 4

// Sentinel errors. Every error returned by this package wraps its cause as
// "state: <operation>: ...", so test them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrWrongApplication means the file is an SQLite database that does
	// not belong to Shoal.
	ErrWrongApplication = errors.New("not a Shoal state database")
	// ErrTooNew means the database was written by a newer Shoal whose
	// schema this build does not know.
	ErrTooNew = errors.New("database schema is newer than this build")
	// ErrInvalid means an argument was rejected before touching the database.
	ErrInvalid = errors.New("invalid argument")
	// ErrDamaged means the file is Shoal's (or unreadable as any database)
	// but its contents are corrupt: SQLite's quick_check failed, pages are
	// malformed, or rows every Shoal database has are missing.
	ErrDamaged = errors.New("database is damaged")
)

// DB is Shoal's state database. It is safe for concurrent use: writes are
// serialised on a single connection, reads use a separate pool.
type DB struct {
	w   *sql.DB // exactly one connection: the only writer
	r   *sql.DB // read-only pool
	now func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed, with its parent folder) the state database
// at path, checks that it belongs to Shoal and applies pending migrations.
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state: open: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("state: open: create folder: %w", err)
	}
	w, err := openPool(abs, writerParams, 1)
	if err != nil {
		return nil, damaged(err)
	}
	ctx := context.Background()
	if err := checkApplication(ctx, w); err != nil {
		_ = w.Close()
		return nil, damaged(err)
	}
	if err := migrate(ctx, w, migrationFiles); err != nil {
		_ = w.Close()
		return nil, damaged(err)
	}
	if err := quickCheck(ctx, w); err != nil {
		_ = w.Close()
		return nil, err
	}
	r, err := openPool(abs, readerParams, readConns)
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	return &DB{w: w, r: r, now: time.Now}, nil
}

// Close closes both pools; the last connection to close checkpoints the
// WAL. Calling Close again returns the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		_, optErr := db.w.Exec("PRAGMA optimize")
		if err := errors.Join(optErr, db.r.Close(), db.w.Close()); err != nil {
			db.closeErr = fmt.Errorf("state: close: %w", err)
		}
	})
	return db.closeErr
}

const (
	// Each connection keeps its prepared statements (_stmt_cache_size):
	// the flush and start-up run the same few many times.
	writerParams = "_busy_timeout=5000&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate&_stmt_cache_size=32"
	readerParams = "_busy_timeout=5000&_query_only=on&_foreign_keys=on&_stmt_cache_size=32"
)

// openPool opens a database/sql pool of at most conns connections to path.
func openPool(path, params string, conns int) (*sql.DB, error) {
	p, err := sql.Open("sqlite3", "file:"+uriPath(path)+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("state: open: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	p.SetConnMaxLifetime(0)
	p.SetConnMaxIdleTime(0)
	if err := p.Ping(); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("state: open: %w", err)
	}
	return p, nil
}

// uriPath escapes an absolute file path for an SQLite "file:" URI.
func uriPath(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letter: file:/C:/...
	}
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return r.Replace(p)
}

// checkApplication accepts a Shoal database or a brand-new empty file.
func checkApplication(ctx context.Context, w *sql.DB) error {
	var id int32
	if err := w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return fmt.Errorf("state: open: read application_id: %w", err)
	}
	if id == ApplicationID {
		return nil
	}
	if id != 0 {
		return fmt.Errorf("state: open: %w (application_id %#x)", ErrWrongApplication, uint32(id))
	}
	var objects int
	err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects)
	if err != nil {
		return fmt.Errorf("state: open: read schema: %w", err)
	}
	if objects != 0 {
		return fmt.Errorf("state: open: %w (application_id unset, %d schema objects)", ErrWrongApplication, objects)
	}
	return nil
}

// quickCheck runs SQLite's quick_check (every page and index entry is
// well formed; linear in the file's size, a few ms for a library of
// thousands) and checks the rows every Shoal database has.
func quickCheck(ctx context.Context, w *sql.DB) error {
	var res string
	if err := w.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res); err != nil {
		return damaged(fmt.Errorf("state: open: quick check: %w", err))
	}
	if res != "ok" {
		return fmt.Errorf("state: open: %w: quick check: %s", ErrDamaged, res)
	}
	var totals int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM totals WHERE id = 1").Scan(&totals); err != nil {
		return damaged(fmt.Errorf("state: open: read totals: %w", err))
	}
	if totals != 1 {
		return fmt.Errorf("state: open: %w: the all-time totals row is missing", ErrDamaged)
	}
	return nil
}

// damaged marks err with ErrDamaged when SQLite says the file is corrupt or
// not a database at all; other errors (permissions, a full disk, a newer
// schema, another program's database) pass unchanged.
func damaged(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return err
}
