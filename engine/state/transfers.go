package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// TransferRow is one download (and its seeding afterwards) with the data
// needed to resume it.
type TransferRow struct {
	InfoHash   [20]byte
	Name       string
	Dir        string // download folder
	Source     string // where it came from: magnet link, .torrent path, search hit
	Info       []byte // bencoded info dictionary; nil until the metadata is known
	State      string
	Bitfield   []byte // verified pieces, BEP 3 bitfield order
	Uploaded   int64  // only AddTraffic and Flush change these after the first insert
	Downloaded int64
	Added      time.Time
	Completed  time.Time // zero if not completed
	Peers      []string  // known peer addresses
	// Checked means the transfer's first check against the disk is
	// recorded, so pieces that a later recheck finds beyond Bitfield were
	// written by Shoal from the network (see Progress). It never goes back
	// to false.
	Checked bool
	// Roots are a finished v1 download's BEP 52 pieces roots, worked out
	// after it finished (SetTransferRoots); PutTransfer leaves them.
	Roots [][32]byte
}

const transferCols = `infohash, name, dir, source, info, state, bitfield,
	uploaded, downloaded, added, completed, peers, checked`

// PutTransfer inserts or updates the transfer r.InfoHash. On insert every
// field is stored (a zero Added becomes now) and the transfer goes last in
// the queue (see TransferQueue); on update everything except Uploaded and
// Downloaded is replaced, which only AddTraffic and Flush change, and a
// nil Info or zero Added keeps the stored value. Peer addresses must be
// valid UTF-8 and counters non-negative (else ErrInvalid).
func (db *DB) PutTransfer(ctx context.Context, r TransferRow) error {
	if r.Uploaded < 0 || r.Downloaded < 0 {
		return fmt.Errorf("state: put transfer: %w: negative counters", ErrInvalid)
	}
	peers, err := encodePeers(r.Peers)
	if err != nil {
		return fmt.Errorf("state: put transfer: %w", err)
	}
	return db.write(ctx, "put transfer", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO transfers (`+transferCols+`, queue_pos)
			VALUES (:ih, :name, :dir, :source, :info, :state, :bitfield, :up, :down,
				CASE WHEN :added = 0 THEN :now ELSE :added END, :completed, :peers, :checked,
				(SELECT coalesce(max(queue_pos), 0) + 1 FROM transfers))
			ON CONFLICT (infohash) DO UPDATE SET name = excluded.name, dir = excluded.dir,
				source = excluded.source, info = coalesce(excluded.info, info),
				state = excluded.state, bitfield = excluded.bitfield,
				added = CASE WHEN :added = 0 THEN added ELSE :added END,
				completed = excluded.completed, peers = excluded.peers,
				checked = max(checked, excluded.checked)`,
			sql.Named("ih", r.InfoHash[:]), sql.Named("name", r.Name), sql.Named("dir", r.Dir),
			sql.Named("source", r.Source), sql.Named("info", r.Info), sql.Named("state", r.State),
			sql.Named("bitfield", emptyIfNil(r.Bitfield)), sql.Named("up", r.Uploaded),
			sql.Named("down", r.Downloaded), sql.Named("added", toNanos(r.Added)),
			sql.Named("now", toNanos(db.now())), sql.Named("completed", toNanos(r.Completed)),
			sql.Named("peers", peers), sql.Named("checked", r.Checked))
		return err
	})
}

// Transfer returns the transfer for ih, or ErrNotFound.
func (db *DB) Transfer(ctx context.Context, ih [20]byte) (TransferRow, error) {
	row := db.r.QueryRowContext(ctx, `SELECT `+transferCols+`, roots FROM transfers WHERE infohash = ?`, ih[:])
	r, err := scanTransfer(row)
	if err != nil {
		return TransferRow{}, fmt.Errorf("state: transfer: %w", noRows(err))
	}
	return r, nil
}

// Transfers returns every transfer, oldest Added first.
func (db *DB) Transfers(ctx context.Context) ([]TransferRow, error) {
	return readAll(ctx, db, "transfers", scanTransfer, `SELECT `+transferCols+`, roots FROM transfers ORDER BY added, infohash`)
}

// SaveProgress records the verified-piece bitfield and state of transfer ih.
// The commit is durable (synchronous=FULL): callers invoke it after the
// piece data itself was fsynced. ErrNotFound if the transfer does not exist.
func (db *DB) SaveProgress(ctx context.Context, ih [20]byte, bitfield []byte, state string) error {
	return db.writeDurable(ctx, "save progress", func(tx *sql.Tx) error {
		return execOne(ctx, tx, "UPDATE transfers SET bitfield = ?, state = ? WHERE infohash = ?",
			emptyIfNil(bitfield), state, ih[:])
	})
}

// DeleteTransfer removes transfer ih; ErrNotFound if it did not exist. Its
// all-time traffic ledger (InfoHashTotals) is kept.
func (db *DB) DeleteTransfer(ctx context.Context, ih [20]byte) error {
	return db.write(ctx, "delete transfer", func(tx *sql.Tx) error {
		return execOne(ctx, tx, "DELETE FROM transfers WHERE infohash = ?", ih[:])
	})
}

func scanTransfer(s scanner) (TransferRow, error) {
	var (
		r                TransferRow
		ih               []byte
		added, completed int64
		peers            string
		roots            []byte
	)
	err := s.Scan(&ih, &r.Name, &r.Dir, &r.Source, &r.Info, &r.State, &r.Bitfield,
		&r.Uploaded, &r.Downloaded, &added, &completed, &peers, &r.Checked, &roots)
	if err != nil {
		return r, err
	}
	r.Roots = rootsOf(roots)
	if r.InfoHash, err = hash20(ih); err != nil {
		return r, err
	}
	if r.Peers, err = decodePeers(peers); err != nil {
		return r, err
	}
	r.Info, r.Bitfield = nilIfEmpty(r.Info), nilIfEmpty(r.Bitfield)
	r.Added, r.Completed = fromNanos(added), fromNanos(completed)
	return r, nil
}

// encodePeers stores peer addresses as a JSON array of strings.
func encodePeers(peers []string) (string, error) {
	if len(peers) == 0 {
		return "[]", nil
	}
	for _, p := range peers {
		if !utf8.ValidString(p) {
			return "", fmt.Errorf("%w: peer address %q is not UTF-8", ErrInvalid, p)
		}
	}
	b, err := json.Marshal(peers)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func decodePeers(s string) ([]string, error) {
	var peers []string
	if err := json.Unmarshal([]byte(s), &peers); err != nil {
		return nil, fmt.Errorf("decode peers: %w", err)
	}
	if len(peers) == 0 {
		return nil, nil
	}
	return peers, nil
}
