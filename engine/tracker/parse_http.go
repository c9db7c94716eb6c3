package tracker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"
)

// httpResponse is the bencoded announce response dictionary.
type httpResponse struct {
	FailureReason  string    `bencode:"failure reason"`
	WarningMessage string    `bencode:"warning message"`
	Interval       int64     `bencode:"interval"`
	MinInterval    int64     `bencode:"min interval"`
	TrackerID      string    `bencode:"tracker id"`
	Complete       int64     `bencode:"complete"`
	Incomplete     int64     `bencode:"incomplete"`
	Peers          peerField `bencode:"peers"`
	Peers6         peerField `bencode:"peers6"`
}

// peerField captures "peers"/"peers6" raw, because it is either a compact
// string (BEP 23 / BEP 7) or a list of dictionaries (BEP 3).
type peerField struct{ raw []byte }

// UnmarshalBencode implements bencode.Unmarshaler.
func (p *peerField) UnmarshalBencode(b []byte) error {
	p.raw = append([]byte(nil), b...)
	return nil
}

// dictPeer is one entry of a non-compact peer list.
type dictPeer struct {
	IP   string `bencode:"ip"`
	Port int64  `bencode:"port"`
}

// ParseHTTPResponse parses a bencoded HTTP announce response: compact and
// dictionary "peers", compact "peers6", intervals, counts, "warning message"
// and "tracker id". A "failure reason" yields an error wrapping
// ErrTrackerFailure (the returned Response still carries any warning);
// undecodable input yields an error wrapping ErrBadResponse. Trailing bytes
// after the dictionary are ignored.
func ParseHTTPResponse(body []byte) (Response, error) {
	var hr httpResponse
	d := bencode.NewDecoder(bytes.NewReader(body))
	d.MaxStrLen = int64(len(body))
	if err := d.Decode(&hr); err != nil {
		return Response{}, fmt.Errorf("%w: bencode: %w", ErrBadResponse, err)
	}
	r := Response{Warning: hr.WarningMessage, TrackerID: hr.TrackerID}
	if hr.FailureReason != "" {
		return r, fmt.Errorf("%w: %s", ErrTrackerFailure, hr.FailureReason)
	}
	r.Interval = seconds(hr.Interval)
	r.MinInterval = seconds(hr.MinInterval)
	r.Seeders = clampCount(hr.Complete)
	r.Leechers = clampCount(hr.Incomplete)
	var err error
	if r.Peers, err = parsePeerField(r.Peers, hr.Peers.raw, 6); err != nil {
		return Response{}, fmt.Errorf("%w: peers: %w", ErrBadResponse, err)
	}
	if r.Peers, err = parsePeerField(r.Peers, hr.Peers6.raw, 18); err != nil {
		return Response{}, fmt.Errorf("%w: peers6: %w", ErrBadResponse, err)
	}
	return r, nil
}

// parsePeerField decodes a raw "peers" or "peers6" value: a compact string
// of size-byte entries, or a list of {ip, port} dictionaries.
func parsePeerField(peers []netip.AddrPort, raw []byte, size int) ([]netip.AddrPort, error) {
	if len(raw) == 0 {
		return peers, nil
	}
	if raw[0] == 'l' {
		return parseDictPeers(peers, raw)
	}
	var compact []byte
	d := bencode.NewDecoder(bytes.NewReader(raw))
	d.MaxStrLen = int64(len(raw))
	if err := d.Decode(&compact); err != nil {
		return nil, fmt.Errorf("not a string or list: %w", err)
	}
	return parseCompactPeers(peers, compact, size)
}

// parseCompactPeers decodes 6-byte (IPv4) or 18-byte (IPv6) entries: the
// address followed by a big-endian port.
func parseCompactPeers(peers []netip.AddrPort, b []byte, size int) ([]netip.AddrPort, error) {
	if len(b)%size != 0 {
		return nil, fmt.Errorf("compact length %d is not a multiple of %d", len(b), size)
	}
	peers = growPeers(peers, len(b)/size)
	for ; len(b) >= size; b = b[size:] {
		addr, _ := netip.AddrFromSlice(b[:size-2])
		port := binary.BigEndian.Uint16(b[size-2 : size])
		peers = appendPeer(peers, netip.AddrPortFrom(addr, port))
	}
	return peers, nil
}

// parseDictPeers decodes a BEP 3 list of peer dictionaries. Entries whose
// "ip" is not an IP literal (host names are never resolved) or whose port
// is out of range are skipped.
func parseDictPeers(peers []netip.AddrPort, raw []byte) ([]netip.AddrPort, error) {
	var list []dictPeer
	d := bencode.NewDecoder(bytes.NewReader(raw))
	d.MaxStrLen = int64(len(raw))
	if err := d.Decode(&list); err != nil {
		return nil, fmt.Errorf("peer list: %w", err)
	}
	for _, p := range list {
		addr, err := netip.ParseAddr(p.IP)
		if err != nil || p.Port <= 0 || p.Port > 0xffff {
			continue
		}
		peers = appendPeer(peers, netip.AddrPortFrom(addr.Unmap(), uint16(p.Port)))
	}
	return peers, nil
}

func growPeers(peers []netip.AddrPort, n int) []netip.AddrPort {
	if cap(peers)-len(peers) >= n {
		return peers
	}
	grown := make([]netip.AddrPort, len(peers), len(peers)+n)
	copy(grown, peers)
	return grown
}
