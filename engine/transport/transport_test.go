package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
	"github.com/shoalp2p/shoal/internal/netguard"
)

var loopback = netguard.Policy{LoopbackOnly: true}

func handshake(ih byte, id byte) wire.Handshake {
	h := wire.Handshake{Reserved: wire.DefaultReserved()}
	h.InfoHash[0], h.PeerID[0] = ih, id
	return h
}

// server accepts one connection, receives its handshake in mode, answers
// with its own handshake, echoes len(payload) bytes back, and reports.
type serverResult struct {
	in  *Incoming
	err error
}

func serve(t *testing.T, mode Encryption, skeys ...[20]byte) (string, <-chan serverResult) {
	t.Helper()
	ln, err := loopback.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan serverResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- serverResult{err: err}
			return
		}
		defer c.Close()
		r := Receiver{Mode: func() Encryption { return mode }, SKeys: func() [][20]byte { return skeys }}
		in, err := r.Receive(context.Background(), c, bufio.NewReaderSize(c, 4096), 2*time.Second)
		if err != nil {
			done <- serverResult{err: err}
			return
		}
		out := handshake(in.InfoHash[0], 2)
		out.InfoHash = in.InfoHash
		if err := wire.WriteHandshake(in.Conn, out); err != nil {
			done <- serverResult{err: err}
			return
		}
		if _, err := wire.ReadPeerID(in.Reader); err != nil {
			done <- serverResult{err: err}
			return
		}
		var n [4]byte
		io.ReadFull(in.Reader, n[:])
		buf := make([]byte, int(n[0])<<16|int(n[1])<<8|int(n[2]))
		if _, err := io.ReadFull(in.Reader, buf); err != nil {
			done <- serverResult{err: err}
			return
		}
		_, err = in.Conn.Write(buf)
		done <- serverResult{in: in, err: err}
	}()
	return ln.Addr().String(), done
}

// TestModes runs every pair of modes over loopback TCP and checks what
// each side negotiated and that 1 MiB crosses both ways intact.
func TestModes(t *testing.T) {
	ih := [20]byte{7}
	cases := []struct {
		out, in Encryption
		want    string // negotiated, or "" for a failure
		kind    error  // the dialer's failure kind
	}{
		{Prefer, Prefer, EncObfuscated, nil},
		{Prefer, Require, EncRC4, nil},
		// Prefer → Off: see TestPreferFallsBackToPlain.
		{Require, Prefer, EncRC4, nil},
		{Require, Require, EncRC4, nil},
		{Require, Off, "", ErrClosed},
		{Off, Prefer, EncNone, nil},
		{Off, Require, "", ErrClosed},
		{Off, Off, EncNone, nil},
	}
	for _, tc := range cases {
		t.Run(tc.out.String()+"→"+tc.in.String(), func(t *testing.T) {
			addr, done := serve(t, tc.in, [20]byte{1}, ih, [20]byte{9})
			d := &Dialer{Dial: loopback.Dial, Mode: func() Encryption { return tc.out }, Timeout: 5 * time.Second}
			out := handshake(7, 1)
			c, in, err := d.Connect(context.Background(), addr, out)
			if tc.want == "" {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("Connect: %v, want kind %v", err, tc.kind)
				}
				t.Logf("refused as expected: %v; server: %v", err, (<-done).err)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer c.Close()
			if in.InfoHash != ih || in.PeerID[0] != 2 {
				t.Fatalf("peer handshake %+v", in)
			}
			if c.Encryption != tc.want {
				t.Errorf("dialer negotiated %s, want %s", c.Encryption, tc.want)
			}
			res := echo(t, c, done)
			if res.err != nil {
				t.Fatalf("server: %v", res.err)
			}
			if res.in.Encryption != tc.want || res.in.InfoHash != ih {
				t.Errorf("server negotiated %s for %x, want %s", res.in.Encryption, res.in.InfoHash, tc.want)
			}
		})
	}
}

// echo sends 1 MiB of random bytes and checks they come
// back; it returns the server's result.
func echo(t *testing.T, c *Conn, done <-chan serverResult) serverResult {
	t.Helper()
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	msg := append([]byte(nil), byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload)), 0)
	go c.Conn.Write(append(msg, payload...))
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c.Reader, got); err != nil {
		t.Fatalf("read echo: %v; server: %v", err, (<-done).err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("echoed bytes differ")
	}
	return <-done
}

