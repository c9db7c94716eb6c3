package swarm

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// NewLimiter returns a byte-rate limiter for bytesPerSec (0 = unlimited).
// Its burst is a quarter second of traffic, never less than a few blocks,
// so a block always fits.
func NewLimiter(bytesPerSec int64) *rate.Limiter {
	l := rate.NewLimiter(rate.Inf, 0)
	SetLimit(l, bytesPerSec)
	return l
}

// SetLimit changes a limiter made by NewLimiter at run time.
func SetLimit(l *rate.Limiter, bytesPerSec int64) {
	if bytesPerSec <= 0 {
		l.SetLimit(rate.Inf)
		return
	}
	l.SetBurst(int(max(bytesPerSec/4, 4*maxBlockLen)))
	l.SetLimit(rate.Limit(bytesPerSec))
}

const maxBlockLen = 32 << 10

// throttle waits until every limiter in the chain allows n bytes. Before a
// wait it calls flush, so data already buffered is not held back.
func throttle(ctx context.Context, chain []*rate.Limiter, n int, flush func()) error {
	var wait time.Duration
	now := time.Now()
	for _, l := range chain {
		if l == nil || l.Limit() == rate.Inf {
			continue
		}
		r := l.ReserveN(now, n)
		if !r.OK() {
			continue // larger than the burst: cannot happen with NewLimiter's burst
		}
		wait = max(wait, r.DelayFrom(now))
	}
	if wait <= 0 {
		return nil
	}
	if flush != nil {
		flush()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
