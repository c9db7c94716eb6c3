package engine_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginetest"
)

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMalformedUDPCannotFloodTheLog sends 20,000 malformed packets to the
// DHT port of an engine logging at debug level: the log stays short (on
// ec57023 the same flood wrote 4,818 lines to stderr) and the counters in
// the snapshot show what was held back.
func TestMalformedUDPCannotFloodTheLog(t *testing.T) {
	var logs lockedBuffer
	cfg := enginetest.Config(t)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	node := enginetest.Start(t, cfg)
	conn, err := net.Dial("udp", node.DHTAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const packets = 20000
	for i := 0; i < packets; i++ {
		conn.Write(malformedKRPC(i))
		if i%500 == 0 {
			time.Sleep(time.Millisecond) // let the socket buffer drain
		}
	}
	enginetest.WaitFor(t, "packets counted", 10*time.Second, func() bool {
		return node.Snapshot().Net.DHTLibraryLines > 0
	})
	time.Sleep(200 * time.Millisecond)
	lines := strings.Count(logs.String(), "\n")
	net := node.Snapshot().Net
	t.Logf("%d malformed packets: %d log lines; %d DHT library lines counted, %d lines quieted", packets, lines, net.DHTLibraryLines, net.QuietedLogLines)
	if lines > 200 {
		t.Fatalf("%d log lines for %d malformed packets; want at most 200", lines, packets)
	}
	if net.QuietedLogLines == 0 {
		t.Fatal("nothing was counted as quieted, yet the flood was not logged")
	}
}

// malformedKRPC makes packet i of the flood: random bytes, truncated
// queries, or well-formed bencode that is no KRPC message.
func malformedKRPC(i int) []byte {
	junk := make([]byte, 20)
	rand.Read(junk)
	switch i % 3 {
	case 0:
		return append([]byte("d1:ad2:id20:"), junk...)
	case 1:
		return []byte("d1:rd2:id3:abce1:t2:zz1:y1:re")
	default:
		return append([]byte("d1:q"), junk...)
	}
}
