package wire

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// MessageID identifies a peer wire message (the byte after the length prefix).
type MessageID uint8

// Message IDs of BEP 3, BEP 5 (Port), BEP 6 (Fast extension) and BEP 10
// (Extended).
const (
	Choke         MessageID = 0
	Unchoke       MessageID = 1
	Interested    MessageID = 2
	NotInterested MessageID = 3
	Have          MessageID = 4
	BitfieldMsg   MessageID = 5 // not "Bitfield": that name is the Bitfield type
	Request       MessageID = 6
	Piece         MessageID = 7
	Cancel        MessageID = 8
	Port          MessageID = 9
	Suggest       MessageID = 13
	HaveAll       MessageID = 14
	HaveNone      MessageID = 15
	Reject        MessageID = 16
	AllowedFast   MessageID = 17
	Extended      MessageID = 20
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrMessageTooLong means a length prefix exceeded the Decoder's limit.
	ErrMessageTooLong = errors.New("wire: message too long")
	// ErrMalformed means a message or payload did not have the required shape.
	ErrMalformed = errors.New("wire: malformed message")
)

var messageNames = [...]string{
	Choke: "choke", Unchoke: "unchoke", Interested: "interested",
	NotInterested: "not_interested", Have: "have", BitfieldMsg: "bitfield",
	Request: "request", Piece: "piece", Cancel: "cancel", Port: "port",
	Suggest: "suggest_piece", HaveAll: "have_all", HaveNone: "have_none",
	Reject: "reject_request", AllowedFast: "allowed_fast", Extended: "extended",
}

// String returns the message's name as the BEPs spell it, or "MessageID(n)"
// for unknown IDs.
func (id MessageID) String() string {
	if int(id) < len(messageNames) && messageNames[id] != "" {
		return messageNames[id]
	}
	return "MessageID(" + strconv.Itoa(int(id)) + ")"
}

// payloadLen returns the exact payload length (after the ID byte) of
// fixed-size messages, or -1 for variable-size and unknown messages.
func payloadLen(id MessageID) int {
	switch id {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return 0
	case Have, Suggest, AllowedFast:
		return 4
	case Request, Cancel, Reject:
		return 12
	case Port:
		return 2
	}
	return -1
}

// Message is one decoded peer wire message. Which fields are meaningful
// depends on ID:
//
//   - Have, Suggest, AllowedFast: Index.
//   - Request, Cancel, Reject: Index, Begin, Length.
//   - Piece: Index, Begin, and the block in Payload (Length is not used).
//   - BitfieldMsg: the raw bitfield bytes in Payload (see ParseBitfield).
//   - Extended: ExtendedID and the payload after it in Payload.
//   - Port: Port.
//   - unknown IDs: the whole payload after the ID in Payload.
//
// KeepAlive is set for the zero-length keep-alive, and then nothing else is.
type Message struct {
	KeepAlive            bool
	ID                   MessageID
	Index, Begin, Length uint32
	Payload              []byte
	ExtendedID           uint8
	Port                 uint16
}

// AppendMessage appends the wire encoding of m (length prefix included) to
// buf and returns the extended buffer. Fields not used by m.ID are ignored.
func AppendMessage(buf []byte, m Message) []byte {
	if m.KeepAlive {
		return append(buf, 0, 0, 0, 0)
	}
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return append(binary.BigEndian.AppendUint32(buf, 1), byte(m.ID))
	case Have, Suggest, AllowedFast:
		return appendIndexMsg(buf, m.ID, m.Index)
	case Request, Cancel, Reject:
		return appendBlockMsg(buf, m.ID, m.Index, m.Begin, m.Length)
	case Piece:
		buf = AppendPieceHeader(buf, m.Index, m.Begin, len(m.Payload))
		return append(buf, m.Payload...)
	case Port:
		buf = append(binary.BigEndian.AppendUint32(buf, 3), byte(Port))
		return binary.BigEndian.AppendUint16(buf, m.Port)
	case Extended:
		return AppendExtended(buf, m.ExtendedID, m.Payload)
	}
	buf = append(binary.BigEndian.AppendUint32(buf, uint32(1+len(m.Payload))), byte(m.ID))
	return append(buf, m.Payload...)
}

// AppendRequest appends a Request message for a block of a piece.
func AppendRequest(buf []byte, index, begin, length uint32) []byte {
	return appendBlockMsg(buf, Request, index, begin, length)
}

// AppendCancel appends a Cancel message for a block of a piece.
func AppendCancel(buf []byte, index, begin, length uint32) []byte {
	return appendBlockMsg(buf, Cancel, index, begin, length)
}

// AppendReject appends a BEP 6 Reject message for a block of a piece.
func AppendReject(buf []byte, index, begin, length uint32) []byte {
	return appendBlockMsg(buf, Reject, index, begin, length)
}

// AppendHave appends a Have message for piece index.
func AppendHave(buf []byte, index uint32) []byte {
	return appendIndexMsg(buf, Have, index)
}

// AppendPieceHeader appends the 13-byte header of a Piece message carrying a
// block of blockLen bytes, without the block itself, so the caller can send
// the block from its own buffer (for example with net.Buffers).
func AppendPieceHeader(buf []byte, index, begin uint32, blockLen int) []byte {
	buf = append(binary.BigEndian.AppendUint32(buf, uint32(9+blockLen)), byte(Piece))
	buf = binary.BigEndian.AppendUint32(buf, index)
	return binary.BigEndian.AppendUint32(buf, begin)
}

// AppendExtended appends a BEP 10 Extended message with the given extended
// message ID (0 is the extension handshake) and payload.
func AppendExtended(buf []byte, extID uint8, payload []byte) []byte {
	buf = append(binary.BigEndian.AppendUint32(buf, uint32(2+len(payload))), byte(Extended), extID)
	return append(buf, payload...)
}

func appendIndexMsg(buf []byte, id MessageID, index uint32) []byte {
	buf = append(binary.BigEndian.AppendUint32(buf, 5), byte(id))
	return binary.BigEndian.AppendUint32(buf, index)
}

func appendBlockMsg(buf []byte, id MessageID, index, begin, length uint32) []byte {
	buf = append(binary.BigEndian.AppendUint32(buf, 13), byte(id))
	buf = binary.BigEndian.AppendUint32(buf, index)
	buf = binary.BigEndian.AppendUint32(buf, begin)
	return binary.BigEndian.AppendUint32(buf, length)
}
