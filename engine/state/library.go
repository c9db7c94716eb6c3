package state

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	// Roots are the BEP 52 pieces roots of its files where known, also
	// for a v1 torrent (computed when it was shared).
	Roots [][32]byte
}

// PutLibrary inserts or replaces the library row for r.InfoHash. A zero
// Added is stored as the current time.
func (db *DB) PutLibrary(ctx context.Context, r LibraryRow) error {
	added := r.Added
	if added.IsZero() {
		added = db.now()
	}
	return db.write(ctx, "put library", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO library (infohash, name, path, size, files, info, added, roots)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (infohash) DO UPDATE SET name = excluded.name, path = excluded.path,
				size = excluded.size, files = excluded.files, info = excluded.info, added = excluded.added,
				roots = excluded.roots`,
			r.InfoHash[:], r.Name, r.Path, r.Size, r.Files, r.Info, toNanos(added), rootsBlob(r.Roots))
		return err
	})
}

// Library returns every library row, oldest Added first (infohash order
// among equals). The rows are read in table order and sorted here: an
// ORDER BY walks the library_added index and looks each row up in the
// table, or sorts the rows with their info blobs, about three times the
// work of the read with 10,000 rows, and a start waits for it.
func (db *DB) Library(ctx context.Context) ([]LibraryRow, error) {
	rows, err := readAll(ctx, db, "library", scanLibrary, `SELECT infohash, name, path, size, files, info, added, roots
		FROM library`)
	slices.SortFunc(rows, func(a, b LibraryRow) int {
		return cmp.Or(a.Added.Compare(b.Added), bytes.Compare(a.InfoHash[:], b.InfoHash[:]))
	})
	return rows, err
}

// LibraryItem returns the library row for ih, or ErrNotFound.
func (db *DB) LibraryItem(ctx context.Context, ih [20]byte) (LibraryRow, error) {
	row := db.r.QueryRowContext(ctx, `SELECT infohash, name, path, size, files, info, added, roots
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
		roots []byte
	)
	if err := s.Scan(&ih, &r.Name, &r.Path, &r.Size, &r.Files, &r.Info, &added, &roots); err != nil {
		return r, err
	}
	r.Roots = rootsOf(roots)
	h, err := hash20(ih)
	if err != nil {
		return r, err
	}
	r.InfoHash, r.Info, r.Added = h, nilIfEmpty(r.Info), fromNanos(added)
	return r, nil
}

// rootsBlob packs pieces roots into one blob; NULL for none.
func rootsBlob(roots [][32]byte) []byte {
	if len(roots) == 0 {
		return nil
	}
	b := make([]byte, 0, 32*len(roots))
	for _, r := range roots {
		b = append(b, r[:]...)
	}
	return b
}

// rootsOf unpacks rootsBlob's blob (a damaged tail is dropped).
func rootsOf(b []byte) [][32]byte {
	var out [][32]byte
	for ; len(b) >= 32; b = b[32:] {
		out = append(out, [32]byte(b))
	}
	return out
}
