package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DHTNode is one node of the BEP 5 routing table, cached across restarts.
type DHTNode struct {
	ID   [20]byte
	Addr string // host:port
}

// SaveDHTNodes replaces the cached routing table with nodes, keeping their
// order. A repeated address keeps its first entry; empty addresses are
// rejected with ErrInvalid.
func (db *DB) SaveDHTNodes(ctx context.Context, nodes []DHTNode) error {
	for _, n := range nodes {
		if n.Addr == "" {
			return fmt.Errorf("state: save DHT nodes: %w: empty address", ErrInvalid)
		}
	}
	return db.write(ctx, "save DHT nodes", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM dht_nodes"); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO dht_nodes (id, addr) VALUES (?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, n := range nodes {
			if _, err := st.ExecContext(ctx, n.ID[:], n.Addr); err != nil {
				return err
			}
		}
		return nil
	})
}

// DHTNodes returns the cached routing table in the order it was saved.
func (db *DB) DHTNodes(ctx context.Context) ([]DHTNode, error) {
	return readAll(ctx, db, "DHT nodes", func(s scanner) (DHTNode, error) {
		var (
			n  DHTNode
			id []byte
		)
		if err := s.Scan(&id, &n.Addr); err != nil {
			return n, err
		}
		var err error
		n.ID, err = hash20(id)
		return n, err
	}, "SELECT id, addr FROM dht_nodes ORDER BY pos")
}

// SaveSupernodes marks each address as seen now, adding new ones.
func (db *DB) SaveSupernodes(ctx context.Context, addrs []string) error {
	for _, a := range addrs {
		if a == "" {
			return fmt.Errorf("state: save supernodes: %w: empty address", ErrInvalid)
		}
	}
	now := toNanos(db.now())
	return db.write(ctx, "save supernodes", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO supernodes (addr, last_seen) VALUES (?, ?)
			ON CONFLICT (addr) DO UPDATE SET last_seen = excluded.last_seen`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, a := range addrs {
			if _, err := st.ExecContext(ctx, a, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Supernodes returns up to limit cached supernode addresses, most recently
// seen first (ties by address). limit <= 0 means all.
func (db *DB) Supernodes(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return readAll(ctx, db, "supernodes", scanString, `SELECT addr FROM supernodes
		ORDER BY last_seen DESC, addr LIMIT ?`, limit)
}

// PruneSupernodes forgets supernodes last seen before cutoff and reports
// how many were removed.
func (db *DB) PruneSupernodes(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "prune supernodes", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM supernodes WHERE last_seen < ?", toNanos(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
