package state

import (
	"context"
	"database/sql"
	"fmt"
)

// Progress is one transfer's verified pieces, ready to be recorded.
type Progress struct {
	InfoHash [20]byte
	Bitfield []byte // BEP 3 order; only pieces already fsynced
	State    string
	// Checked marks the transfer's first check against the disk as done
	// (TransferRow.Checked); false leaves the stored flag as it is.
	Checked bool
}

// Flush records a batch of traffic and the progress of the transfers it
// concerns in one durable transaction (synchronous=FULL), so that no piece
// is ever recorded complete without the bytes that completed it: callers
// collect a swarm's verified pieces first and its byte counts second, and
// every byte of a recorded piece is then in this batch or an earlier one.
// Traffic entries with neither a peer ID nor an IP are bytes found again
// after a crash (see Progress.Checked): they count toward the totals and
// the transfer but credit no peer. Progress for a transfer that no longer
// exists is skipped. A negative count rejects everything with ErrInvalid.
func (db *DB) Flush(ctx context.Context, batch []Traffic, progress []Progress) error {
	byIH, byPeer, total, err := aggregate(batch)
	if err != nil {
		return fmt.Errorf("state: flush: %w", err)
	}
	if total == (pair{}) && len(progress) == 0 {
		return nil
	}
	now := db.now()
	write := db.write
	if len(progress) > 0 {
		write = db.writeDurable // the pieces' data is already fsynced
	}
	return write(ctx, "flush", func(tx *sql.Tx) error {
		if total != (pair{}) {
			if err := addInfoHashTraffic(ctx, tx, byIH); err != nil {
				return err
			}
			if err := addCredit(ctx, tx, byPeer, toNanos(now)); err != nil {
				return err
			}
			if err := addTotals(ctx, tx, total, now.UTC().Format(dayLayout)); err != nil {
				return err
			}
		}
		return saveProgress(ctx, tx, progress)
	})
}

func saveProgress(ctx context.Context, tx *sql.Tx, progress []Progress) error {
	if len(progress) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `UPDATE transfers SET bitfield = ?, state = ?,
		checked = max(checked, ?) WHERE infohash = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, p := range progress {
		if _, err := st.ExecContext(ctx, emptyIfNil(p.Bitfield), p.State, p.Checked, p.InfoHash[:]); err != nil {
			return fmt.Errorf("progress: %w", err)
		}
	}
	return nil
}
