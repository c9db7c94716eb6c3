package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
)

// lookalike listens on TCP and UDP at one loopback port, as a libtorrent
// with incoming uTP off does: TCP connections go to handle, every UDP
// datagram (a uTP SYN) is read and dropped without an answer.
func lookalike(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	for range 20 {
		ln, err := loopback.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			ln.Close() // the UDP port is taken: another pair
			continue
		}
		t.Cleanup(func() { ln.Close(); pc.Close() })
		go func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go handle(c)
			}
		}()
		return ln.Addr().String()
	}
	t.Fatal("no loopback port free for both TCP and UDP")
	return ""
}

// preferDialer dials in Prefer mode over TCP and uTP (its own UDP socket).
func preferDialer(t *testing.T) *Dialer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUTP(pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.CloseNow() })
	return &Dialer{Dial: loopback.Dial, DialUTP: u.Dial, Mode: func() Encryption { return Prefer }, Timeout: 5 * time.Second}
}

// TestPreferPlainBeforeUTP: a peer with encryption off that is silent to
// uTP (libtorrent with incoming uTP off) refuses MSE over TCP; plain TCP
// is tried next, at once. Before, MSE over uTP came first and waited the
// full 15 s connect timeout.
func TestPreferPlainBeforeUTP(t *testing.T) {
	addr := lookalike(t, func(c net.Conn) {
		defer c.Close()
		r := Receiver{Mode: func() Encryption { return Off }}
		in, err := r.Receive(context.Background(), c, bufio.NewReader(c), 5*time.Second)
		if err != nil {
			return
		}
		out := handshake(7, 2)
		out.InfoHash = in.InfoHash
		wire.WriteHandshake(in.Conn, out)
		io.Copy(io.Discard, in.Reader)
	})
	d := preferDialer(t)
	start := time.Now()
	c, _, err := d.Connect(context.Background(), addr, handshake(7, 1))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close()
	t.Logf("plain TCP after a refused MSE in %v", took.Round(time.Millisecond))
	if c.Network != "tcp" || c.Encryption != EncNone {
		t.Fatalf("got %s over %s, want plain TCP", c.Encryption, c.Network)
	}
	if took > 5*time.Second {
		t.Fatalf("took %v: the uTP attempt came before plain TCP", took)
	}
}

// TestUTPFallbackTimeout: a peer that resets every TCP handshake and is
// silent to uTP fails within a few seconds: once TCP reached it, a uTP
// connect gets 2 s (SYN resends included), not 15 s. Before, each of the
// two rounds (MSE, then plain) waited 15 s for uTP.
func TestUTPFallbackTimeout(t *testing.T) {
	addr := lookalike(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	d := preferDialer(t)
	start := time.Now()
	_, _, err := d.Connect(context.Background(), addr, handshake(7, 1))
	took := time.Since(start)
	if err == nil {
		t.Fatal("connected to a peer that resets everything")
	}
	t.Logf("gave up after %v: %v", took.Round(time.Millisecond), err)
	if took > 12*time.Second {
		t.Fatalf("took %v to give up: the uTP connect waited its full timeout", took)
	}
}

// TestUTPAfterRefusedTCP: a host that refuses TCP and is silent to uTP
// fails within a few seconds: the refusal shows the host is up, so the
// uTP connect racing it gets 2 s more, not the rest of its 15 s.
func TestUTPAfterRefusedTCP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go io.Copy(io.Discard, readerOf(pc))
	d := preferDialer(t)
	start := time.Now()
	_, _, err = d.Connect(context.Background(), pc.LocalAddr().String(), handshake(7, 1))
	took := time.Since(start)
	if err == nil {
		t.Fatal("connected to a port with nothing but a silent UDP socket")
	}
	t.Logf("gave up after %v: %v", took.Round(time.Millisecond), err)
	if took > 8*time.Second {
		t.Fatalf("took %v to give up: uTP waited its full timeout after TCP was refused", took)
	}
}

// readerOf reads datagrams from pc as a stream (to drop them).
func readerOf(pc net.PacketConn) io.Reader {
	return readerFunc(func(b []byte) (int, error) {
		n, _, err := pc.ReadFrom(b)
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// TestTCPOnlyLeavesUTPOut: a connect under WithTCPOnly sends nothing over
// uTP: with uTP on it dials TCP alone, with uTP alone it fails at once
// with ErrUTPHeld, and without the context uTP is dialled as usual.
func TestTCPOnlyLeavesUTPOut(t *testing.T) {
	var utpDials, tcpDials int
	refused := errors.New("refused")
	d := &Dialer{
		Dial: func(context.Context, string, string) (net.Conn, error) { tcpDials++; return nil, refused },
		DialUTP: func(context.Context, string) (net.Conn, error) {
			utpDials++
			return nil, refused
		},
		Timeout: time.Second,
	}
	mode := UTPOn
	d.UTPMode = func() UTPMode { return mode }
	held := WithTCPOnly(context.Background())
	if _, _, err := d.Connect(held, "127.0.0.1:9", handshake(7, 1)); err == nil || utpDials != 0 || tcpDials != 1 {
		t.Errorf("uTP on, TCP only: err %v, %d uTP and %d TCP dials; want 0 and 1", err, utpDials, tcpDials)
	}
	mode = UTPOnly
	if _, _, err := d.Connect(held, "127.0.0.1:9", handshake(7, 1)); !errors.Is(err, ErrUTPHeld) || utpDials != 0 {
		t.Errorf("uTP only, TCP only: err %v and %d uTP dials; want ErrUTPHeld and none", err, utpDials)
	}
	if _, _, err := d.Connect(context.Background(), "127.0.0.1:9", handshake(7, 1)); err == nil || utpDials != 1 {
		t.Errorf("uTP only: err %v and %d uTP dials; want 1", err, utpDials)
	}
}
