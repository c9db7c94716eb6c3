package state

import (
	"context"
	"database/sql"
)

// Pieces roots for what predates them. A library item shared before
// migration 0006 and a v1 download finished before 0007 have roots NULL:
// never looked for. The engine works them out in the background and
// records them here; an empty blob records that they were looked for and
// cannot be had, so they are not looked for again.

// LibraryWithoutRoots lists the library items whose roots were never
// looked for, oldest Added first.
func (db *DB) LibraryWithoutRoots(ctx context.Context) ([][20]byte, error) {
	return readAll(ctx, db, "library without roots", scanHash20,
		`SELECT infohash FROM library WHERE roots IS NULL ORDER BY added, infohash`)
}

// FinishedWithoutRoots lists the finished downloads (with metadata and a
// completion time) whose roots were never looked for, oldest first.
func (db *DB) FinishedWithoutRoots(ctx context.Context) ([][20]byte, error) {
	return readAll(ctx, db, "finished without roots", scanHash20,
		`SELECT infohash FROM transfers WHERE roots IS NULL AND completed != 0 AND info IS NOT NULL
		ORDER BY completed, infohash`)
}

// SetLibraryRoots records library item ih's pieces roots; nil records
// that there are none to be had. ErrNotFound if the item is gone.
func (db *DB) SetLibraryRoots(ctx context.Context, ih [20]byte, roots [][32]byte) error {
	return db.setRoots(ctx, "library", ih, roots)
}

// SetTransferRoots records download ih's pieces roots as SetLibraryRoots
// does a library item's.
func (db *DB) SetTransferRoots(ctx context.Context, ih [20]byte, roots [][32]byte) error {
	return db.setRoots(ctx, "transfers", ih, roots)
}

// setRoots writes table's roots column (a table name of this file, never
// an outside string).
func (db *DB) setRoots(ctx context.Context, table string, ih [20]byte, roots [][32]byte) error {
	return db.write(ctx, "set roots", func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE `+table+` SET roots = coalesce(?, X'') WHERE infohash = ?`,
			rootsBlob(roots), ih[:])
	})
}

// scanHash20 scans a one-column row of a 20-byte hash.
func scanHash20(s scanner) ([20]byte, error) {
	var b []byte
	if err := s.Scan(&b); err != nil {
		return [20]byte{}, err
	}
	return hash20(b)
}
