package torrentfile

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// ErrBadTorrent is wrapped by every refusal of Parse and ParseInfo.
var ErrBadTorrent = errors.New("bad torrent")

// File is what Shoal uses from a .torrent file.
type File struct {
	// InfoBytes is the info dictionary exactly as encoded: its SHA-1 is
	// the v1 infohash, its SHA-256 the v2 infohash.
	InfoBytes []byte
	// Trackers are announce URLs, tier by tier (BEP 12), or the single
	// announce URL as one tier.
	Trackers [][]string
	// WebSeeds are the url-list entries (BEP 19).
	WebSeeds []string
	// PieceLayers maps a file's pieces root to its concatenated piece
	// layer hashes (BEP 52).
	PieceLayers map[string]string
	// Ignored names each optional key that was dropped because it was
	// malformed, with the reason; callers log it.
	Ignored []string
}

// Parse decodes a .torrent file. Bytes after the top-level dictionary are
// ignored, as libtorrent ignores them.
func Parse(b []byte) (*File, error) {
	var top dict
	if err := bencode.NewDecoder(bytes.NewReader(b)).Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: bencode: %w", ErrBadTorrent, err)
	}
	info, ok := top["info"]
	if !ok {
		return nil, fmt.Errorf("%w: no info dictionary", ErrBadTorrent)
	}
	if kind(info) != 'd' {
		return nil, fmt.Errorf("%w: info is not a dictionary", ErrBadTorrent)
	}
	f := &File{InfoBytes: []byte(info)}
	f.Trackers = f.trackers(top)
	f.WebSeeds = f.urlList(top)
	f.PieceLayers = f.pieceLayers(top)
	f.check(top, "creation date", 'i')
	f.check(top, "comment", 's')
	f.check(top, "created by", 's')
	f.check(top, "nodes", 'l')
	f.check(top, "httpseeds", 'l')
	return f, nil
}

// check notes an optional key Shoal does not use when it has the wrong
// type, so the log shows what a torrent carried.
func (f *File) check(top dict, key string, want byte) {
	if raw, ok := top[key]; ok && kind(raw) != want {
		f.ignore(key, "wrong type")
	}
}

func (f *File) ignore(key, why string) {
	f.Ignored = append(f.Ignored, key+": "+why)
}

// trackers reads announce-list, falling back to announce; entries that are
// not strings are dropped.
func (f *File) trackers(top dict) [][]string {
	var tiers [][]string
	if list, ok := top.list("announce-list"); ok {
		for _, raw := range list {
			if urls := f.stringsOf("announce-list", raw); len(urls) > 0 {
				tiers = append(tiers, urls)
			}
		}
	} else {
		f.check(top, "announce-list", 'l')
	}
	if len(tiers) > 0 {
		return tiers
	}
	announce, ok := top.str("announce")
	f.check(top, "announce", 's')
	if ok && announce != "" {
		return [][]string{{announce}}
	}
	return nil
}

// urlList reads BEP 19's url-list: one string or a list of strings.
func (f *File) urlList(top dict) []string {
	raw, ok := top["url-list"]
	if !ok {
		return nil
	}
	if s, ok := top.str("url-list"); ok {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	return f.stringsOf("url-list", raw)
}

// stringsOf returns the non-empty string elements of an encoded list,
// noting anything else.
func (f *File) stringsOf(key string, raw []byte) []string {
	list, ok := asList(raw)
	if !ok {
		f.ignore(key, "not a list")
		return nil
	}
	var out []string
	for _, e := range list {
		var s string
		if kind(e) != 's' || bencode.Unmarshal(e, &s) != nil {
			f.ignore(key, "entry that is not a string dropped")
			continue
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// pieceLayers reads BEP 52's piece layers: pieces root → hashes.
func (f *File) pieceLayers(top dict) map[string]string {
	raw, ok := top["piece layers"]
	if !ok {
		return nil
	}
	d, ok := asDict(raw)
	if !ok {
		f.ignore("piece layers", "not a dictionary")
		return nil
	}
	out := make(map[string]string, len(d))
	for root, v := range d {
		var s string
		if kind(v) != 's' || bencode.Unmarshal(v, &s) != nil {
			f.ignore("piece layers", "entry that is not a string dropped")
			continue
		}
		out[root] = s
	}
	return out
}
