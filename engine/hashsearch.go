package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/storage"
)

// Search by hash. A search for an infohash (v1, 40 hex digits), a v2
// infohash (64 hex digits, or a btmh multihash), a file's pieces root
// (64 hex digits), or a magnet link finds that torrent: first in this
// computer's library (Hit.Local), then through the overlay, whose
// supernodes look the hash up instead of matching words (see
// overlay.hashQuery). Shared entries carry their v2 infohash and pieces
// roots for it (leafEntry).

// maxRootsPerEntry caps the pieces roots a shared entry carries, as the
// overlay caps its file paths.
const maxRootsPerEntry = 200

// v2Hashes returns a torrent's BEP 52 infohash and its files' pieces
// roots; zero and nil for a v1-only torrent.
func v2Hashes(info *metainfo.Info, infoBytes []byte) ([32]byte, [][32]byte) {
	if info == nil || !info.HasV2() || len(infoBytes) == 0 {
		return [32]byte{}, nil
	}
	var roots [][32]byte
	for fi := range info.UpvertedFilesIter() {
		if fi.PiecesRoot.Ok && len(roots) < maxRootsPerEntry {
			roots = append(roots, fi.PiecesRoot.Value)
		}
	}
	return sha256.Sum256(infoBytes), roots
}

// hashes is v2Hashes for t: a v1 share's files have the pieces roots
// computed when it was shared, kept in its leaf entry (addLibraryWith),
// and a finished v1 download's are worked out later (oldroots.go),
// so search matches them with the same files in v2 and hybrid torrents
// although its torrent has no v2 parts.
func (t *transfer) hashes(info *metainfo.Info, infoBytes []byte) ([32]byte, [][32]byte) {
	v2, roots := v2Hashes(info, infoBytes)
	if len(roots) == 0 {
		t.mu.Lock()
		roots = t.roots
		if t.entry != nil {
			roots = t.entry.Roots
		}
		t.mu.Unlock()
	}
	return v2, roots
}

// searchHash returns the hash a search is for, in lower-case hex (40 or
// 64 digits), when words are one: a hex hash, a btmh multihash ("1220"
// and 64 digits) or a magnet link (its v2 infohash if it has one).
func searchHash(words string) (string, bool) {
	w := strings.TrimSpace(words)
	if strings.HasPrefix(strings.ToLower(w), "magnet:") {
		m, err := metainfo.ParseMagnetV2Uri(w)
		switch {
		case err != nil:
			return "", false
		case m.V2InfoHash.Ok:
			return hex.EncodeToString(m.V2InfoHash.Value[:]), true
		case m.InfoHash.Ok:
			return m.InfoHash.Value.HexString(), true
		}
		return "", false
	}
	w = strings.ToLower(w)
	if len(w) == 68 && strings.HasPrefix(w, "1220") {
		w = w[4:]
	}
	if (len(w) != 40 && len(w) != 64) || strings.Trim(w, "0123456789abcdef") != "" {
		return "", false
	}
	return w, true
}

// matchesHash reports whether a torrent has the hash h (lower-case hex):
// as its infohash, its v2 infohash, or a file's pieces root.
func matchesHash(h string, ih InfoHash, v2 [32]byte, roots [][32]byte) bool {
	if len(h) == 40 {
		return h == hex.EncodeToString(ih[:])
	}
	if v2 != ([32]byte{}) && h == hex.EncodeToString(v2[:]) {
		return true
	}
	for _, r := range roots {
		if h == hex.EncodeToString(r[:]) {
			return true
		}
	}
	return false
}

// libraryHits returns a hit for each torrent in the library that has the
// hash h (lower-case hex), marked Local.
func (e *Engine) libraryHits(h string) []Hit {
	var hits []Hit
	for _, t := range e.transferList() {
		if t.waits() { // its hashes are in its leaf entry (lazy.go)
			if entry, ok := t.leafEntry(); ok && matchesHash(h, t.ih, entry.V2, entry.Roots) {
				hits = append(hits, Hit{InfoHash: t.ih, V2: entry.V2, Name: entry.Name, Size: entry.Size, Files: entry.Files,
					Roots: entry.Roots, Local: true, Magnet: magnetOf(t.ih, entry.V2, entry.Name)})
			}
			continue
		}
		sw := t.swarm()
		if sw == nil {
			continue
		}
		info, infoBytes := sw.Info()
		v2, roots := t.hashes(info, infoBytes)
		if !matchesHash(h, t.ih, v2, roots) {
			continue
		}
		hit := Hit{InfoHash: t.ih, V2: v2, Roots: roots, Local: true}
		if info != nil {
			hit.Name, hit.Size, hit.Files = info.BestName(), storage.ContentLength(info), filePaths(info)
		} else {
			st := sw.Stats()
			hit.Name, hit.Size = st.Name, st.Size
		}
		hit.Magnet = magnetOf(hit.InfoHash, hit.V2, hit.Name)
		hits = append(hits, hit)
	}
	return hits
}
