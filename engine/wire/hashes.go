package wire

import (
	"encoding/binary"
	"fmt"
)

// BEP 52 message IDs: a peer asks for Merkle tree hashes of a file (hash
// request), gets them (hashes) or is refused (hash reject).
const (
	HashRequest MessageID = 21
	Hashes      MessageID = 22
	HashReject  MessageID = 23
)

// MaxHashes is the most hashes one hashes message may carry; a request
// for more is rejected (libtorrent asks for at most 512 at a time).
const MaxHashes = 8192

// hashHeader is the fixed part of the three messages: pieces root, base
// layer, index, length, proof layers.
const hashHeader = 32 + 4*4

// v2Byte and v2Mask are the reserved bit that announces BEP 52 support.
const v2Byte, v2Mask = 7, 0x10

// SupportsV2 reports whether the peer announced BitTorrent v2 (BEP 52).
func (h Handshake) SupportsV2() bool { return h.Reserved[v2Byte]&v2Mask != 0 }

// WithV2 returns reserved bytes that also announce BitTorrent v2.
func WithV2(reserved [8]byte) [8]byte {
	reserved[v2Byte] |= v2Mask
	return reserved
}

// HashMsg is a BEP 52 hash request, hashes or hash reject message: Length
// hashes of the file with pieces root Root, from Index in layer BaseLayer
// (0 = the 16 KiB leaves), with ProofLayers layers of uncle hashes.
type HashMsg struct {
	Root                                  [32]byte
	BaseLayer, Index, Length, ProofLayers uint32
	// Hashes are the base layer's hashes then the uncle hashes (hashes
	// message only).
	Hashes [][32]byte
}

// ParseHashMsg decodes the payload of a message with ID HashRequest,
// Hashes or HashReject. Length must be a power of two from 2 to MaxHashes
// and Index a multiple of it; a hashes message carries at least Length
// hashes and at most Length plus one uncle per proof layer.
func ParseHashMsg(id MessageID, payload []byte) (HashMsg, error) {
	var h HashMsg
	if id != HashRequest && id != Hashes && id != HashReject {
		return h, fmt.Errorf("%w: %v is not a BEP 52 hash message", ErrMalformed, id)
	}
	if len(payload) < hashHeader {
		return h, fmt.Errorf("%w: %v of %d bytes", ErrMalformed, id, len(payload))
	}
	copy(h.Root[:], payload)
	h.BaseLayer = binary.BigEndian.Uint32(payload[32:])
	h.Index = binary.BigEndian.Uint32(payload[36:])
	h.Length = binary.BigEndian.Uint32(payload[40:])
	h.ProofLayers = binary.BigEndian.Uint32(payload[44:])
	if h.Length < 2 || h.Length > MaxHashes || h.Length&(h.Length-1) != 0 || h.Index%h.Length != 0 || h.BaseLayer > 64 || h.ProofLayers > 64 {
		return h, fmt.Errorf("%w: %v layer %d index %d length %d proof %d", ErrMalformed, id, h.BaseLayer, h.Index, h.Length, h.ProofLayers)
	}
	rest := payload[hashHeader:]
	if id != Hashes {
		if len(rest) != 0 {
			return h, fmt.Errorf("%w: %v with %d extra bytes", ErrMalformed, id, len(rest))
		}
		return h, nil
	}
	n := len(rest) / 32
	if len(rest)%32 != 0 || n < int(h.Length) || n > int(h.Length)+int(h.ProofLayers) {
		return h, fmt.Errorf("%w: hashes of %d bytes for length %d, %d proof layers", ErrMalformed, len(rest), h.Length, h.ProofLayers)
	}
	h.Hashes = make([][32]byte, n)
	for i := range h.Hashes {
		copy(h.Hashes[i][:], rest[32*i:])
	}
	return h, nil
}

// Message encodes h as a message with ID id (HashRequest, Hashes or
// HashReject); only Hashes carries h.Hashes.
func (h HashMsg) Message(id MessageID) Message {
	n := 0
	if id == Hashes {
		n = len(h.Hashes)
	}
	b := make([]byte, hashHeader, hashHeader+32*n)
	copy(b, h.Root[:])
	binary.BigEndian.PutUint32(b[32:], h.BaseLayer)
	binary.BigEndian.PutUint32(b[36:], h.Index)
	binary.BigEndian.PutUint32(b[40:], h.Length)
	binary.BigEndian.PutUint32(b[44:], h.ProofLayers)
	for _, x := range h.Hashes[:n] {
		b = append(b, x[:]...)
	}
	return Message{ID: id, Payload: b}
}
