package wire

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Bitfield is a BEP 3 piece bitfield: bit i (counting from the high bit of
// byte 0) is set when piece i is present. A Bitfield does not know its piece
// count; callers pass it where it matters.
type Bitfield []byte

// NewBitfield returns an empty bitfield for n pieces ((n+7)/8 bytes).
func NewBitfield(n int) Bitfield {
	if n < 0 {
		n = 0
	}
	return make(Bitfield, (n+7)/8)
}

// Has reports whether bit i is set; it is false for i outside the bitfield.
func (b Bitfield) Has(i int) bool {
	if i < 0 || i >= len(b)*8 {
		return false
	}
	return b[i>>3]&(0x80>>(uint(i)&7)) != 0
}

// Set sets bit i. It does nothing when i is outside the bitfield; callers
// must keep i below the piece count so the spare bits stay clear.
func (b Bitfield) Set(i int) {
	if i < 0 || i >= len(b)*8 {
		return
	}
	b[i>>3] |= 0x80 >> (uint(i) & 7)
}

// Clear clears bit i. It does nothing when i is outside the bitfield.
func (b Bitfield) Clear(i int) {
	if i < 0 || i >= len(b)*8 {
		return
	}
	b[i>>3] &^= 0x80 >> (uint(i) & 7)
}

// Count returns how many of the first n bits are set.
func (b Bitfield) Count(n int) int {
	if n > len(b)*8 {
		n = len(b) * 8
	}
	if n <= 0 {
		return 0
	}
	full, c := n/8, 0
	i := 0
	for ; i+8 <= full; i += 8 {
		c += bits.OnesCount64(binary.BigEndian.Uint64(b[i:]))
	}
	for ; i < full; i++ {
		c += bits.OnesCount8(b[i])
	}
	if rem := uint(n) & 7; rem != 0 {
		c += bits.OnesCount8(b[full] & ^byte(0xff>>rem))
	}
	return c
}

// ParseBitfield validates a Bitfield message payload for a torrent of
// numPieces pieces and returns a copy of it (the payload usually aliases the
// Decoder's buffer). A payload of the wrong length or with any spare bit set
// gives ErrMalformed.
func ParseBitfield(payload []byte, numPieces int) (Bitfield, error) {
	if numPieces < 0 {
		return nil, fmt.Errorf("wire: parse bitfield: negative piece count %d: %w", numPieces, ErrMalformed)
	}
	if want := (numPieces + 7) / 8; len(payload) != want {
		return nil, fmt.Errorf("wire: parse bitfield: %d bytes for %d pieces, want %d: %w",
			len(payload), numPieces, want, ErrMalformed)
	}
	if rem := uint(numPieces) & 7; rem != 0 && payload[len(payload)-1]&byte(0xff>>rem) != 0 {
		return nil, fmt.Errorf("wire: parse bitfield: spare bits set: %w", ErrMalformed)
	}
	b := make(Bitfield, len(payload))
	copy(b, payload)
	return b, nil
}
