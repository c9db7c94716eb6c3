package wire

import (
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// Extension names and limits for BEP 9, 10 and 11.
const (
	// ExtHandshakeID is the extended message ID of the BEP 10 handshake.
	ExtHandshakeID = 0
	// ExtMetadataName is the BEP 10 "m" key of ut_metadata (BEP 9).
	ExtMetadataName = "ut_metadata"
	// ExtPEXName is the BEP 10 "m" key of ut_pex (BEP 11).
	ExtPEXName = "ut_pex"
	// MaxMetadataSize is the largest info dictionary (metadata_size) accepted.
	MaxMetadataSize = 8 << 20
	// MaxExtHandshakeLen is the largest extension handshake payload parsed.
	MaxExtHandshakeLen = 64 << 10
)

// ExtHandshake is the BEP 10 extension handshake (message ID 20, extended
// ID 0). M maps extension names to the IDs the sender wants to receive them
// on; 0 means the extension is disabled.
type ExtHandshake struct {
	M            map[string]int `bencode:"m"`
	V            string         `bencode:"v,omitempty"`
	P            int            `bencode:"p,omitempty"`
	MetadataSize int            `bencode:"metadata_size,omitempty"`
	Reqq         int            `bencode:"reqq,omitempty"`
	YourIP       []byte         `bencode:"yourip,omitempty"`
}

// extHandshakeIn is the lenient decoding shape: fields of unexpected type
// are ignored, except metadata_size, which a ut_metadata exchange relies on.
type extHandshakeIn struct {
	M            map[string]any `bencode:"m,ignore_unmarshal_type_error"`
	V            string         `bencode:"v,ignore_unmarshal_type_error"`
	P            int64          `bencode:"p,ignore_unmarshal_type_error"`
	MetadataSize int64          `bencode:"metadata_size"`
	Reqq         int64          `bencode:"reqq,ignore_unmarshal_type_error"`
	YourIP       []byte         `bencode:"yourip,ignore_unmarshal_type_error"`
}

// Marshal returns the bencoded handshake (the payload after the extended
// ID). A nil M is sent as an empty dict, since BEP 10 requires "m".
func (h ExtHandshake) Marshal() ([]byte, error) {
	if h.M == nil {
		h.M = map[string]int{}
	}
	b, err := bencode.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("wire: marshal extension handshake: %w", err)
	}
	return b, nil
}

// ParseExtHandshake decodes a BEP 10 handshake payload. Unknown keys and
// known keys of the wrong type are ignored, and so are M entries whose ID is
// not an integer in 0..255, a p outside 1..65535, a reqq outside 1..2^20
// and a yourip that is not 4 or 16 bytes. Anything that is not a bencode dict
// within MaxExtHandshakeLen, and a metadata_size that is not an integer in
// 0..MaxMetadataSize, gives ErrMalformed.
func ParseExtHandshake(b []byte) (ExtHandshake, error) {
	var in extHandshakeIn
	if err := decodeDict("parse extension handshake", b, MaxExtHandshakeLen, &in); err != nil {
		return ExtHandshake{}, err
	}
	if in.MetadataSize < 0 || in.MetadataSize > MaxMetadataSize {
		return ExtHandshake{}, fmt.Errorf("wire: parse extension handshake: metadata_size %d out of range: %w",
			in.MetadataSize, ErrMalformed)
	}
	h := ExtHandshake{V: in.V, MetadataSize: int(in.MetadataSize), M: make(map[string]int, len(in.M))}
	for name, v := range in.M {
		if id, ok := v.(int64); ok && id >= 0 && id <= 255 {
			h.M[name] = int(id)
		}
	}
	if in.P > 0 && in.P <= 65535 {
		h.P = int(in.P)
	}
	if in.Reqq > 0 && in.Reqq <= 1<<20 {
		h.Reqq = int(in.Reqq)
	}
	if len(in.YourIP) == 4 || len(in.YourIP) == 16 {
		h.YourIP = in.YourIP
	}
	return h, nil
}
