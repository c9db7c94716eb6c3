package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// DefaultMaxMessageLen is the message length limit NewDecoder uses when
// given 0: 1 MiB, far above a 16 KiB block plus its 13-byte header.
const DefaultMaxMessageLen = 1 << 20

// readBufferSize is the largest bufio buffer a Decoder uses. Messages that
// fit in it (every Piece with a 16 KiB block) are returned without copying.
const readBufferSize = 64 << 10

// Decoder reads length-prefixed peer wire messages from a stream, refusing
// any message longer than its limit. It is not safe for concurrent use.
//
// After an error other than ErrMalformed the stream position is undefined and
// the Decoder should be discarded. An ErrMalformed message has been consumed
// completely, so the next call starts at the following message (though a
// peer that sends one is usually disconnected).
type Decoder struct {
	r      *bufio.Reader
	maxLen uint32
	buf    []byte // holds messages longer than the bufio buffer; len <= maxLen
}

// BlockDst chooses where a Piece message's block is read to. It receives the
// piece index, the block offset and the block length, and returns a slice of
// exactly length bytes to read the block into, or nil to let the Decoder
// buffer it as usual.
type BlockDst func(index, begin, length uint32) []byte

// NewDecoder returns a Decoder reading from r. A length prefix above maxLen
// (the length counts the ID byte and payload) makes Next fail with
// ErrMessageTooLong; maxLen 0 means DefaultMaxMessageLen. The Decoder never
// holds more than maxLen bytes of message data plus its read buffer of at
// most 64 KiB.
func NewDecoder(r io.Reader, maxLen uint32) *Decoder {
	if maxLen == 0 {
		maxLen = DefaultMaxMessageLen
	}
	size := readBufferSize
	if uint64(maxLen)+4 < uint64(size) {
		size = int(maxLen) + 4
	}
	return &Decoder{r: bufio.NewReaderSize(r, size), maxLen: maxLen}
}

// Next returns the next message. m.Payload aliases an internal buffer that
// is valid only until the next call. At a clean end of stream (between
// messages) Next returns io.EOF itself; a stream cut inside a message gives
// a wrapped io.ErrUnexpectedEOF. Unknown message IDs are returned, not
// rejected, so callers can ignore them; fixed-size messages of the wrong
// length give ErrMalformed.
func (d *Decoder) Next() (Message, error) {
	return d.ReadPieceInto(nil)
}

// ReadPieceInto is Next with a fast path for Piece messages: if dst is not
// nil and returns a slice of the block's exact length, the block is read
// straight into that slice and m.Payload is that slice. Other messages, and
// Piece messages for which dst returns nil, are handled exactly as by Next.
func (d *Decoder) ReadPieceInto(dst BlockDst) (Message, error) {
	n, err := d.readLength()
	if err != nil {
		return Message{}, err
	}
	if n == 0 {
		return Message{KeepAlive: true}, nil
	}
	if n > d.maxLen {
		return Message{}, fmt.Errorf("wire: read message: length %d exceeds limit %d: %w",
			n, d.maxLen, ErrMessageTooLong)
	}
	if dst != nil && n >= 9 {
		if m, ok, err := d.readPieceInto(n, dst); ok || err != nil {
			return m, err
		}
	}
	body, err := d.readBody(int(n))
	if err != nil {
		return Message{}, err
	}
	return parseBody(body)
}

// readLength reads a 4-byte length prefix; io.EOF before its first byte is
// returned as is.
func (d *Decoder) readLength() (uint32, error) {
	p, err := d.r.Peek(4)
	if err != nil {
		if err == io.EOF && len(p) == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("wire: read message length: %w", noEOF(err))
	}
	n := binary.BigEndian.Uint32(p)
	_, _ = d.r.Discard(4) // cannot fail: the bytes are buffered
	return n, nil
}

// readBody reads an n-byte message body (ID and payload), aliasing the
// bufio buffer when it fits there.
func (d *Decoder) readBody(n int) ([]byte, error) {
	if n <= d.r.Size() {
		p, err := d.r.Peek(n)
		if err != nil {
			return nil, fmt.Errorf("wire: read message: %w", noEOF(err))
		}
		_, _ = d.r.Discard(n)
		return p, nil
	}
	if cap(d.buf) < n {
		d.buf = nil // let the old buffer go before allocating the new one
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, fmt.Errorf("wire: read message: %w", noEOF(err))
	}
	return b, nil
}

// readPieceInto handles the ReadPieceInto fast path for a message of length
// n >= 9. ok is false (and nothing is consumed) when the message is not a
// Piece or dst declines it.
func (d *Decoder) readPieceInto(n uint32, dst BlockDst) (m Message, ok bool, err error) {
	p, err := d.r.Peek(9)
	if err != nil {
		return Message{}, false, fmt.Errorf("wire: read message: %w", noEOF(err))
	}
	if MessageID(p[0]) != Piece {
		return Message{}, false, nil
	}
	index, begin := binary.BigEndian.Uint32(p[1:]), binary.BigEndian.Uint32(p[5:])
	out := dst(index, begin, n-9)
	if out == nil || uint32(len(out)) != n-9 {
		return Message{}, false, nil
	}
	_, _ = d.r.Discard(9)
	if _, err := io.ReadFull(d.r, out); err != nil {
		return Message{}, false, fmt.Errorf("wire: read piece block: %w", noEOF(err))
	}
	return Message{ID: Piece, Index: index, Begin: begin, Payload: out}, true, nil
}

// parseBody decodes a message body (ID byte then payload; len(body) >= 1).
func parseBody(body []byte) (Message, error) {
	id, p := MessageID(body[0]), body[1:]
	if want := payloadLen(id); want >= 0 && len(p) != want {
		return Message{}, fmt.Errorf("wire: read %v: payload length %d, want %d: %w",
			id, len(p), want, ErrMalformed)
	}
	m := Message{ID: id}
	switch id {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
	case Have, Suggest, AllowedFast:
		m.Index = binary.BigEndian.Uint32(p)
	case Request, Cancel, Reject:
		m.Index = binary.BigEndian.Uint32(p)
		m.Begin = binary.BigEndian.Uint32(p[4:])
		m.Length = binary.BigEndian.Uint32(p[8:])
	case Port:
		m.Port = binary.BigEndian.Uint16(p)
	case Piece:
		if len(p) < 8 {
			return Message{}, fmt.Errorf("wire: read piece: payload length %d < 8: %w", len(p), ErrMalformed)
		}
		m.Index, m.Begin = binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
		m.Payload = p[8:]
	case Extended:
		if len(p) < 1 {
			return Message{}, fmt.Errorf("wire: read extended: missing extended id: %w", ErrMalformed)
		}
		m.ExtendedID, m.Payload = p[0], p[1:]
	default: // BitfieldMsg and unknown IDs
		m.Payload = p
	}
	return m, nil
}
