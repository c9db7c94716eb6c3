package overlay

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
)

// Search by hash. A query that is one infohash (40 hex digits: a v1
// infohash, or a v2-only torrent's v2 infohash cut to 20 bytes), or one
// BEP 52 hash (64 hex digits, or 68 as a btmh multihash "1220…": a v2
// infohash or a file's pieces root), finds the entries with that hash
// instead of words in their names. Hashes are not words: they stay out of
// the FTS5 index, and each adds one key of its own (hashKey) to the
// keyword table, so that a hash query is routed only to supernodes that
// may hold it, without the prefix keys of a word that would make every
// short hex-looking word ("cafe", "2024") match every table.

// textCols are the entry columns a keyText is read from.
const textCols = "name, files, infohash, v2, roots"

// keyText is what an entry adds to the keyword table: the words of its
// name and paths, and its hashes.
type keyText struct {
	name, files   string
	ih, v2, roots []byte
}

// dest returns scan destinations for textCols.
func (t *keyText) dest() []any { return []any{&t.name, &t.files, &t.ih, &t.v2, &t.roots} }

// hashes returns the entry's v2 hashes: its v2 infohash, then its roots.
func (t *keyText) hashes() [][]byte {
	var out [][]byte
	if len(t.v2) == 32 {
		out = append(out, t.v2)
	}
	for r := t.roots; len(r) >= 32; r = r[32:] {
		out = append(out, r[:32])
	}
	return out
}

// String is the text keysOfTexts takes: the words, a NUL, then the hashes
// in hex, space-separated.
func (t *keyText) String() string {
	hs := []string{hex.EncodeToString(t.ih)}
	for _, h := range t.hashes() {
		hs = append(hs, hex.EncodeToString(h))
	}
	return t.name + "\n" + t.files + "\x00" + strings.Join(hs, " ")
}

// splitKeyText splits a keyText string into its words and hex hashes.
func splitKeyText(s string) (string, []string) {
	words, hashes, _ := strings.Cut(s, "\x00")
	return words, strings.Fields(hashes)
}

// hashKey is the keyword-table key of a hash in lower-case hex. No term
// of a text holds a NUL, so it is no word's key.
func hashKey(hexHash string) uint32 { return keyHash("\x00#" + hexHash) }

// v2Blob is a v2 infohash as stored: NULL when zero.
func v2Blob(v2 [32]byte) []byte {
	if v2 == ([32]byte{}) {
		return nil
	}
	return v2[:]
}

// rootsBlob is pieces roots as stored: 32 bytes each, NULL when none.
func rootsBlob(roots [][32]byte) []byte {
	var b []byte
	for _, r := range roots {
		b = append(b, r[:]...)
	}
	return b
}

// hashQuery reports whether words are one hash, and returns it in
// lower-case hex (40 or 64 digits; a btmh multihash loses its "1220").
func hashQuery(words string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(words))
	if len(w) == 68 && strings.HasPrefix(w, "1220") {
		w = w[4:]
	}
	if len(w) != 40 && len(w) != 64 {
		return "", false
	}
	if strings.Trim(w, "0123456789abcdef") != "" {
		return "", false
	}
	return w, true
}

// searchHash answers a hash query: entries with that v1 infohash (40
// digits), or with that v2 infohash or pieces root (64 digits).
func (x *index) searchHash(ctx context.Context, hexHash string, limit int) ([]Hit, error) {
	h, err := hex.DecodeString(hexHash)
	if err != nil {
		return nil, fmt.Errorf("overlay: index search: %w", err)
	}
	q := `SELECT infohash, name, size, files, v2 FROM entries WHERE infohash = ? ORDER BY id LIMIT ?`
	if len(h) == 32 {
		q = `SELECT e.infohash, e.name, e.size, e.files, e.v2 FROM entry_hashes AS h
			JOIN entries AS e ON e.id = h.id WHERE h.hash = ? ORDER BY e.id LIMIT ?`
	}
	rows, err := x.db.QueryContext(ctx, q, h, limit*4)
	if err != nil {
		return nil, fmt.Errorf("overlay: index search: %w", err)
	}
	return x.finishHits(ctx, rows, limit)
}
