package logflood

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func newTest(burst int, window time.Duration) (*Handler, *bytes.Buffer, *time.Time) {
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), burst, window)
	now := time.Unix(1000, 0)
	h.lim.now = func() time.Time { return now }
	return h, &buf, &now
}

func TestBurstThenCountThenSummary(t *testing.T) {
	h, buf, now := newTest(3, time.Minute)
	log := slog.New(h).With("peer", "x")
	for i := 0; i < 10; i++ {
		log.Warn("bad message", "i", i)
	}
	log.Warn("other message")
	if got := strings.Count(buf.String(), "bad message"); got != 3 {
		t.Fatalf("%d lines of a flood of 10 passed, want the burst of 3:\n%s", got, buf)
	}
	if h.Suppressed() != 7 || !strings.Contains(buf.String(), "other message") {
		t.Fatalf("suppressed %d, want 7; other messages must pass:\n%s", h.Suppressed(), buf)
	}
	*now = now.Add(time.Minute)
	log.Warn("bad message")
	if !strings.Contains(buf.String(), "suppressed_before=7") {
		t.Fatalf("the first line of a new window does not say how many were dropped:\n%s", buf)
	}
}

// TestManyDistinctMessagesAreBounded: messages that carry their details
// (a third-party library formats addresses into them) cannot grow the
// table, and still cannot flood the log.
func TestManyDistinctMessagesAreBounded(t *testing.T) {
	h, buf, _ := newTest(1, time.Minute)
	log := slog.New(h)
	for i := 0; i < 20000; i++ {
		log.Warn(fmt.Sprintf("bad krpc message from 127.0.0.1:%d", i))
	}
	lines := strings.Count(buf.String(), "\n")
	if lines > maxKeys || len(h.lim.keys) > maxKeys {
		t.Fatalf("%d lines and %d keys for 20,000 distinct messages; want at most %d", lines, len(h.lim.keys), maxKeys)
	}
	if h.Suppressed() != int64(20000-lines) {
		t.Fatalf("suppressed %d, want %d", h.Suppressed(), 20000-lines)
	}
}
