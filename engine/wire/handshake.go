package wire

import (
	"errors"
	"fmt"
	"io"
)

// Protocol is the protocol string of the BEP 3 handshake.
const Protocol = "BitTorrent protocol"

// HandshakeLen is the length in bytes of a complete BEP 3 handshake.
const HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20

// handshakeHeadLen is the length of the handshake up to and including the info hash.
const handshakeHeadLen = 1 + len(Protocol) + 8 + 20

// ErrBadProtocol is returned (wrapped) when a handshake does not start with
// pstrlen 19 and "BitTorrent protocol".
var ErrBadProtocol = errors.New("wire: not a BitTorrent handshake")

// Handshake is the BEP 3 handshake:
// <pstrlen=19><"BitTorrent protocol"><reserved 8><info_hash 20><peer_id 20>.
type Handshake struct {
	Reserved [8]byte
	InfoHash [20]byte
	PeerID   [20]byte
}

// Reserved-bit masks as (byte index, mask) pairs.
const (
	extendedByte, extendedMask = 5, 0x10 // BEP 10
	fastByte, fastMask         = 7, 0x04 // BEP 6
	dhtByte, dhtMask           = 7, 0x01 // BEP 5
)

// SupportsExtended reports whether the peer set the BEP 10 extension-protocol bit.
func (h Handshake) SupportsExtended() bool { return h.Reserved[extendedByte]&extendedMask != 0 }

// SupportsFast reports whether the peer set the BEP 6 Fast-extension bit.
func (h Handshake) SupportsFast() bool { return h.Reserved[fastByte]&fastMask != 0 }

// SupportsDHT reports whether the peer set the BEP 5 DHT bit.
func (h Handshake) SupportsDHT() bool { return h.Reserved[dhtByte]&dhtMask != 0 }

// DefaultReserved returns reserved bytes announcing the extension protocol
// (BEP 10), the Fast extension (BEP 6) and DHT (BEP 5).
func DefaultReserved() [8]byte {
	var r [8]byte
	r[extendedByte] |= extendedMask
	r[fastByte] |= fastMask
	r[dhtByte] |= dhtMask
	return r
}

// AppendHandshake appends the 68-byte encoding of h to buf.
func AppendHandshake(buf []byte, h Handshake) []byte {
	buf = append(buf, byte(len(Protocol)))
	buf = append(buf, Protocol...)
	buf = append(buf, h.Reserved[:]...)
	buf = append(buf, h.InfoHash[:]...)
	return append(buf, h.PeerID[:]...)
}

// WriteHandshake writes the complete handshake h to w in a single Write.
func WriteHandshake(w io.Writer, h Handshake) error {
	var b [HandshakeLen]byte
	if _, err := w.Write(AppendHandshake(b[:0], h)); err != nil {
		return fmt.Errorf("wire: write handshake: %w", err)
	}
	return nil
}

// ReadHandshakeHead reads the handshake from pstrlen through the info hash
// (48 bytes). A listener uses it to learn which torrent the peer wants before
// replying. It reads the 20-byte protocol prefix first and returns
// ErrBadProtocol without consuming more if it is wrong.
func ReadHandshakeHead(r io.Reader) (reserved [8]byte, infoHash [20]byte, err error) {
	var b [handshakeHeadLen]byte
	if _, err = io.ReadFull(r, b[:1+len(Protocol)]); err != nil {
		return reserved, infoHash, fmt.Errorf("wire: read handshake: %w", err)
	}
	if b[0] != byte(len(Protocol)) || string(b[1:1+len(Protocol)]) != Protocol {
		return reserved, infoHash, fmt.Errorf("wire: read handshake: pstrlen %d: %w", b[0], ErrBadProtocol)
	}
	if _, err = io.ReadFull(r, b[1+len(Protocol):]); err != nil {
		return reserved, infoHash, fmt.Errorf("wire: read handshake: %w", noEOF(err))
	}
	copy(reserved[:], b[1+len(Protocol):])
	copy(infoHash[:], b[1+len(Protocol)+8:])
	return reserved, infoHash, nil
}

// ReadPeerID reads the 20-byte peer id that ends a handshake.
func ReadPeerID(r io.Reader) (id [20]byte, err error) {
	var b [20]byte
	if _, err = io.ReadFull(r, b[:]); err != nil {
		return id, fmt.Errorf("wire: read peer id: %w", noEOF(err))
	}
	return b, nil
}

// ReadHandshake reads a complete handshake: ReadHandshakeHead then ReadPeerID.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var h Handshake
	var err error
	if h.Reserved, h.InfoHash, err = ReadHandshakeHead(r); err != nil {
		return Handshake{}, err
	}
	if h.PeerID, err = ReadPeerID(r); err != nil {
		return Handshake{}, err
	}
	return h, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF for reads that start mid-structure.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
