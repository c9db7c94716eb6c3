// Package bencodescan measures and walks bencode (BEP 3) without decoding
// it: ValueLen checks one value's syntax and finds its end, and Dict walks
// a dictionary's entries with their values still encoded. Neither
// allocates, so both are cheap enough for every message a peer sends (the
// wire package checks extension messages with ValueLen before decoding
// them) and for every item of a large library at start-up (the engine
// tells a hybrid torrent's info dictionary by two of its keys without
// parsing the rest). Decoding stays with anacrolix's bencode package.
package bencodescan

import (
	"bytes"
	"errors"
	"fmt"
)

// Errors, each wrapped with where it was found.
var (
	// ErrTruncated: the input ends inside a value.
	ErrTruncated = errors.New("bencode: truncated")
	// ErrSyntax: a byte that bencode does not allow there, a
	// non-canonical integer or string length, or a key that is not a
	// string.
	ErrSyntax = errors.New("bencode: syntax error")
	// ErrDepth: lists and dictionaries nested deeper than allowed.
	ErrDepth = errors.New("bencode: nested too deeply")
)

// ValueLen returns the length of the one bencode value that starts b,
// checking its syntax (canonical integers and string lengths, string dict
// keys) and that lists and dictionaries nest at most maxDepth deep,
// without allocating. Trailing bytes are allowed.
func ValueLen(b []byte, maxDepth int) (int, error) {
	return skipValue(b, 0, 0, maxDepth)
}

// Dict calls fn with each key and encoded value of the dictionary that
// is all of b, in order, until fn returns false. It checks b's syntax as
// far as it walks, nesting at most maxDepth deep.
func Dict(b []byte, maxDepth int, fn func(key, value []byte) bool) error {
	if len(b) == 0 || b[0] != 'd' {
		return fmt.Errorf("%w: not a dictionary", ErrSyntax)
	}
	for i := 1; ; {
		if i >= len(b) {
			return ErrTruncated
		}
		if b[i] == 'e' {
			if i+1 != len(b) {
				return fmt.Errorf("%w: %d bytes after the dictionary", ErrSyntax, len(b)-i-1)
			}
			return nil
		}
		if b[i] < '0' || b[i] > '9' {
			return fmt.Errorf("%w: dict key is not a string at %d", ErrSyntax, i)
		}
		keyEnd, err := skipString(b, i)
		if err != nil {
			return err
		}
		valueEnd, err := skipValue(b, keyEnd, 1, maxDepth)
		if err != nil {
			return err
		}
		key := b[bytes.IndexByte(b[i:keyEnd], ':')+i+1 : keyEnd]
		if !fn(key, b[keyEnd:valueEnd]) {
			return nil
		}
		i = valueEnd
	}
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i, depth, maxDepth int) (int, error) {
	if i >= len(b) {
		return 0, ErrTruncated
	}
	switch c := b[i]; {
	case c == 'i':
		return skipInt(b, i+1)
	case c >= '0' && c <= '9':
		return skipString(b, i)
	case c == 'l' || c == 'd':
		if depth >= maxDepth {
			return 0, ErrDepth
		}
		return skipContainer(b, i, depth, maxDepth)
	}
	return 0, fmt.Errorf("%w: unexpected byte %q at %d", ErrSyntax, b[i], i)
}

// skipContainer skips the list or dict starting at b[i].
func skipContainer(b []byte, i, depth, maxDepth int) (int, error) {
	dict := b[i] == 'd'
	i++
	for n := 0; ; n++ {
		if i >= len(b) {
			return 0, ErrTruncated
		}
		if b[i] == 'e' {
			if dict && n%2 == 1 {
				return 0, fmt.Errorf("%w: dict key without value at %d", ErrSyntax, i)
			}
			return i + 1, nil
		}
		if dict && n%2 == 0 && (b[i] < '0' || b[i] > '9') {
			return 0, fmt.Errorf("%w: dict key is not a string at %d", ErrSyntax, i)
		}
		var err error
		if i, err = skipValue(b, i, depth+1, maxDepth); err != nil {
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
		return 0, ErrTruncated
	}
	nd := i - digits
	switch {
	case b[i] != 'e' || nd == 0 || nd > 19:
		return 0, fmt.Errorf("%w: bad integer at %d", ErrSyntax, start)
	case b[digits] == '0' && (nd > 1 || digits > start):
		return 0, fmt.Errorf("%w: non-canonical integer at %d", ErrSyntax, start)
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
			return 0, ErrTruncated
		}
	}
	if i >= len(b) {
		return 0, ErrTruncated
	}
	if b[i] != ':' || (b[start] == '0' && i-start > 1) {
		return 0, fmt.Errorf("%w: bad string length at %d", ErrSyntax, start)
	}
	if n > len(b)-i-1 {
		return 0, ErrTruncated
	}
	return i + 1 + n, nil
}
