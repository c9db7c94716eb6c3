package logflood

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for New's zero arguments.
const (
	DefaultBurst  = 20
	DefaultWindow = time.Minute
	maxKeys       = 512
)

// Handler is a rate-limiting slog.Handler. Handlers made by WithAttrs and
// WithGroup share their parent's budget and counters.
type Handler struct {
	next slog.Handler
	lim  *limiter
}

type limiter struct {
	burst      int
	window     time.Duration
	now        func() time.Time
	suppressed atomic.Int64

	mu    sync.Mutex
	keys  map[string]*bucket
	swept time.Time // last expire of a full table
}

type bucket struct {
	start   time.Time
	passed  int
	dropped int
}

// New wraps next; burst ≤ 0 and window ≤ 0 take the defaults.
func New(next slog.Handler, burst int, window time.Duration) *Handler {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &Handler{next: next, lim: &limiter{burst: burst, window: window, now: time.Now,
		keys: make(map[string]*bucket)}}
}

// Suppressed is how many records were dropped so far.
func (h *Handler) Suppressed() int64 { return h.lim.suppressed.Load() }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	pass, dropped := h.lim.admit(r.Message)
	if !pass {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed_before", dropped))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), lim: h.lim}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), lim: h.lim}
}

// admit decides whether a record with message msg passes; when it opens a
// new window it also returns how many the last window dropped.
func (l *limiter) admit(msg string) (pass bool, droppedBefore int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketFor(msg, now)
	if b == nil {
		l.suppressed.Add(1) // too many distinct messages this window
		return false, 0
	}
	if now.Sub(b.start) >= l.window {
		droppedBefore = b.dropped
		*b = bucket{start: now}
	}
	if b.passed >= l.burst {
		b.dropped++
		l.suppressed.Add(1)
		return false, 0
	}
	b.passed++
	return true, droppedBefore
}

// bucketFor finds or makes msg's bucket; nil when the table is full of
// keys whose window is not over.
func (l *limiter) bucketFor(msg string, now time.Time) *bucket {
	if b := l.keys[msg]; b != nil {
		return b
	}
	if len(l.keys) >= maxKeys {
		if now.Sub(l.swept) < l.window {
			return nil
		}
		l.expire(now)
		l.swept = now
		if len(l.keys) >= maxKeys {
			return nil
		}
	}
	b := &bucket{start: now}
	l.keys[msg] = b
	return b
}

// expire forgets keys whose window is over (their drop counts are lost
// from the next line, not from Suppressed).
func (l *limiter) expire(now time.Time) {
	for k, b := range l.keys {
		if now.Sub(b.start) >= l.window {
			delete(l.keys, k)
		}
	}
}
