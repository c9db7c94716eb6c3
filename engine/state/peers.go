package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PeerRecord is what Shoal remembers about a peer IP: hash failures and bans.
type PeerRecord struct {
	IP        string
	HashFails int // pieces from this IP that failed the hash check
	Banned    bool
	Reason    string // ban reason, or the last hash-failure reason if not banned
	Updated   time.Time
}

// RecordHashFail counts one failed piece from ip in torrent ih and, if ban
// is set, bans the IP. Bans are sticky: a later call with ban=false keeps
// the ban and its reason. It returns the updated record.
func (db *DB) RecordHashFail(ctx context.Context, ip string, ih [20]byte, ban bool, reason string) (PeerRecord, error) {
	var rec PeerRecord
	ip = normIP(ip)
	if ip == "" {
		return rec, fmt.Errorf("state: record hash fail: %w: empty IP", ErrInvalid)
	}
	err := db.write(ctx, "record hash fail", func(tx *sql.Tx) error {
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

// Ban bans ip with reason without counting a hash failure.
func (db *DB) Ban(ctx context.Context, ip, reason string) error {
	ip = normIP(ip)
	if ip == "" {
		return fmt.Errorf("state: ban: %w: empty IP", ErrInvalid)
	}
	return db.write(ctx, "ban", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO peers (ip, banned, reason, updated) VALUES (?, 1, ?, ?)
			ON CONFLICT (ip) DO UPDATE SET banned = 1, reason = excluded.reason, updated = excluded.updated`,
			ip, reason, toNanos(db.now()))
		return err
	})
}

// Peer returns the record for ip, or ErrNotFound.
func (db *DB) Peer(ctx context.Context, ip string) (PeerRecord, error) {
	row := db.r.QueryRowContext(ctx, `SELECT ip, hash_fails, banned, reason, updated
		FROM peers WHERE ip = ?`, normIP(ip))
	rec, err := scanPeer(row)
	if err != nil {
		return PeerRecord{}, fmt.Errorf("state: peer: %w", noRows(err))
	}
	return rec, nil
}

// BannedIPs returns every banned IP with its ban reason.
func (db *DB) BannedIPs(ctx context.Context) (map[string]string, error) {
	return db.readPairs(ctx, "banned IPs", "SELECT ip, reason FROM peers WHERE banned <> 0")
}

// Unban lifts the ban on ip and forgives its hash failures, so it starts
// over. ErrNotFound if the IP has no record.
func (db *DB) Unban(ctx context.Context, ip string) error {
	ip = normIP(ip)
	return db.write(ctx, "unban", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE peers SET banned = 0, reason = '', hash_fails = 0,
			updated = ? WHERE ip = ?`, toNanos(db.now()), ip)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM peer_hash_fails WHERE ip = ?", ip)
		return err
	})
}

// HashFailsFor returns how many failed pieces ip sent for torrent ih.
func (db *DB) HashFailsFor(ctx context.Context, ip string, ih [20]byte) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT fails FROM peer_hash_fails WHERE ip = ? AND infohash = ?",
		normIP(ip), ih[:]).Scan(&n)
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
	if err := s.Scan(&r.IP, &r.HashFails, &r.Banned, &r.Reason, &updated); err != nil {
		return r, err
	}
	r.Updated = fromNanos(updated)
	return r, nil
}
