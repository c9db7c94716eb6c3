package sim

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// logCounter is a slog.Handler that counts records by message and error
// (addresses and numbers masked), so that a run can say why links end
// without printing one line per event.
type logCounter struct {
	mu sync.Mutex
	m  map[string]int
}

var masked = regexp.MustCompile(`[0-9]+(\.[0-9]+)*(:[0-9]+)?`)

// Enabled implements slog.Handler.
func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	key := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" || a.Key == "code" {
			key += " " + a.Key + "=" + masked.ReplaceAllString(fmt.Sprint(a.Value.Any()), "N")
		}
		return true
	})
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[key]++
	c.mu.Unlock()
	return nil
}

// WithAttrs implements slog.Handler.
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }

// WithGroup implements slog.Handler.
func (c *logCounter) WithGroup(string) slog.Handler { return c }

// take returns the counts since the last call, most frequent first, and
// clears them.
func (c *logCounter) take(top int) string {
	c.mu.Lock()
	m := c.m
	c.m = nil
	c.mu.Unlock()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var b strings.Builder
	for _, k := range keys[:min(top, len(keys))] {
		fmt.Fprintf(&b, "\n    %6d %s", m[k], k)
	}
	return b.String()
}
