package peerclients

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBinMissing(t *testing.T) {
	t.Parallel()
	_, err := Bin("shoal-no-such-client")
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Bin of a missing binary: %v, want ErrNotInstalled", err)
	}
	if _, err := Bin("sh"); err != nil {
		t.Fatalf("Bin(sh): %v", err)
	}
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("freePorts(3) = %v, want distinct", ports)
	}
	l, err := net.Listen("tcp", addr(ports[0]))
	if err != nil {
		t.Fatalf("TCP on the free port: %v", err)
	}
	l.Close()
	pc, err := net.ListenPacket("udp", addr(ports[0]))
	if err != nil {
		t.Fatalf("UDP on the free port: %v", err)
	}
	pc.Close()
}

func TestProc(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		script string
		check  func(t *testing.T, p *Proc)
	}{
		{"exit 0 with output", "echo hello; echo oops >&2", func(t *testing.T, p *Proc) {
			if err := p.Wait(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			if out := p.Output(100); !strings.Contains(out, "hello") || !strings.Contains(out, "oops") {
				t.Errorf("output %q lacks stdout or stderr", out)
			}
			if p.Ended().Before(p.Started) {
				t.Errorf("ended %v before it started %v", p.Ended(), p.Started)
			}
		}},
		{"exit 3", "exit 3", func(t *testing.T, p *Proc) {
			if err := p.Wait(10 * time.Second); err == nil || !strings.Contains(err.Error(), "exit status 3") {
				t.Errorf("Wait = %v, want exit status 3", err)
			}
		}},
		{"stopped by SIGTERM", "sleep 60", func(t *testing.T, p *Proc) {
			start := time.Now()
			p.Stop(5 * time.Second)
			if !p.Exited() || time.Since(start) > 4*time.Second {
				t.Errorf("Stop: exited %v after %v", p.Exited(), time.Since(start))
			}
		}},
		{"killed when it ignores SIGTERM", "trap '' TERM; sleep 60 & wait; sleep 60", func(t *testing.T, p *Proc) {
			time.Sleep(200 * time.Millisecond) // let the trap be set
			p.Stop(300 * time.Millisecond)
			if !p.Exited() {
				t.Error("Stop returned before the process exited")
			}
		}},
		{"exits before listening", "exit 0", func(t *testing.T, p *Proc) {
			port, err := FreePort()
			if err != nil {
				t.Fatal(err)
			}
			if err := p.WaitListening(addr(port), 10*time.Second); !errors.Is(err, ErrExited) {
				t.Errorf("WaitListening = %v, want ErrExited", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Start(t, "/bin/sh", "-c", tc.script)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestWaitListening(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := Start(t, "/bin/sh", "-c", "exec sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitListening(l.Addr().String(), 5*time.Second); err != nil {
		t.Fatalf("WaitListening on an open port: %v", err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitListening(addr(port), 300*time.Millisecond); err == nil || errors.Is(err, ErrExited) {
		t.Fatalf("WaitListening on a closed port: %v, want a timeout", err)
	}
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	var b tailBuffer
	line := strings.Repeat("x", 1000) + "\n"
	for i := range 3000 { // about 3 MB: more than tailMax
		b.Write([]byte(strconv.Itoa(i) + line))
	}
	if n := b.buf.Len(); n > tailMax+len(line)+10 {
		t.Errorf("buffer holds %d bytes, want at most about %d", n, tailMax)
	}
	if got := b.tail(len(line) + 4); !strings.HasSuffix(got, "2999"+line) {
		t.Errorf("tail lost the last write: %q", got[:20])
	}
	if got := b.tail(10); len(got) != 10+len("…") {
		t.Errorf("tail(10) has %d bytes", len(got))
	}
}
