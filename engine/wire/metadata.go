package wire

import (
	"fmt"
	"strconv"
)

// MetadataMsgType is the msg_type of a BEP 9 ut_metadata message.
type MetadataMsgType int

// The BEP 9 message types.
const (
	MetadataRequest MetadataMsgType = 0
	MetadataData    MetadataMsgType = 1
	MetadataReject  MetadataMsgType = 2
)

// MetadataPieceSize is the size of every metadata piece but the last (BEP 9).
const MetadataPieceSize = 16 * 1024

// maxMetadataDictLen bounds the bencoded dict before a data message's block.
// A well-formed one is under 60 bytes.
const maxMetadataDictLen = 1024

// maxMetadataPieces is the number of pieces of a MaxMetadataSize info dict.
const maxMetadataPieces = MaxMetadataSize / MetadataPieceSize

// MetadataMsg is one BEP 9 ut_metadata message. TotalSize and Data are used
// by MetadataData only.
type MetadataMsg struct {
	Type      MetadataMsgType
	Piece     int
	TotalSize int
	Data      []byte
}

// metadataDictIn is the decoding shape of the ut_metadata dict; the pointers
// tell missing keys from zero values.
type metadataDictIn struct {
	MsgType   *int64 `bencode:"msg_type"`
	Piece     *int64 `bencode:"piece"`
	TotalSize int64  `bencode:"total_size"`
}

// MetadataPieceLen returns the length of metadata piece number piece of an
// info dictionary of totalSize bytes, or 0 if there is no such piece.
func MetadataPieceLen(totalSize, piece int) int {
	if piece < 0 || totalSize <= 0 || piece >= (totalSize+MetadataPieceSize-1)/MetadataPieceSize {
		return 0
	}
	return min(MetadataPieceSize, totalSize-piece*MetadataPieceSize)
}

// Marshal returns the ut_metadata payload (after the extended ID): the
// bencoded dict followed by Data. It fails with ErrMalformed on what
// ParseMetadataMsg would reject: a piece out of range, Data in a request or
// reject, or a data message whose block length does not match TotalSize.
func (m MetadataMsg) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("wire: marshal metadata message: %w", err)
	}
	b := make([]byte, 0, 64+len(m.Data))
	b = strconv.AppendInt(append(b, "d8:msg_typei"...), int64(m.Type), 10)
	b = strconv.AppendInt(append(b, "e5:piecei"...), int64(m.Piece), 10)
	if m.Type == MetadataData {
		b = strconv.AppendInt(append(b, "e10:total_sizei"...), int64(m.TotalSize), 10)
	}
	b = append(b, "ee"...)
	return append(b, m.Data...), nil // validate allows Data only where it belongs
}

// ParseMetadataMsg decodes a ut_metadata payload, splitting the bencoded dict
// from the block that follows it in a data message; m.Data aliases b. It
// checks that msg_type and piece are present, that piece is in range, and
// for a data message that total_size is at most MaxMetadataSize and the
// block has exactly the length MetadataPieceLen gives. Request and reject
// messages must carry no block. Unknown message types are returned without
// error (BEP 9 says to ignore them), with anything after the dict in Data.
func ParseMetadataMsg(b []byte) (MetadataMsg, error) {
	if len(b) > maxMetadataDictLen+MetadataPieceSize {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: %d bytes: %w", len(b), ErrMalformed)
	}
	n, err := bencodeValueLen(b)
	if err != nil {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: %w: %w", ErrMalformed, err)
	}
	var in metadataDictIn
	if err := decodeDict("parse metadata message", b[:n], maxMetadataDictLen, &in); err != nil {
		return MetadataMsg{}, err
	}
	if in.MsgType == nil || in.Piece == nil {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: missing msg_type or piece: %w", ErrMalformed)
	}
	if *in.MsgType < 0 || *in.MsgType > 1<<30 {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: msg_type %d: %w", *in.MsgType, ErrMalformed)
	}
	m := MetadataMsg{Type: MetadataMsgType(*in.MsgType), Piece: int(*in.Piece)}
	if *in.Piece < 0 || *in.Piece >= maxMetadataPieces {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: piece %d out of range: %w", *in.Piece, ErrMalformed)
	}
	if rest := b[n:]; len(rest) > 0 {
		m.Data = rest
	}
	if m.Type == MetadataData {
		if in.TotalSize < 0 || in.TotalSize > MaxMetadataSize {
			return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: total_size %d out of range: %w",
				in.TotalSize, ErrMalformed)
		}
		m.TotalSize = int(in.TotalSize)
	}
	if err := m.validate(); err != nil {
		return MetadataMsg{}, fmt.Errorf("wire: parse metadata message: %w", err)
	}
	return m, nil
}

// validate checks the invariants shared by Marshal and ParseMetadataMsg.
func (m MetadataMsg) validate() error {
	if m.Piece < 0 || m.Piece >= maxMetadataPieces {
		return fmt.Errorf("piece %d out of range: %w", m.Piece, ErrMalformed)
	}
	switch m.Type {
	case MetadataRequest, MetadataReject:
		if len(m.Data) != 0 {
			return fmt.Errorf("%d bytes of data in a type %d message: %w", len(m.Data), m.Type, ErrMalformed)
		}
	case MetadataData:
		if m.TotalSize <= 0 || m.TotalSize > MaxMetadataSize {
			return fmt.Errorf("total_size %d out of range: %w", m.TotalSize, ErrMalformed)
		}
		if want := MetadataPieceLen(m.TotalSize, m.Piece); want == 0 || len(m.Data) != want {
			return fmt.Errorf("piece %d of %d-byte metadata has %d bytes, want %d: %w",
				m.Piece, m.TotalSize, len(m.Data), want, ErrMalformed)
		}
	}
	return nil
}
