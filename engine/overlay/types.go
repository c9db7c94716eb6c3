package overlay

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shoalp2p/shoal/internal/locks"
)

// Dialer opens a TCP connection; the engine supplies one that enforces its
// network policy (internal/netguard in loopback-only mode).
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Finder locates supernodes (the engine backs it with a DHT key and an
// SQLite cache).
type Finder interface {
	// FindSupernodes returns host:port candidates; the list may include our
	// own address, which callers skip.
	FindSupernodes(ctx context.Context) ([]string, error)
}

// SupernodeCache is an optional extension of a Finder: supernodes and
// leaves tell it which supernodes they are linked to, so that it can keep
// them (the engine caches them in SQLite) for later starts.
type SupernodeCache interface {
	RememberSupernodes(ctx context.Context, addrs []string)
}

// rememberChanged tells f's cache, when f has one, about addrs if they
// differ from *last, what it was told before (mu guards last). The cache
// is called with mu released.
func rememberChanged(ctx context.Context, f Finder, mu *locks.Mutex, last *[]string, addrs []string) {
	cache, ok := f.(SupernodeCache)
	if !ok || len(addrs) == 0 {
		return
	}
	mu.Lock()
	same := slices.Equal(*last, addrs)
	*last = addrs
	mu.Unlock()
	if !same {
		cache.RememberSupernodes(ctx, addrs)
	}
}

// StaticFinder is a Finder that always returns the same addresses.
type StaticFinder []string

// FindSupernodes returns a copy of the list.
func (f StaticFinder) FindSupernodes(context.Context) ([]string, error) {
	return slices.Clone(f), nil
}

// Entry is one item a leaf shares: a torrent and its file paths.
type Entry struct {
	InfoHash [20]byte // v1 infohash, or a v2-only torrent's v2 infohash cut to 20 bytes
	Name     string
	Size     int64
	Files    []string
	V2       [32]byte   // BEP 52 infohash (SHA-256 of the info dictionary); zero for v1-only torrents
	Roots    [][32]byte // BEP 52 pieces roots of its files (at most maxFilesPerEntry)
}

// Hit is one search result, grouped by infohash.
type Hit struct {
	InfoHash [20]byte
	Name     string
	Names    []string // every distinct name its sources gave it, Name first (at most 10)
	Size     int64
	Files    []string
	Sources  []string // BitTorrent peer addresses (host:port) holding it
	V2       [32]byte // BEP 52 infohash, where a source knows it; zero otherwise
	// Roots are the BEP 52 pieces roots of its files, where a source
	// knows them (at most maxFilesPerEntry): the same root in two hits is
	// the same file.
	Roots [][32]byte
	DHT   bool // a supernode indexed it from the BitTorrent DHT
	Swarm int  // peers its supernode last saw in its BitTorrent swarm (DHT hits)
	// Scraped is set when its supernode's last look at the swarm got a
	// BEP 33 scrape answer: Seeds and Leechers are then the estimates.
	Scraped         bool
	Seeds, Leechers int
}

// checkEntry reports whether a supernode accepts e as registered.
func checkEntry(e Entry) error {
	if e.Name == "" || len(e.Name) > maxNameLen || !utf8.ValidString(e.Name) {
		return fmt.Errorf("entry %x: bad name", e.InfoHash)
	}
	if e.Size < 0 {
		return fmt.Errorf("entry %x: negative size", e.InfoHash)
	}
	if len(e.Files) > maxFilesPerEntry {
		return fmt.Errorf("entry %x: %d files, at most %d", e.InfoHash, len(e.Files), maxFilesPerEntry)
	}
	if len(e.Roots) > maxFilesPerEntry {
		return fmt.Errorf("entry %x: %d pieces roots, at most %d", e.InfoHash, len(e.Roots), maxFilesPerEntry)
	}
	for _, f := range e.Files {
		if f == "" || len(f) > maxPathLen || !utf8.ValidString(f) || strings.ContainsRune(f, '\n') {
			return fmt.Errorf("entry %x: bad file path", e.InfoHash)
		}
	}
	return nil
}

// trimEntry makes e acceptable to checkEntry where it can: long names and
// paths are cut at a rune boundary, newlines become spaces, and only the
// first maxFilesPerEntry paths are kept. An entry with no name gets none.
func trimEntry(e Entry) Entry {
	e.Name = trimString(e.Name, maxNameLen)
	if e.Size < 0 {
		e.Size = 0
	}
	files := make([]string, 0, min(len(e.Files), maxFilesPerEntry))
	for _, f := range e.Files {
		if len(files) == maxFilesPerEntry {
			break
		}
		if f = trimString(f, maxPathLen); f != "" {
			files = append(files, f)
		}
	}
	e.Files = files
	e.Roots = e.Roots[:min(len(e.Roots), maxFilesPerEntry)]
	return e
}

// trimString makes s valid UTF-8 without newlines, at most n bytes long.
func trimString(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// sameEntry reports whether two entries carry the same data.
func sameEntry(a, b Entry) bool {
	return a.InfoHash == b.InfoHash && a.Name == b.Name && a.Size == b.Size && slices.Equal(a.Files, b.Files) &&
		a.V2 == b.V2 && slices.Equal(a.Roots, b.Roots)
}

func toWireEntry(e Entry) wireEntry {
	w := wireEntry{InfoHash: hash20(e.InfoHash), Name: e.Name, Size: e.Size, Files: e.Files, V2: wireV2(e.V2)}
	for _, r := range e.Roots {
		w.Roots = append(w.Roots, hash32(r))
	}
	return w
}

func fromWireEntry(w wireEntry) Entry {
	e := Entry{InfoHash: [20]byte(w.InfoHash), Name: w.Name, Size: w.Size, Files: w.Files}
	if w.V2 != nil {
		e.V2 = [32]byte(*w.V2)
	}
	for _, r := range w.Roots {
		e.Roots = append(e.Roots, [32]byte(r))
	}
	return e
}

// wireV2 is a v2 infohash as it travels: absent when zero.
func wireV2(v2 [32]byte) *hash32 {
	if v2 == ([32]byte{}) {
		return nil
	}
	h := hash32(v2)
	return &h
}

func toWireHit(h Hit) wireHit {
	w := wireHit{InfoHash: hash20(h.InfoHash), Name: h.Name, Names: h.Names, Size: h.Size, Files: h.Files, Sources: h.Sources,
		V2: wireV2(h.V2), DHT: h.DHT, Swarm: h.Swarm, Scraped: h.Scraped, Seeds: h.Seeds, Leechers: h.Leechers}
	for _, r := range h.Roots {
		w.Roots = append(w.Roots, hash32(r))
	}
	return w
}

func fromWireHit(w wireHit) Hit {
	h := Hit{InfoHash: [20]byte(w.InfoHash), Name: w.Name, Names: w.Names, Size: w.Size, Files: w.Files, Sources: w.Sources,
		DHT: w.DHT, Swarm: max(w.Swarm, 0)}
	if w.Scraped {
		h.Scraped, h.Seeds, h.Leechers = true, max(w.Seeds, 0), max(w.Leechers, 0)
	}
	if w.V2 != nil {
		h.V2 = [32]byte(*w.V2)
	}
	for _, r := range w.Roots[:min(len(w.Roots), maxFilesPerEntry)] {
		h.Roots = append(h.Roots, [32]byte(r))
	}
	return h
}
