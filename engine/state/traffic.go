package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Traffic is bytes exchanged with one peer for one torrent since the last
// AddTraffic or Flush call.
type Traffic struct {
	InfoHash [20]byte
	PeerID   [20]byte
	Key      PeerKey // whose credit it counts to
	Up       int64   // bytes we sent
	Down     int64   // bytes we received
}

// Credit is the eMule-style credit of one peer, keyed by peer ID and PeerKey.
type Credit struct {
	PeerID     [20]byte
	Key        PeerKey
	Uploaded   int64 // bytes we sent it
	Downloaded int64 // bytes it sent us
	FirstSeen  time.Time
	LastSeen   time.Time
}

// DayTraffic is one row of the per-day ledger.
type DayTraffic struct {
	Day      time.Time // midnight UTC
	Up, Down int64
}

// pair is an up/down byte count.
type pair struct{ up, down int64 }

type creditKey struct {
	peer [20]byte
	ip   string
}

// dayLayout is the format of daily_traffic.day.
const dayLayout = "2006-01-02"

// AddTraffic applies a batch in one transaction: the transfer counters (if
// the transfer exists), the all-time per-infohash ledger (which also covers
// library-only seeding), each peer's credit, the all-time totals and today's
// (UTC) ledger row. Entries with no bytes are skipped; a negative count
// rejects the whole batch with ErrInvalid.
func (db *DB) AddTraffic(ctx context.Context, batch []Traffic) error {
	byIH, byPeer, total, err := aggregate(batch)
	if err != nil {
		return fmt.Errorf("state: add traffic: %w", err)
	}
	if total == (pair{}) {
		return nil
	}
	now := db.now()
	return db.write(ctx, "add traffic", func(tx *sql.Tx) error {
		if err := addInfoHashTraffic(ctx, tx, byIH); err != nil {
			return err
		}
		if err := addCredit(ctx, tx, byPeer, toNanos(now)); err != nil {
			return err
		}
		return addTotals(ctx, tx, total, now.UTC().Format(dayLayout))
	})
}

// aggregate sums a batch per infohash, per peer and overall.
func aggregate(batch []Traffic) (map[[20]byte]pair, map[creditKey]pair, pair, error) {
	byIH := make(map[[20]byte]pair)
	byPeer := make(map[creditKey]pair)
	var total pair
	for _, t := range batch {
		if t.Up < 0 || t.Down < 0 {
			return nil, nil, pair{}, fmt.Errorf("%w: negative traffic %d/%d", ErrInvalid, t.Up, t.Down)
		}
		if t.Up == 0 && t.Down == 0 {
			continue
		}
		if t.Up > math.MaxInt64-total.up || t.Down > math.MaxInt64-total.down {
			return nil, nil, pair{}, fmt.Errorf("%w: traffic overflows int64", ErrInvalid)
		}
		total.up, total.down = total.up+t.Up, total.down+t.Down
		p := byIH[t.InfoHash]
		byIH[t.InfoHash] = pair{p.up + t.Up, p.down + t.Down}
		if t.PeerID == ([20]byte{}) && t.Key.IsZero() {
			continue // found again after a crash: no peer to credit
		}
		k := creditKey{t.PeerID, t.Key.stored()}
		p = byPeer[k]
		byPeer[k] = pair{p.up + t.Up, p.down + t.Down}
	}
	return byIH, byPeer, total, nil
}

func addInfoHashTraffic(ctx context.Context, tx *sql.Tx, byIH map[[20]byte]pair) error {
	upd, err := tx.PrepareContext(ctx, `UPDATE transfers
		SET uploaded = uploaded + ?, downloaded = downloaded + ? WHERE infohash = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	ledger, err := tx.PrepareContext(ctx, `INSERT INTO infohash_traffic (infohash, up, down)
		VALUES (?, ?, ?) ON CONFLICT (infohash) DO UPDATE SET
		up = up + excluded.up, down = down + excluded.down`)
	if err != nil {
		return err
	}
	defer ledger.Close()
	for ih, p := range byIH {
		if _, err := upd.ExecContext(ctx, p.up, p.down, ih[:]); err != nil {
			return fmt.Errorf("transfer counters: %w", err)
		}
		if _, err := ledger.ExecContext(ctx, ih[:], p.up, p.down); err != nil {
			return fmt.Errorf("infohash ledger: %w", err)
		}
	}
	return nil
}

func addCredit(ctx context.Context, tx *sql.Tx, byPeer map[creditKey]pair, now int64) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO peer_credit
		(peer_id, ip, uploaded, downloaded, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (peer_id, ip) DO UPDATE SET uploaded = uploaded + excluded.uploaded,
		downloaded = downloaded + excluded.downloaded, last_seen = excluded.last_seen`)
	if err != nil {
		return err
	}
	defer st.Close()
	for k, p := range byPeer {
		if _, err := st.ExecContext(ctx, k.peer[:], k.ip, p.up, p.down, now, now); err != nil {
			return fmt.Errorf("credit: %w", err)
		}
	}
	return nil
}

func addTotals(ctx context.Context, tx *sql.Tx, total pair, day string) error {
	_, err := tx.ExecContext(ctx, "UPDATE totals SET up = up + ?, down = down + ? WHERE id = 1",
		total.up, total.down)
	if err != nil {
		return fmt.Errorf("totals: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO daily_traffic (day, up, down) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET up = up + excluded.up, down = down + excluded.down`,
		day, total.up, total.down)
	if err != nil {
		return fmt.Errorf("daily ledger: %w", err)
	}
	return nil
}

// Totals returns all-time bytes sent and received; they are never reset.
func (db *DB) Totals(ctx context.Context) (up, down int64, err error) {
	err = db.r.QueryRowContext(ctx, "SELECT up, down FROM totals WHERE id = 1").Scan(&up, &down)
	if err != nil {
		return 0, 0, fmt.Errorf("state: totals: %w", err)
	}
	return up, down, nil
}

// InfoHashTotals returns all-time bytes sent and received for ih, counting
// downloads and library seeding alike (0, 0 if none was ever recorded).
func (db *DB) InfoHashTotals(ctx context.Context, ih [20]byte) (up, down int64, err error) {
	err = db.r.QueryRowContext(ctx, "SELECT up, down FROM infohash_traffic WHERE infohash = ?",
		ih[:]).Scan(&up, &down)
	if err = noRows(err); errors.Is(err, ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("state: infohash totals: %w", err)
	}
	return up, down, nil
}

// AllInfoHashTotals returns InfoHashTotals for every infohash that has
// any, in one query: what start-up needs for a whole library.
func (db *DB) AllInfoHashTotals(ctx context.Context) (map[[20]byte][2]int64, error) {
	out := make(map[[20]byte][2]int64)
	err := db.read(ctx, "infohash totals", func(s scanner) error {
		var ih []byte
		var up, down int64
		if err := s.Scan(&ih, &up, &down); err != nil {
			return err
		}
		if len(ih) == 20 {
			out[[20]byte(ih)] = [2]int64{up, down}
		}
		return nil
	}, "SELECT infohash, up, down FROM infohash_traffic")
	if err != nil {
		return nil, err
	}
	return out, nil
}
