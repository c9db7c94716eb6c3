package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// hashPayload builds a raw hash message payload.
func hashPayload(layer, index, length, proof uint32, hashes int) []byte {
	b := bytes.Repeat([]byte{0xab}, 32)
	for _, v := range []uint32{layer, index, length, proof} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, bytes.Repeat([]byte{0xcd}, 32*hashes)...)
}

type hashCase struct {
	name    string
	id      MessageID
	payload []byte
	ok      bool
}

func hashCases() []hashCase {
	return []hashCase{
		{"request", HashRequest, hashPayload(6, 0, 512, 0, 0), true},
		{"request index", HashRequest, hashPayload(6, 1024, 512, 3, 0), true},
		{"reject", HashReject, hashPayload(6, 0, 2, 0, 0), true},
		{"hashes", Hashes, hashPayload(6, 0, 4, 0, 4), true},
		{"hashes with uncles", Hashes, hashPayload(0, 8, 8, 3, 10), true},
		{"request with hashes", HashRequest, hashPayload(6, 0, 2, 0, 1), false},
		{"short header", HashRequest, hashPayload(6, 0, 2, 0, 0)[:47], false},
		{"empty", HashRequest, nil, false},
		{"length 1", HashRequest, hashPayload(6, 0, 1, 0, 0), false},
		{"length 3", HashRequest, hashPayload(6, 0, 3, 0, 0), false},
		{"length 0", HashRequest, hashPayload(6, 0, 0, 0, 0), false},
		{"length huge", HashRequest, hashPayload(6, 0, 1<<31, 0, 0), false},
		{"index not aligned", HashRequest, hashPayload(6, 3, 4, 0, 0), false},
		{"too few hashes", Hashes, hashPayload(6, 0, 4, 0, 3), false},
		{"too many hashes", Hashes, hashPayload(6, 0, 4, 1, 6), false},
		{"ragged hashes", Hashes, append(hashPayload(6, 0, 2, 0, 2), 1), false},
		{"layer absurd", HashRequest, hashPayload(200, 0, 2, 0, 0), false},
		{"not a hash message", Piece, hashPayload(6, 0, 2, 0, 0), false},
	}
}

func TestParseHashMsg(t *testing.T) {
	t.Parallel()
	for _, tc := range hashCases() {
		h, err := ParseHashMsg(tc.id, tc.payload)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v is not ErrMalformed", tc.name, err)
			}
			continue
		}
		if got := h.Message(tc.id).Payload; !bytes.Equal(got, tc.payload) {
			t.Errorf("%s: re-encoded %x, want %x", tc.name, got, tc.payload)
		}
		wire := AppendMessage(nil, h.Message(tc.id))
		m, err := NewDecoder(bytes.NewReader(wire), 1<<20).Next()
		if err != nil || m.ID != tc.id || !bytes.Equal(m.Payload, tc.payload) {
			t.Errorf("%s: through the decoder: %v %v", tc.name, m.ID, err)
		}
	}
}

func TestV2ReservedBit(t *testing.T) {
	t.Parallel()
	h := Handshake{Reserved: DefaultReserved()}
	if h.SupportsV2() {
		t.Fatal("default reserved bytes announce v2")
	}
	h.Reserved = WithV2(h.Reserved)
	if !h.SupportsV2() || !h.SupportsFast() || !h.SupportsExtended() {
		t.Fatalf("WithV2 %x", h.Reserved)
	}
}

// FuzzHashMsg feeds arbitrary payloads to ParseHashMsg with each of the
// three IDs, seeded with the table: no panic, and what parses re-encodes
// to the same bytes.
func FuzzHashMsg(f *testing.F) {
	for _, tc := range hashCases() {
		f.Add(byte(tc.id), tc.payload)
	}
	f.Fuzz(func(t *testing.T, id byte, payload []byte) {
		mid := HashRequest + MessageID(id%3)
		h, err := ParseHashMsg(mid, payload)
		if err != nil {
			return
		}
		if got := h.Message(mid).Payload; !bytes.Equal(got, payload) {
			t.Fatalf("re-encoded %x, want %x", got, payload)
		}
	})
}
