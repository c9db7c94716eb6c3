package state

import (
	"context"
	"database/sql"
)

// QueueEntry is one transfer's place in the download queue.
type QueueEntry struct {
	InfoHash [20]byte
	Pos      int64 // 1 waits first; a new transfer goes last
	Forced   bool  // started by hand, ignoring the active limits
}

// TransferQueue returns every transfer's place in the queue, first first.
func (db *DB) TransferQueue(ctx context.Context) ([]QueueEntry, error) {
	return readAll(ctx, db, "transfer queue", func(s scanner) (QueueEntry, error) {
		var ih []byte
		var q QueueEntry
		if err := s.Scan(&ih, &q.Pos, &q.Forced); err != nil {
			return q, err
		}
		var err error
		q.InfoHash, err = hash20(ih)
		return q, err
	}, `SELECT infohash, queue_pos, forced FROM transfers ORDER BY queue_pos, added, infohash`)
}

// SetQueueOrder numbers the transfers of order 1, 2, 3… in that order, in
// one transaction; transfers it does not name keep their number.
func (db *DB) SetQueueOrder(ctx context.Context, order [][20]byte) error {
	return db.write(ctx, "set queue order", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE transfers SET queue_pos = ? WHERE infohash = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, ih := range order {
			if _, err := st.ExecContext(ctx, i+1, ih[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetForced records whether transfer ih was started by hand, ignoring the
// queue; ErrNotFound if it does not exist.
func (db *DB) SetForced(ctx context.Context, ih [20]byte, forced bool) error {
	return db.write(ctx, "set forced", func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE transfers SET forced = ? WHERE infohash = ?`, forced, ih[:])
	})
}
