package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func testHandshake() Handshake {
	h := Handshake{Reserved: DefaultReserved()}
	copy(h.InfoHash[:], "0123456789abcdefghij")
	copy(h.PeerID[:], "-SH0001-abcdefghijkl")
	return h
}

// handshakeCases are raw handshakes; wantErr nil means valid. They also seed FuzzReadHandshake.
var handshakeCases = []struct {
	name    string
	in      []byte
	wantErr error
}{
	{"valid", AppendHandshake(nil, testHandshake()), nil},
	{"valid with trailing message", append(AppendHandshake(nil, testHandshake()), 0, 0, 0, 0), nil},
	{"empty", nil, io.EOF},
	{"bad pstrlen", append([]byte{18}, AppendHandshake(nil, testHandshake())[1:]...), ErrBadProtocol},
	{"bad pstr", bytes.Replace(AppendHandshake(nil, testHandshake()), []byte("BitTorrent"), []byte("BitTorrenT"), 1), ErrBadProtocol},
	{"http request", []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), ErrBadProtocol},
	{"truncated pstr", AppendHandshake(nil, testHandshake())[:10], io.ErrUnexpectedEOF},
	{"truncated info hash", AppendHandshake(nil, testHandshake())[:40], io.ErrUnexpectedEOF},
	{"head only", AppendHandshake(nil, testHandshake())[:48], io.ErrUnexpectedEOF},
	{"truncated peer id", AppendHandshake(nil, testHandshake())[:67], io.ErrUnexpectedEOF},
}

func TestReadHandshake(t *testing.T) {
	t.Parallel()
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ReadHandshake(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("ReadHandshake error = %v, want %v", err, tc.wantErr)
			}
			if err == nil && h != testHandshake() {
				t.Fatalf("ReadHandshake = %+v, want %+v", h, testHandshake())
			}
		})
	}
}

func TestHandshakeEncoding(t *testing.T) {
	t.Parallel()
	h := testHandshake()
	var buf bytes.Buffer
	if err := WriteHandshake(&buf, h); err != nil {
		t.Fatal(err)
	}
	want := "\x13BitTorrent protocol\x00\x00\x00\x00\x00\x10\x00\x05" +
		"0123456789abcdefghij" + "-SH0001-abcdefghijkl"
	if buf.String() != want {
		t.Fatalf("WriteHandshake wrote %q, want %q", buf.String(), want)
	}
	if buf.Len() != HandshakeLen {
		t.Fatalf("handshake length %d, want %d", buf.Len(), HandshakeLen)
	}
}

func TestHandshakeHeadThenPeerID(t *testing.T) {
	t.Parallel()
	h := testHandshake()
	r := bytes.NewReader(AppendHandshake(nil, h))
	reserved, ih, err := ReadHandshakeHead(r)
	if err != nil || reserved != h.Reserved || ih != h.InfoHash {
		t.Fatalf("ReadHandshakeHead = %x, %x, %v", reserved, ih, err)
	}
	if r.Len() != 20 {
		t.Fatalf("head consumed %d bytes, want 48", HandshakeLen-r.Len())
	}
	id, err := ReadPeerID(r)
	if err != nil || id != h.PeerID {
		t.Fatalf("ReadPeerID = %q, %v", id, err)
	}
}

func TestReadHandshakeHeadStopsAtBadProtocol(t *testing.T) {
	t.Parallel()
	r := strings.NewReader("\x16" + strings.Repeat("x", 100))
	if _, _, err := ReadHandshakeHead(r); !errors.Is(err, ErrBadProtocol) {
		t.Fatalf("error = %v, want ErrBadProtocol", err)
	}
	if consumed := 101 - r.Len(); consumed != 20 {
		t.Fatalf("consumed %d bytes on a bad protocol, want 20", consumed)
	}
}

func TestHandshakeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		reserved       [8]byte
		ext, fast, dht bool
	}{
		{"none", [8]byte{}, false, false, false},
		{"default", DefaultReserved(), true, true, true},
		{"extended only", [8]byte{5: 0x10}, true, false, false},
		{"fast only", [8]byte{7: 0x04}, false, true, false},
		{"dht only", [8]byte{7: 0x01}, false, false, true},
		{"other bits", [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfa}, false, false, false},
	}
	for _, tc := range tests {
		h := Handshake{Reserved: tc.reserved}
		if h.SupportsExtended() != tc.ext || h.SupportsFast() != tc.fast || h.SupportsDHT() != tc.dht {
			t.Errorf("%s: ext/fast/dht = %v/%v/%v, want %v/%v/%v", tc.name,
				h.SupportsExtended(), h.SupportsFast(), h.SupportsDHT(), tc.ext, tc.fast, tc.dht)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteHandshakeError(t *testing.T) {
	t.Parallel()
	if err := WriteHandshake(failWriter{}, testHandshake()); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("error = %v, want wrapped io.ErrClosedPipe", err)
	}
}
