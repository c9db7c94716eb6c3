package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUDPFloodDoesNotFillStderr sends 20,000 malformed packets to a
// daemon's DHT port (its log at debug level, the most talkative) and
// counts the lines it writes to stderr. On ec57023 the same flood gave
// 4,818 lines at the default level.
func TestUDPFloodDoesNotFillStderr(t *testing.T) {
	cmd := exec.Command(shoalBin, "daemon", "--loopback-only", "--listen", "127.0.0.1:0",
		"--bootstrap", "none", "--data", t.TempDir(), "--log-level", "debug")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var ready readyLine
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	before := strings.Count(stderr.String(), "\n")
	conn, err := net.Dial("udp", ready.DHTAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const packets = 20000
	for i := 0; i < packets; i++ {
		conn.Write([]byte("d1:rd2:id3:abce1:t2:zz1:y1:re"))
		conn.Write(append([]byte("d1:ad2:id20:"), byte(i), byte(i>>8)))
		if i%500 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	lines := strings.Count(stderr.String(), "\n") - before
	t.Logf("%d malformed packets: %d lines on stderr", 2*packets, lines)
	if lines > 100 {
		t.Fatalf("%d stderr lines for %d malformed packets; want at most 100:\n%s", lines, 2*packets, clipLog(stderr.String()))
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func clipLog(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}
