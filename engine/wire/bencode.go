package wire

import (
	"bytes"
	"fmt"

	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/internal/bencodescan"
)

// maxBencodeDepth bounds list/dict nesting in peer-supplied bencode. The
// extension messages nest two levels at most.
const maxBencodeDepth = 16

// bencodeValueLen returns the length of the one bencode value that starts
// b, its syntax and depth checked without allocating (bencodescan).
// Trailing bytes are allowed.
func bencodeValueLen(b []byte) (int, error) {
	return bencodescan.ValueLen(b, maxBencodeDepth)
}

// decodeDict checks that b is exactly one well-formed bencode dict of at
// most maxLen bytes and then unmarshals it into v. Every failure wraps
// ErrMalformed; what names the operation for the message.
func decodeDict(what string, b []byte, maxLen int, v any) error {
	if len(b) > maxLen {
		return fmt.Errorf("wire: %s: %d bytes exceeds limit %d: %w", what, len(b), maxLen, ErrMalformed)
	}
	if len(b) == 0 || b[0] != 'd' {
		return fmt.Errorf("wire: %s: not a bencode dict: %w", what, ErrMalformed)
	}
	n, err := bencodeValueLen(b)
	if err != nil {
		return fmt.Errorf("wire: %s: %w: %w", what, ErrMalformed, err)
	}
	if n != len(b) {
		return fmt.Errorf("wire: %s: %d trailing bytes: %w", what, len(b)-n, ErrMalformed)
	}
	d := bencode.NewDecoder(bytes.NewReader(b))
	d.MaxStrLen, d.MaxDepth = int64(len(b)), maxBencodeDepth
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("wire: %s: %w: %w", what, ErrMalformed, err)
	}
	return nil
}
