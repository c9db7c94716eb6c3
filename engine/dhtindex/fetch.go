package dhtindex

import (
	"bufio"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/wire"
)

// Dialer opens a TCP connection under the engine's network policy.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Limits of one BEP 9 fetch.
const (
	// DefaultMaxMetadata caps the info dictionary an indexer fetches (the
	// engine's own downloads accept up to wire.MaxMetadataSize).
	DefaultMaxMetadata = 1 << 20
	// DefaultFetchTimeout bounds one fetch from one peer, connection
	// included.
	DefaultFetchTimeout = 20 * time.Second
	// ourMetadataID is the extended ID we ask peers to send ut_metadata on.
	ourMetadataID = 1
	// maxFetchMessages bounds how many messages a peer may send us before
	// the metadata is complete (bitfields, haves, PEX, keep-alives...).
	maxFetchMessages = 2000
)

// ErrBadMetadata means a peer sent an info dictionary that does not hash
// to the infohash, or one we cannot use.
var ErrBadMetadata = errors.New("dhtindex: metadata does not match the infohash")

// FetchMetadata connects to the BitTorrent peer at addr and fetches the
// info dictionary of ih over BEP 9 (ut_metadata), at most maxSize bytes,
// within ctx (and DefaultFetchTimeout). It returns the dictionary only if
// its SHA-1 is ih.
func FetchMetadata(ctx context.Context, dial Dialer, addr string, ih, peerID [20]byte, maxSize int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dhtindex: fetch metadata: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	b, err := fetchOn(c, ih, peerID, maxSize)
	if err != nil {
		return nil, fmt.Errorf("dhtindex: fetch metadata from %s: %w", addr, err)
	}
	return b, nil
}

// fetchOn runs the BEP 3/10/9 exchange on an open connection.
func fetchOn(c net.Conn, ih, peerID [20]byte, maxSize int) ([]byte, error) {
	r := bufio.NewReaderSize(c, 32<<10)
	if err := wire.WriteHandshake(c, wire.Handshake{Reserved: wire.DefaultReserved(), InfoHash: ih, PeerID: peerID}); err != nil {
		return nil, err
	}
	h, err := wire.ReadHandshake(r)
	if err != nil {
		return nil, err
	}
	if h.InfoHash != ih {
		return nil, errors.New("peer answered for another infohash")
	}
	if !h.SupportsExtended() {
		return nil, errors.New("peer lacks the extension protocol (BEP 10)")
	}
	hs, err := wire.ExtHandshake{M: map[string]int{wire.ExtMetadataName: ourMetadataID}, V: "Shoal indexer"}.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(wire.AppendExtended(nil, wire.ExtHandshakeID, hs)); err != nil {
		return nil, err
	}
	return readMetadata(c, wire.NewDecoder(r, wire.MetadataPieceSize+wire.MaxExtHandshakeLen), ih, maxSize)
}

// readMetadata reads messages until the metadata is complete.
func readMetadata(c net.Conn, d *wire.Decoder, ih [20]byte, maxSize int) ([]byte, error) {
	var data []byte
	var got []bool
	left := 0
	for range maxFetchMessages {
		m, err := d.Next()
		if err != nil {
			return nil, err
		}
		if m.ID != wire.Extended {
			continue
		}
		switch m.ExtendedID {
		case wire.ExtHandshakeID:
			if data != nil {
				continue
			}
			eh, err := wire.ParseExtHandshake(m.Payload)
			if err != nil {
				return nil, err
			}
			id := eh.M[wire.ExtMetadataName]
			if id <= 0 || eh.MetadataSize <= 0 {
				return nil, errors.New("peer does not serve metadata (BEP 9)")
			}
			if eh.MetadataSize > maxSize {
				return nil, fmt.Errorf("metadata of %d bytes is over the %d-byte cap", eh.MetadataSize, maxSize)
			}
			data = make([]byte, eh.MetadataSize)
			left = (eh.MetadataSize + wire.MetadataPieceSize - 1) / wire.MetadataPieceSize
			got = make([]bool, left)
			if err := requestAll(c, uint8(id), left); err != nil {
				return nil, err
			}
		case ourMetadataID:
			if data == nil {
				continue
			}
			mm, err := wire.ParseMetadataMsg(m.Payload)
			if err != nil {
				return nil, err
			}
			switch {
			case mm.Type == wire.MetadataReject:
				return nil, errors.New("peer rejected a metadata request")
			case mm.Type != wire.MetadataData || mm.TotalSize != len(data) || mm.Piece >= len(got) || got[mm.Piece]:
				continue
			case len(mm.Data) != wire.MetadataPieceLen(len(data), mm.Piece):
				return nil, errors.New("metadata piece of the wrong length")
			}
			copy(data[mm.Piece*wire.MetadataPieceSize:], mm.Data)
			got[mm.Piece] = true
			if left--; left == 0 {
				if sha1.Sum(data) != ih {
					return nil, ErrBadMetadata
				}
				return data, nil
			}
		}
	}
	return nil, errors.New("peer sent too many messages without the metadata")
}

