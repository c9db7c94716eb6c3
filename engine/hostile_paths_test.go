package engine_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// hostileFile is one file of a torrent whose names try to leave the
// download folder; path.utf-8 and the padding flag are optional.
type hostileFile struct {
	path, utf8 []string
	pad        bool
	length     int
}

// hostilePathsTorrent builds a multi-file .torrent with real piece hashes
// over random content; it returns the file bytes and each file's content.
func hostilePathsTorrent(t *testing.T, name string, pl int, files []hostileFile) ([]byte, [][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var all []byte
	list := make([]any, len(files))
	data := make([][]byte, len(files))
	for i, f := range files {
		data[i] = make([]byte, f.length)
		if !f.pad {
			for j := range data[i] {
				data[i][j] = byte(rng.Uint32())
			}
		}
		all = append(all, data[i]...)
		m := map[string]any{"length": f.length}
		if f.path != nil {
			m["path"] = f.path
		}
		if f.utf8 != nil {
			m["path.utf-8"] = f.utf8
		}
		if f.pad {
			m["attr"] = "p"
		}
		list[i] = m
	}
	var pieces []byte
	for off := 0; off < len(all); off += pl {
		h := sha1.Sum(all[off:min(off+pl, len(all))])
		pieces = append(pieces, h[:]...)
	}
	info := map[string]any{"name": name, "piece length": pl, "pieces": string(pieces), "files": list}
	return torrentBytes(info), data
}

// TestHostilePathsStayInside downloads, Shoal to Shoal, a torrent whose
// name and paths try every escape libtorrent's corpus knows (parent
// references, absolute paths, backslashes, drive letters, duplicates, a
// file that is also a folder, a padding file without a path). Like
// libtorrent, Shoal opens it instead of refusing it: every byte arrives,
// each file at its sanitized place below the download folder, and nothing
// is written anywhere else.
func TestHostilePathsStayInside(t *testing.T) {
	parent := t.TempDir()
	dl := filepath.Join(parent, "a", "b", "dl")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []hostileFile{
		{path: []string{"..", "escape.txt"}, length: 5000},
		{path: []string{"a/../../escape2.txt"}, length: 7000},
		{path: []string{"ok.txt"}, utf8: []string{"..", "..", "x"}, length: 3000},
		{path: []string{filepath.Join(parent, "absolute-escape.txt")}, length: 20000},
		{path: []string{`\windows\system32`}, length: 100},
		{path: []string{`C:\evil.dll`}, length: 100},
		{path: []string{"dup.txt"}, length: 1000},
		{path: []string{"DUP.TXT"}, length: 1000},
		{path: []string{"f"}, length: 10},
		{path: []string{"f", "g"}, length: 10},
		{pad: true, length: 3000},
		{path: []string{""}, length: 40000},
	}
	raw, data := hostilePathsTorrent(t, filepath.Join(parent, "..", "..", "etc"), hostilePieceLen, files)
	transferSafely(t, parent, dl, raw, data)
}

// TestOddPieceLengths downloads, Shoal to Shoal, torrents with piece
// lengths libtorrent loads and Shoal once refused: one that is no multiple
// of 16 KiB (blocks end short inside each piece) and libtorrent's
// large_piece_size (32767 × 16 KiB) over a 425-byte file.
func TestOddPieceLengths(t *testing.T) {
	for _, pl := range []int{20000, 32767 * 16 << 10} {
		parent := t.TempDir()
		dl := filepath.Join(parent, "dl")
		files := []hostileFile{{path: []string{"one"}, length: 425}, {path: []string{"two"}, length: 70001}}
		if pl > 1<<20 {
			files = files[:1]
		}
		raw, data := hostilePathsTorrent(t, "odd", pl, files)
		transferSafely(t, parent, dl, raw, data)
	}
}

// transferSafely seeds the torrent raw from one Shoal node with content
// data and downloads it to dl below parent on another, then checks every
// file's bytes at its mapped place and that nothing else is in parent.
func transferSafely(t *testing.T, parent, dl string, raw []byte, data [][]byte) {
	t.Helper()
	torrent := filepath.Join(t.TempDir(), "hostile.torrent")
	if err := os.WriteFile(torrent, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	layout := hostileLayout(t, raw)
	seedDir := t.TempDir()
	for i, f := range layout.Files {
		if !f.Pad {
			writeAt(t, filepath.Join(seedDir, f.Path), data[i])
		}
	}
	seeder := enginetest.Start(t, enginetest.Config(t))
	leecher := enginetest.Start(t, enginetest.Config(t))
	ctx := context.Background()
	ih, err := seeder.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: seedDir})
	if err != nil {
		t.Fatalf("seeder refused the torrent: %v", err)
	}
	waitHave(t, seeder, ih, "seeder recheck")
	if _, err := leecher.Download(ctx, engine.DownloadRequest{Source: torrent, Dir: dl, Peers: []string{seeder.PeerAddr()}}); err != nil {
		t.Fatalf("leecher refused the torrent: %v", err)
	}
	waitHave(t, leecher, ih, "leecher download")
	want := map[string]bool{}
	for i, f := range layout.Files {
		if f.Pad {
			continue
		}
		want[f.Path] = true
		got, err := os.ReadFile(filepath.Join(dl, f.Path))
		if err != nil || !bytes.Equal(got, data[i]) {
			t.Errorf("file %d at %s: %v, content equal %v", i, f.Path, err, bytes.Equal(got, data[i]))
		}
	}
	for p := range want {
		t.Logf("mapped: %s", p)
	}
	assertOnlyUnder(t, parent, dl, want)
}

// hostileLayout is where Shoal maps the torrent's files.
func hostileLayout(t *testing.T, raw []byte) *storage.Layout {
	t.Helper()
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := swarm.ParseInfo(tf.InfoBytes)
	if err != nil {
		t.Fatal(err)
	}
	l, err := storage.NewLayout(info)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func writeAt(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitHave(t *testing.T, n *enginetest.Node, ih engine.InfoHash, what string) {
	t.Helper()
	enginetest.WaitFor(t, what, 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(n.Snapshot(), ih)
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
}

// assertOnlyUnder fails if root holds a regular file outside dl, or dl
// holds files other than want (relative paths).
func assertOnlyUnder(t *testing.T, root, dl string, want map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dl, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("written outside the download folder: %s", p)
			return nil
		}
		got[rel] = true
		return nil
	})
	for p := range got {
		if !want[p] {
			t.Errorf("unexpected file %s in the download folder", p)
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("missing file %s", p)
		}
	}
}
