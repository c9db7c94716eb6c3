package wire

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// maxBencodeDepth bounds list/dict nesting in peer-supplied bencode. The
// extension messages nest two levels at most.
const maxBencodeDepth = 16

var (
	errBencodeTruncated = errors.New("bencode: truncated")
	errBencodeSyntax    = errors.New("bencode: syntax error")
	errBencodeDepth     = errors.New("bencode: nested too deeply")
)

// bencodeValueLen returns the length of the one bencode value that starts
// b, checking its syntax (canonical integers and string lengths, string dict
// keys) and nesting depth without allocating. Trailing bytes are allowed.
func bencodeValueLen(b []byte) (int, error) {
	return skipValue(b, 0, 0)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errBencodeTruncated
	}
	switch c := b[i]; {
	case c == 'i':
		return skipInt(b, i+1)
	case c >= '0' && c <= '9':
		return skipString(b, i)
	case c == 'l' || c == 'd':
		if depth >= maxBencodeDepth {
			return 0, errBencodeDepth
		}
		return skipContainer(b, i, depth)
	}
	return 0, fmt.Errorf("%w: unexpected byte %q at %d", errBencodeSyntax, b[i], i)
}

// skipContainer skips the list or dict starting at b[i].
func skipContainer(b []byte, i, depth int) (int, error) {
	dict := b[i] == 'd'
	i++
	for n := 0; ; n++ {
		if i >= len(b) {
			return 0, errBencodeTruncated
		}
		if b[i] == 'e' {
			if dict && n%2 == 1 {
				return 0, fmt.Errorf("%w: dict key without value at %d", errBencodeSyntax, i)
			}
			return i + 1, nil
		}
		if dict && n%2 == 0 && (b[i] < '0' || b[i] > '9') {
			return 0, fmt.Errorf("%w: dict key is not a string at %d", errBencodeSyntax, i)
		}
		var err error
		if i, err = skipValue(b, i, depth+1); err != nil {
			return 0, err
		}
	}
}

// skipInt skips the digits and 'e' of an integer whose 'i' ends at b[i-1].
func skipInt(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i >= len(b) {
		return 0, errBencodeTruncated
	}
	nd := i - digits
	switch {
	case b[i] != 'e' || nd == 0 || nd > 19:
		return 0, fmt.Errorf("%w: bad integer at %d", errBencodeSyntax, start)
	case b[digits] == '0' && (nd > 1 || digits > start):
		return 0, fmt.Errorf("%w: non-canonical integer at %d", errBencodeSyntax, start)
	}
	return i + 1, nil
}

// skipString skips a <length>:<bytes> string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	start, n := i, 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
		if n > len(b) {
			return 0, errBencodeTruncated
		}
	}
	if i >= len(b) {
		return 0, errBencodeTruncated
	}
	if b[i] != ':' || (b[start] == '0' && i-start > 1) {
		return 0, fmt.Errorf("%w: bad string length at %d", errBencodeSyntax, start)
	}
	if n > len(b)-i-1 {
		return 0, errBencodeTruncated
	}
	return i + 1 + n, nil
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