func requestAll(c net.Conn, id uint8, pieces int) error {
	var buf []byte
	for i := range pieces {
		b, err := wire.MetadataMsg{Type: wire.MetadataRequest, Piece: i}.Marshal()
		if err != nil {
			return err
		}
		buf = wire.AppendExtended(buf, id, b)
	}
	_, err := c.Write(buf)
	return err
}

// Limits of what is indexed of one torrent.
const (
	maxNameBytes = 256
	maxPathBytes = 512
	maxPaths     = 200
)

// Torrent is what the index keeps of a verified info dictionary.
type Torrent struct {
	InfoHash [20]byte
	Name     string
	Size     int64
	Files    []string
}

// ParseInfo reads name, total size and file paths from a verified info
// dictionary, sanitized for the index: control characters and invalid
// UTF-8 replaced, path elements "", "." and ".." dropped, lengths and the
// number of paths capped. A dictionary with no usable name is refused.
func ParseInfo(ih [20]byte, b []byte) (Torrent, error) {
	var info metainfo.Info
	if err := bencode.Unmarshal(b, &info); err != nil {
		return Torrent{}, fmt.Errorf("dhtindex: parse info: %w", err)
	}
	name := info.Name
	if info.NameUtf8 != "" {
		name = info.NameUtf8
	}
	t := Torrent{InfoHash: ih, Name: clean(name, maxNameBytes)}
	if t.Name == "" {
		return Torrent{}, fmt.Errorf("dhtindex: parse info: %w: no name", ErrBadMetadata)
	}
	if len(info.Files) == 0 {
		if info.Length < 0 {
			return Torrent{}, fmt.Errorf("dhtindex: parse info: %w: negative length", ErrBadMetadata)
		}
		t.Size = info.Length
		return t, nil
	}
	for _, f := range info.Files {
		if f.Length < 0 || t.Size+f.Length < t.Size {
			return Torrent{}, fmt.Errorf("dhtindex: parse info: %w: bad file length", ErrBadMetadata)
		}
		t.Size += f.Length
		elems := f.Path
		if len(f.PathUtf8) > 0 {
			elems = f.PathUtf8
		}
		if p := cleanPath(elems); p != "" && len(t.Files) < maxPaths && !strings.HasPrefix(p, ".pad/") {
			t.Files = append(t.Files, p)
		}
	}
	return t, nil
}

// cleanPath joins path elements, dropping empty, "." and ".." ones.
func cleanPath(elems []string) string {
	var keep []string
	for _, e := range elems {
		e = clean(e, maxPathBytes)
		if e == "" || e == "." || e == ".." || strings.Contains(e, "/") {
			e = strings.ReplaceAll(e, "/", "_")
			if e == "" || e == "." || e == ".." {
				continue
			}
		}
		keep = append(keep, e)
	}
	return truncate(path.Join(keep...), maxPathBytes)
}

// clean makes s valid UTF-8 without control characters, trimmed, at most n
// bytes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.TrimSpace(s), n)
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
