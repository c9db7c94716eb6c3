package state

import (
	"context"
	"database/sql"
)

// MoveFailure is a finished download's failed automatic move: why it
// failed and the folder it was to go to.
type MoveFailure struct {
	InfoHash [20]byte
	Err      string
	To       string
}

// SetMoveFailure records why transfer ih could not move to folder to, or
// clears that when err is ""; ErrNotFound if the transfer does not exist.
// PutTransfer keeps it.
func (db *DB) SetMoveFailure(ctx context.Context, ih [20]byte, err, to string) error {
	if err == "" {
		to = ""
	}
	return db.write(ctx, "set move failure", func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE transfers SET move_err = ?, move_to = ? WHERE infohash = ?`, err, to, ih[:])
	})
}

// MoveFailures returns the transfers whose last automatic move failed.
func (db *DB) MoveFailures(ctx context.Context) ([]MoveFailure, error) {
	return readAll(ctx, db, "move failures", func(s scanner) (MoveFailure, error) {
		var ih []byte
		var f MoveFailure
		if err := s.Scan(&ih, &f.Err, &f.To); err != nil {
			return f, err
		}
		var err error
		f.InfoHash, err = hash20(ih)
		return f, err
	}, `SELECT infohash, move_err, move_to FROM transfers WHERE move_err != '' ORDER BY infohash`)
}
