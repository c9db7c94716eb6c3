package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LibraryRow is one torrent this node shares from its library.
type LibraryRow struct {
	InfoHash [20]byte
	Name     string
	Path     string // file or folder on disk
	Size     int64  // total bytes
	Files    int    // number of files
	Info     []byte // bencoded info dictionary (BEP 3)
	Added    time.Time
}

// PutLibrary inserts or replaces the library row for r.InfoHash. A zero
// Added is stored as the current time.
func (db *DB) PutLibrary(ctx context.Context, r LibraryRow) error {
	added := r.Added
	if added.IsZero() {
		added = db.now()
	}
	return db.write(ctx, "put library", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO library (infohash, name, path, size, files, info, added)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (infohash) DO UPDATE SET name = excluded.name, path = excluded.path,
				size = excluded.size, files = excluded.files, info = excluded.info, added = excluded.added`,
			r.InfoHash[:], r.Name, r.Path, r.Size, r.Files, r.Info, toNanos(added))
		return err
	})
}

// Library returns every library row, oldest Added first.
func (db *DB) Library(ctx context.Context) ([]LibraryRow, error) {
	return readAll(ctx, db, "library", scanLibrary, `SELECT infohash, name, path, size, files, info, added
		FROM library ORDER BY added, infohash`)
}

// LibraryItem returns the library row for ih, or ErrNotFound.
func (db *DB) LibraryItem(ctx context.Context, ih [20]byte) (LibraryRow, error) {
	row := db.r.QueryRowContext(ctx, `SELECT infohash, name, path, size, files, info, added
		FROM library WHERE infohash = ?`, ih[:])
	r, err := scanLibrary(row)
	if err != nil {
		return LibraryRow{}, fmt.Errorf("state: library item: %w", noRows(err))
	}
	return r, nil
}

// DeleteLibrary removes ih from the library; ErrNotFound if it was not there.
// Its all-time traffic ledger is kept.
func (db *DB) DeleteLibrary(ctx context.Context, ih [20]byte) error {
	return db.write(ctx, "delete library", func(tx *sql.Tx) error {
		return execOne(ctx, tx, "DELETE FROM library WHERE infohash = ?", ih[:])
	})
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanLibrary(s scanner) (LibraryRow, error) {
	var (
		r     LibraryRow
		ih    []byte
		added int64
	)
	if err := s.Scan(&ih, &r.Name, &r.Path, &r.Size, &r.Files, &r.Info, &added); err != nil {
		return r, err
	}
	h, err := hash20(ih)
	if err != nil {
		return r, err
	}
	r.InfoHash, r.Info, r.Added = h, nilIfEmpty(r.Info), fromNanos(added)
	return r, nil
}
