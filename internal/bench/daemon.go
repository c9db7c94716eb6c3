package bench

import (
	"fmt"
	"unicode/utf8"
)

// DaemonReady is the part of the JSON line `shoal daemon` prints once it
// serves (app's readyLine) that the benches read. This package cannot
// import app; app's TestBenchReadsDaemonLines checks that the two agree.
type DaemonReady struct {
	PeerAddr string            `json:"peer_addr"`
	Shared   map[string]string `json:"shared,omitempty"` // path -> infohash
}

// DaemonRuntime is the part of the JSON line `shoal daemon` prints on
// SIGUSR1 (app's runtimeLine) that the idle-library bench reads.
type DaemonRuntime struct {
	Goroutines int `json:"goroutines"`
	// PiecesHashed counts pieces read back from disk to be hashed since
	// the start: 0 when a start trusted its records (no rehash).
	PiecesHashed int64 `json:"pieces_hashed"`
}

// clip shortens s to at most n runes for a table cell, its last one "…"
// when cut (as engine/words.Clip, which this package may not import).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return fmt.Sprintf("%.*s…", n-1, s)
}
