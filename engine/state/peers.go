package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PeerRecord is what Shoal remembers about a peer: hash failures and bans.
type PeerRecord struct {
	Key       PeerKey
	HashFails int // pieces from this peer that failed the hash check
	Banned    bool
	Reason    string // ban reason, or the last hash-failure reason if not banned
	Updated   time.Time
}

// RecordHashFail counts one failed piece from the peer key in torrent ih
// and, if ban is set, bans the peer. Bans are sticky: a later call with ban=false keeps
// the ban and its reason. It returns the updated record.
func (db *DB) RecordHashFail(ctx context.Context, key PeerKey, ih [20]byte, ban bool, reason string) (PeerRecord, error) {
	var rec PeerRecord
	ip, err := validKey(key)
	if err != nil {
		return rec, fmt.Errorf("state: record hash fail: %w", err)
	}
	err = db.write(ctx, "record hash fail", func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `INSERT INTO peers (ip, hash_fails, banned, reason, updated)
			VALUES (?, 1, ?, ?, ?) ON CONFLICT (ip) DO UPDATE SET
			hash_fails = hash_fails + 1, banned = banned OR excluded.banned,
			reason = CASE WHEN banned THEN reason ELSE excluded.reason END,
			updated = excluded.updated
			RETURNING ip, hash_fails, banned, reason, updated`, ip, ban, reason, toNanos(db.now()))
		var err error
		if rec, err = scanPeer(row); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO peer_hash_fails (ip, infohash, fails) VALUES (?, ?, 1)
			ON CONFLICT (ip, infohash) DO UPDATE SET fails = fails + 1`, ip, ih[:])
		return err
	})
	if err != nil {
		return PeerRecord{}, err
	}
	return rec, nil
}

// Ban bans the peer key with reason without counting a hash failure.
func (db *DB) Ban(ctx context.Context, key PeerKey, reason string) error {
	ip, err := validKey(key)
	if err != nil {
		return fmt.Errorf("state: ban: %w", err)
	}
	return db.write(ctx, "ban", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO peers (ip, banned, reason, updated) VALUES (?, 1, ?, ?)
			ON CONFLICT (ip) DO UPDATE SET banned = 1, reason = excluded.reason, updated = excluded.updated`,
			ip, reason, toNanos(db.now()))
		return err
	})
}

// Peer returns the record for the peer key, or ErrNotFound.
func (db *DB) Peer(ctx context.Context, key PeerKey) (PeerRecord, error) {
	row := db.r.QueryRowContext(ctx, `SELECT ip, hash_fails, banned, reason, updated
		FROM peers WHERE ip = ?`, key.stored())
	rec, err := scanPeer(row)
	if err != nil {
		return PeerRecord{}, fmt.Errorf("state: peer: %w", noRows(err))
	}
	return rec, nil
}

// Bans returns every banned peer with its ban reason, and how many stored
// bans were skipped because they name no peer (a row no Shoal wrote).
func (db *DB) Bans(ctx context.Context) (bans map[PeerKey]string, skipped int, err error) {
	rows, err := db.readPairs(ctx, "bans", "SELECT ip, reason FROM peers WHERE banned <> 0")
	if err != nil {
		return nil, 0, err
	}
	bans = make(map[PeerKey]string, len(rows))
	for s, reason := range rows {
		key, err := parsePeerKey(s)
		if err != nil {
			skipped++
			continue
		}
		bans[key] = reason
	}
	return bans, skipped, nil
}

// Unban lifts the ban on the peer key and forgives its hash failures, so
// it starts over. ErrNotFound if the peer has no record.
func (db *DB) Unban(ctx context.Context, key PeerKey) error {
	ip := key.stored()
	return db.write(ctx, "unban", func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, `UPDATE peers SET banned = 0, reason = '', hash_fails = 0,
			updated = ? WHERE ip = ?`, toNanos(db.now()), ip); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM peer_hash_fails WHERE ip = ?", ip)
		return err
	})
}

// HashFailsFor returns how many failed pieces the peer key sent for
// torrent ih.
func (db *DB) HashFailsFor(ctx context.Context, key PeerKey, ih [20]byte) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT fails FROM peer_hash_fails WHERE ip = ? AND infohash = ?",
		key.stored(), ih[:]).Scan(&n)
	if err = noRows(err); errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("state: hash fails for: %w", err)
	}
	return n, nil
}

func scanPeer(s scanner) (PeerRecord, error) {
	var (
		r       PeerRecord
		updated int64
	)
	if err := s.Scan(&r.Key.s, &r.HashFails, &r.Banned, &r.Reason, &updated); err != nil {
		return r, err
	}
	r.Updated = fromNanos(updated)
	return r, nil
}

// validKey returns the stored form of a key that names a peer, or
// ErrInvalid.
func validKey(key PeerKey) (string, error) {
	if _, err := parsePeerKey(key.stored()); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return key.stored(), nil
}
