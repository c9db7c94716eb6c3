package state

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Credit returns the credit of the peer with this ID and key, or a zero
// Credit if it was never seen.
func (db *DB) Credit(ctx context.Context, peerID [20]byte, key PeerKey) (Credit, error) {
	var (
		c           Credit
		first, last int64
	)
	c.PeerID, c.Key = peerID, key
	err := db.r.QueryRowContext(ctx, `SELECT uploaded, downloaded, first_seen, last_seen
		FROM peer_credit WHERE peer_id = ? AND ip = ?`, peerID[:], key.stored()).
		Scan(&c.Uploaded, &c.Downloaded, &first, &last)
	if errors.Is(noRows(err), ErrNotFound) {
		return Credit{}, nil
	}
	if err != nil {
		return Credit{}, fmt.Errorf("state: credit: %w", err)
	}
	c.FirstSeen, c.LastSeen = fromNanos(first), fromNanos(last)
	return c, nil
}

// DailyTraffic returns the per-day ledger from the UTC day containing since
// onwards, oldest first.
func (db *DB) DailyTraffic(ctx context.Context, since time.Time) ([]DayTraffic, error) {
	return readAll(ctx, db, "daily traffic", func(s scanner) (DayTraffic, error) {
		var (
			d   DayTraffic
			day string
		)
		if err := s.Scan(&day, &d.Up, &d.Down); err != nil {
			return d, err
		}
		var err error
		d.Day, err = time.Parse(dayLayout, day)
		return d, err
	}, `SELECT day, up, down FROM daily_traffic
		WHERE day >= ? ORDER BY day`, since.UTC().Format(dayLayout))
}

// creditMB is eMule's unit for the credit formula.
const creditMB = 1 << 20

// Modifier is eMule's credit modifier for a peer's place in our upload
// queue, from 1 (no or poor credit) to 10. It is the smaller of
// 2*Downloaded/Uploaded and sqrt(Downloaded in MiB + 2); a peer that sent us
// less than 1 MiB gets 1.
func (c Credit) Modifier() float64 {
	if c.Downloaded < creditMB {
		return 1
	}
	ratio := 10.0
	if c.Uploaded > 0 {
		ratio = 2 * float64(c.Downloaded) / float64(c.Uploaded)
	}
	m := math.Min(ratio, math.Sqrt(float64(c.Downloaded)/creditMB+2))
	return math.Max(1, math.Min(10, m))
}
