package wire

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"runtime"
	"testing"
)

func FuzzDecoder(f *testing.F) {
	var all []byte
	for _, tc := range validMessages {
		f.Add([]byte(tc.wire), uint16(64))
		all = append(all, tc.wire...)
	}
	f.Add(all, uint16(1024))
	f.Add(all, uint16(3))
	for _, tc := range decoderErrorCases {
		f.Add([]byte(tc.in), uint16(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLen16 uint16) {
		maxLen := uint32(maxLen16) + 1
		enc := make([]byte, 0, len(data)) // re-encodings never outgrow the input
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := NewDecoder(bytes.NewReader(data), maxLen)
		var err error
		for err == nil {
			var m Message
			if m, err = d.Next(); err == nil {
				enc = AppendMessage(enc, m)
			}
		}
		runtime.ReadMemStats(&after)
		// The bufio buffer (<= maxLen+4), the large-message buffer (<= maxLen),
		// and small change for the Decoder and the error value.
		if limit := 2*uint64(maxLen) + 4 + 8<<10; after.TotalAlloc-before.TotalAlloc > limit {
			t.Fatalf("decoding %d bytes with maxLen %d allocated %d bytes, limit %d",
				len(data), maxLen, after.TotalAlloc-before.TotalAlloc, limit)
		}
		if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrMalformed) &&
			!errors.Is(err, ErrMessageTooLong) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if !bytes.HasPrefix(data, enc) {
			t.Fatalf("re-encoded messages %q are not a prefix of the input %q", enc, data)
		}
		checkSameMessages(t, enc, maxLen)
	})
}

// checkSameMessages decodes enc twice, once through ReadPieceInto with a
// caller buffer, and checks both give the same messages and end cleanly.
func checkSameMessages(t *testing.T, enc []byte, maxLen uint32) {
	d1 := NewDecoder(bytes.NewReader(enc), maxLen)
	d2 := NewDecoder(bytes.NewReader(enc), maxLen)
	dst := func(_, _, n uint32) []byte { return make([]byte, n) }
	for {
		m1, err1 := d1.Next()
		m2, err2 := d2.ReadPieceInto(dst)
		if err1 != nil || err2 != nil {
			if err1 != io.EOF || err2 != io.EOF {
				t.Fatalf("re-decoding re-encoded messages: %v / %v", err1, err2)
			}
			return
		}
		if !msgEqual(m1, m2) {
			t.Fatalf("Next gave %+v, ReadPieceInto %+v", m1, m2)
		}
	}
}

func FuzzReadHandshake(f *testing.F) {
	for _, tc := range handshakeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHandshake(bytes.NewReader(data))
		if err != nil {
			if len(data) >= HandshakeLen && !errors.Is(err, ErrBadProtocol) {
				t.Fatalf("complete handshake failed with %v", err)
			}
			return
		}
		if got := AppendHandshake(nil, h); !bytes.Equal(got, data[:HandshakeLen]) {
			t.Fatalf("re-encoded handshake %q, input %q", got, data[:HandshakeLen])
		}
	})
}

func FuzzParseExtHandshake(f *testing.F) {
	for _, tc := range extHandshakeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseExtHandshake(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if h.MetadataSize < 0 || h.MetadataSize > MaxMetadataSize || h.P < 0 || h.P > 65535 || h.Reqq < 0 {
			t.Fatalf("out-of-range fields accepted: %+v", h)
		}
		for name, id := range h.M {
			if id < 0 || id > 255 {
				t.Fatalf("extension %q has id %d", name, id)
			}
		}
		b, err := h.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed handshake: %v", err)
		}
		h2, err := ParseExtHandshake(b)
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip: %+v, %v; want %+v", h2, err, h)
		}
	})
}

func FuzzParseMetadataMsg(f *testing.F) {
	for _, tc := range metadataCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadataMsg(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if m.Piece < 0 || len(m.Data) > MetadataPieceSize {
			t.Fatalf("accepted piece %d with %d bytes", m.Piece, len(m.Data))
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed message: %v", err)
		}
		m2, err := ParseMetadataMsg(b)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %+v, %v; want %+v", m2, err, m)
		}
	})
}

func FuzzParsePEX(f *testing.F) {
	for _, tc := range pexCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePEX(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed PEX: %v", err)
		}
		p2, err := ParsePEX(b)
		if err != nil || len(p2.Added) != len(p.Added) || len(p2.Dropped) != len(p.Dropped) {
			t.Fatalf("round trip: %+v, %v; want %+v", p2, err, p)
		}
		if !sameAddrs(p.Added, p2.Added) || !sameAddrs(p.Dropped, p2.Dropped) {
			t.Fatalf("round trip changed peers: %+v, want %+v", p2, p)
		}
		if len(p.AddedFlags) != len(p.Added) || !sameFlags(p, p2) {
			t.Fatalf("round trip changed flags: %+v, want %+v", p2, p)
		}
	})
}

// sameAddrs reports whether a and b hold the same peers, ignoring the
// IPv4-before-IPv6 reordering Marshal does.
func sameAddrs(a, b []netip.AddrPort) bool {
	count := map[netip.AddrPort]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}

// sameFlags reports whether a and b give each added peer the same flags
// (as a multiset of peer and flags).
func sameFlags(a, b PEX) bool {
	type pf struct {
		ap netip.AddrPort
		f  PEXFlags
	}
	count := map[pf]int{}
	for i, x := range a.Added {
		count[pf{x, a.AddedFlags[i]}]++
	}
	for i, x := range b.Added {
		count[pf{x, b.AddedFlags[i]}]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}

func FuzzParseBitfield(f *testing.F) {
	for _, tc := range bitfieldCases {
		f.Add(tc.payload, tc.n)
	}
	f.Fuzz(func(t *testing.T, payload []byte, n int) {
		b, err := ParseBitfield(payload, n)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(b, payload) || len(b) != (n+7)/8 {
			t.Fatalf("ParseBitfield(%x, %d) = %x", payload, n, []byte(b))
		}
		if c := b.Count(n); c < 0 || c > n || c != b.Count(len(b)*8) {
			t.Fatalf("Count(%d) = %d, Count(all) = %d: spare bits set", n, c, b.Count(len(b)*8))
		}
		for i := n; i < len(b)*8; i++ {
			if b.Has(i) {
				t.Fatalf("spare bit %d set", i)
			}
		}
	})
}