// TestPreferFallsBackToPlain: a plain-only peer closes our MSE preamble;
// a Prefer dialer redials in plain, and the next dial goes plain at once.
func TestPreferFallsBackToPlain(t *testing.T) {
	ln, err := loopback.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ih := [20]byte{7}
	accepted := make(chan string, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := Receiver{Mode: func() Encryption { return Off }}
				in, err := r.Receive(context.Background(), c, bufio.NewReader(c), 5*time.Second)
				if err != nil {
					accepted <- "refused: " + err.Error()
					return
				}
				accepted <- in.Encryption
				out := handshake(7, 2)
				wire.WriteHandshake(in.Conn, out)
				io.Copy(io.Discard, in.Reader)
			}()
		}
	}()
	d := &Dialer{Dial: loopback.Dial, Mode: func() Encryption { return Prefer }, Timeout: 5 * time.Second}
	for i := range 2 {
		c, in, err := d.Connect(context.Background(), ln.Addr().String(), handshake(7, 1))
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if in.InfoHash != ih || c.Encryption != EncNone {
			t.Fatalf("dial %d: %x over %s", i, in.InfoHash, c.Encryption)
		}
		c.Close()
	}
	var got []string
	for range 3 {
		got = append(got, <-accepted)
	}
	if got[1] != EncNone || got[2] != EncNone || !bytes.Contains([]byte(got[0]), []byte("turned off")) {
		t.Fatalf("server saw %q; want the MSE attempt refused, then two plain connections", got)
	}
	select {
	case s := <-accepted:
		t.Fatalf("a fourth connection (%s): the second dial should go plain at once", s)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestErrorKinds: each failure mode has its own error value.
func TestErrorKinds(t *testing.T) {
	closedAddr := func() string {
		ln, _ := loopback.Listen("tcp", "127.0.0.1:0")
		a := ln.Addr().String()
		ln.Close()
		return a
	}
	// A server that does something to each connection.
	server := func(f func(c net.Conn)) string {
		ln, err := loopback.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go f(c)
			}
		}()
		return ln.Addr().String()
	}
	reset := server(func(c net.Conn) {
		io.ReadFull(c, make([]byte, 68))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	eof := server(func(c net.Conn) {
		io.ReadFull(c, make([]byte, 68))
		c.Close()
	})
	eofMSE := server(func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		io.Copy(io.Discard, c) // read all of the preamble, then close without a word
		c.Close()
	})
	wrong := server(func(c net.Conn) {
		io.ReadFull(c, make([]byte, 68))
		wire.WriteHandshake(c, handshake(8, 2))
		time.Sleep(time.Second)
		c.Close()
	})
	for _, tc := range []struct {
		name string
		addr string
		mode Encryption
		want error
	}{
		{"refused", closedAddr(), Off, ErrRefused},
		{"reset", reset, Off, ErrReset},
		{"closed", eof, Off, ErrClosed},
		{"closed during MSE", eofMSE, Require, ErrClosed},
		{"wrong infohash", wrong, Off, ErrWrongInfoHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Dialer{Dial: loopback.Dial, Mode: func() Encryption { return tc.mode }, Timeout: 5 * time.Second}
			_, _, err := d.Connect(context.Background(), tc.addr, handshake(7, 1))
			if !errors.Is(err, tc.want) || Kind(err) != tc.want {
				t.Fatalf("got %v (kind %v), want %v", err, Kind(err), tc.want)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

// TestRequireRefusesPlain: a Require receiver refuses a plain handshake
// with ErrPlainPeer, and an MSE peer offering only plain data too.
func TestRequireRefusesPlain(t *testing.T) {
	ih := [20]byte{7}
	addr, done := serve(t, Require, ih)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wire.WriteHandshake(c, handshake(7, 1))
	if res := <-done; !errors.Is(res.err, ErrPlainPeer) {
		t.Fatalf("plain handshake: %v, want ErrPlainPeer", res.err)
	} else {
		t.Logf("plain: %v", res.err)
	}
}

// TestTimeout: a peer that sends half an MSE key and stalls is dropped at
// the deadline with ErrTimeout.
func TestTimeout(t *testing.T) {
	addr, done := serve(t, Prefer, [20]byte{7})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(bytes.Repeat([]byte{0xAB}, 48))
	select {
	case res := <-done:
		if !errors.Is(res.err, ErrTimeout) {
			t.Fatalf("got %v, want ErrTimeout", res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled handshake outlived its 2 s deadline")
	}
}
