package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
)

// receiveCases are incoming byte streams with the kind of failure (nil:
// accepted) a Prefer receiver knowing infohash 7 must report. They seed
// FuzzReceive too.
var receiveCases = []struct {
	name string
	in   []byte
	want error
}{
	{"plain handshake", wire.AppendHandshake(nil, handshake(7, 1)), nil},
	{"plain, unknown torrent", wire.AppendHandshake(nil, handshake(8, 1)), nil}, // the engine looks it up
	{"plain, cut short", wire.AppendHandshake(nil, handshake(7, 1))[:30], ErrClosed},
	{"nothing", nil, ErrClosed},
	{"19 then not the protocol", append([]byte{19}, bytes.Repeat([]byte{'x'}, 120)...), ErrClosed},
	{"half an MSE key", bytes.Repeat([]byte{0xAB}, 48), ErrClosed},
	// Garbage where the hash should be: mse reads at most 532 bytes for it,
	// and reports an EOF or a failed sync depending on where it stopped.
	{"an MSE key and garbage", bytes.Repeat([]byte{0xCD}, 96+600), errAnyKind},
	{"an HTTP request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ErrClosed},
}

// errAnyKind in a case accepts any classified failure.
var errAnyKind = errors.New("any kind")

// receiveBytes feeds in to a Prefer receiver over an in-memory pipe (the
// peer closes after sending) and returns what Receive returned.
func receiveBytes(in []byte) (*Incoming, error) {
	a, b := net.Pipe()
	defer a.Close()
	go io.Copy(io.Discard, b) // what the receiver sends (its MSE key, padding)
	go func() {
		b.Write(in)
		b.Close()
	}()
	r := Receiver{Mode: func() Encryption { return Prefer }, SKeys: func() [][20]byte { return [][20]byte{{7}, {9}} }}
	return r.Receive(context.Background(), a, bufio.NewReaderSize(a, 4096), 2*time.Second)
}

func TestReceiveTable(t *testing.T) {
	for _, tc := range receiveCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := receiveBytes(tc.in)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if in.InfoHash != [20]byte(tc.in[28:48]) {
					t.Fatalf("infohash %x", in.InfoHash)
				}
				return
			}
			if Kind(err) == nil || tc.want != errAnyKind && Kind(err) != tc.want {
				t.Fatalf("got %v (kind %v), want kind %v", err, Kind(err), tc.want)
			}
		})
	}
}

// FuzzReceive: whatever a peer sends, Receive returns within its deadline
// without panicking, either a classified *HandshakeError or a connection
// whose infohash is what the plain handshake named.
func FuzzReceive(f *testing.F) {
	for _, tc := range receiveCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		in, err := receiveBytes(b)
		if time.Since(start) > 3*time.Second {
			t.Fatalf("Receive took %v", time.Since(start))
		}
		if err != nil {
			var he *HandshakeError
			if !errors.As(err, &he) || he.Kind == nil {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if in.Encryption == EncNone && (len(b) < 48 || in.InfoHash != [20]byte(b[28:48])) {
			t.Fatalf("plain connection for %x from %x", in.InfoHash, b)
		}
		if in.Encryption != EncNone && in.InfoHash != [20]byte{7} && in.InfoHash != [20]byte{9} {
			t.Fatalf("MSE connection for %x, which is not one of our keys", in.InfoHash)
		}
	})
}
