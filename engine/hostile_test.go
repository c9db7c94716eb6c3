package engine_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/state"
)

// hostileCase is one bad download source and a substring its error must
// contain, so the user is told what is wrong.
type hostileCase struct {
	name string
	// source returns the Source string; dir is a folder for .torrent files
	// and parent is the folder that must stay clean.
	source func(t testing.TB, dir, parent string) string
	want   string
}

const hostilePieceLen = 16 << 10

// singleInfo is a well-formed single-file info dictionary.
func singleInfo(name string, length int64) map[string]any {
	n := (length + hostilePieceLen - 1) / hostilePieceLen
	return map[string]any{
		"name":         name,
		"length":       length,
		"piece length": hostilePieceLen,
		"pieces":       strings.Repeat("h", int(20*max(n, 0))),
	}
}

// multiInfo is a well-formed multi-file info dictionary; each file is one
// piece long and its path is the given list of components.
func multiInfo(name string, paths ...[]string) map[string]any {
	files := make([]any, len(paths))
	for i, p := range paths {
		files[i] = map[string]any{"length": hostilePieceLen, "path": p}
	}
	return map[string]any{
		"name":         name,
		"files":        files,
		"piece length": hostilePieceLen,
		"pieces":       strings.Repeat("h", 20*len(paths)),
	}
}

// with returns a copy of m with key set to v.
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}

// torrentBytes bencodes a metainfo dictionary around info.
func torrentBytes(info map[string]any) []byte {
	b, err := bencode.Marshal(map[string]any{"info": info, "creation date": 1700000000})
	if err != nil {
		panic("bencode: " + err.Error()) // only ever given maps of plain values
	}
	return b
}

// fileSource writes b to dir/name.torrent and returns its path.
func fileSource(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name+".torrent")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// infoFile makes a case source from an info dictionary.
func infoFile(info map[string]any) func(testing.TB, string, string) string {
	return func(t testing.TB, dir, _ string) string {
		return fileSource(t, dir, "case", torrentBytes(info))
	}
}

// rawFile makes a case source from raw file bytes.
func rawFile(b []byte) func(testing.TB, string, string) string {
	return func(t testing.TB, dir, _ string) string { return fileSource(t, dir, "case", b) }
}

// literal makes a case source from a fixed string.
func literal(s string) func(testing.TB, string, string) string {
	return func(testing.TB, string, string) string { return s }
}

// manyFiles is a multi-file info with n files, all empty but the first, so
// that only the file count is over a limit.
func manyFiles(n int) map[string]any {
	files := make([]any, n)
	for i := range files {
		files[i] = map[string]any{"length": min(i, 1), "path": []string{strconv.FormatInt(int64(i), 36)}}
	}
	return map[string]any{"name": "many", "files": files, "piece length": hostilePieceLen, "pieces": strings.Repeat("h", 20)}
}

// hostileCases lists every bad source the engine must refuse: what
// cannot be made safe or correct (hostile names are mapped, not refused: see
// TestHostilePathsStayInside). Sizes are
// kept small enough for the fuzz seed corpus except where the size is the
// point (marked big).
func hostileCases() []hostileCase {
	good := singleInfo("fine.bin", 3*hostilePieceLen)
	deep := strings.Repeat("l", 100_000) + strings.Repeat("e", 100_000)
	return []hostileCase{
		{"nesting bomb at root", rawFile([]byte(deep)), "nesting depth"},
		{"nesting bomb as info", rawFile([]byte("d4:info" + deep + "e")), "nesting depth"},
		{"nesting bomb inside info", rawFile([]byte("d4:infod5:files" + deep + "4:name1:xee")), "nesting depth"},
		{"unterminated nesting bomb", rawFile([]byte(strings.Repeat("l", 100_000))), "nesting depth"},
		{"huge string length", rawFile([]byte("d4:info99999999999999999999:xe")), "bencode"},
		{"declared length 2^60", infoFile(with(good, "length", int64(1)<<60)), "length 1152921504606846976"},
		{"files summing past 1 TiB", infoFile(with(multiInfo("big"), "files", []any{
			map[string]any{"length": int64(1) << 39, "path": []string{"a"}},
			map[string]any{"length": int64(1) << 39, "path": []string{"b"}},
			map[string]any{"length": int64(1) << 39, "path": []string{"c"}}})), "total length over"},
		{"negative length", infoFile(with(good, "length", -5)), "length -5"},
		{"negative file length", infoFile(with(multiInfo("neg"), "files", []any{
			map[string]any{"length": -1, "path": []string{"a"}}})), "negative length"},
		{"zero length", infoFile(with(good, "length", 0)), "length 0"},
		{"pieces of wrong length", infoFile(with(good, "pieces", strings.Repeat("h", 59))), "59 bytes of piece hashes for 3 pieces"},
		{"pieces missing", infoFile(with(good, "pieces", "")), "missing piece hashes"},
		{"piece length 0", infoFile(with(good, "piece length", 0)), "missing or bad piece length"},
		{"piece length negative", infoFile(with(good, "piece length", -16384)), "missing or bad piece length"},
		{"piece length 4 GiB", infoFile(with(good, "piece length", int64(4)<<30)), "piece length 4294967296"},
		{"piece length 1 GiB, hashes for 16 KiB", infoFile(with(good, "piece length", 1<<30)), "60 bytes of piece hashes for 1 pieces"},
		{"file without path", infoFile(with(multiInfo("x"), "files", []any{map[string]any{"length": 5}})), "file 0: missing path"},
		{"no name", infoFile(with(good, "name", 7)), "missing name"},
		{"both length and files", infoFile(with(multiInfo("x", []string{"a"}), "length", 5)), "both length and files"},
		{"non-dict root list", rawFile([]byte("li1ei2ee")), "bencode"},
		{"non-dict root int", rawFile([]byte("i42e")), "bencode"},
		{"info is a string", rawFile([]byte("d4:info5:helloe")), "info is not a dictionary"},
		{"no info", rawFile([]byte("d8:announce20:http://127.0.0.1:1/ae")), "no info dictionary"},
		{"truncated", func(t testing.TB, dir, _ string) string {
			b := torrentBytes(good)
			return fileSource(t, dir, "trunc", b[:len(b)/2])
		}, "EOF"},
		{"empty file", rawFile(nil), "EOF"},
		{"a folder", func(t testing.TB, dir, _ string) string {
			p := filepath.Join(dir, "folder.torrent")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, "not a regular file"},
		{"missing file", literal("/nonexistent/shoal/hostile.torrent"), "no such file"},
		{"magnet bad hex", literal("magnet:?xt=urn:btih:zz"), "magnet link"},
		{"magnet no xt", literal("magnet:?dn=hello"), "magnet link"},
		{"magnet bare", literal("magnet:"), "magnet link"},
		{"magnet 39 hex", literal("magnet:?xt=urn:btih:" + strings.Repeat("a", 39)), "magnet link"},
		{"magnet bad escape", literal("magnet:?xt=urn:btih:%zz"), "magnet link"},
		{"empty", literal(""), "empty source"},
		{"blank", literal("   \t\n"), "empty source"},
		{"infohash 39 hex", literal(strings.Repeat("a", 39)), "39 hex digits, want 40"},
		{"infohash 41 hex", literal(strings.Repeat("A", 41)), "41 hex digits, want 40"},
		{"infohash 1 hex", literal("0"), "1 hex digits, want 40"},
		{"infohash 40 non-hex", literal(strings.Repeat("g", 40)), "engine: infohash"},
		{"infohash 20 raw bytes", literal(string(make([]byte, 20))), "engine:"},
	}
}

// bigHostileCases are too large for the fuzz corpus.
func bigHostileCases() []hostileCase {
	return []hostileCase{
		{"20 MB of garbage", func(t testing.TB, dir, _ string) string {
			p := enginetest.RandomFile(t, dir, "garbage.torrent", 20<<20)
			return p
		}, "over the 16777216 limit"},
		{"200k files", infoFile(manyFiles(200_000)), "200000 files (limit 100000)"},
		{"12 MB info dictionary", infoFile(with(singleInfo("big", hostilePieceLen), "padding", strings.Repeat("p", 12<<20))),
			"over the 8388608 limit"},
		{"1 MB magnet", literal("magnet:?xt=urn:btih:" + strings.Repeat("ab", 1<<19)), "magnet link"},
		{"1 MB string", literal(strings.Repeat("x", 1<<20)), "engine: torrent file"},
		{"1 MB hex string", literal(strings.Repeat("ab", 1<<19)), "1048576 hex digits, want 40"},
	}
}

// TestHostileTorrentFiles feeds hostile sources to a running engine: each is
// refused with an error naming the problem, nothing is written outside (or
// inside) the download folder, nothing is left in the engine or its
// database, and the engine still downloads normally afterwards.
func TestHostileTorrentFiles(t *testing.T) {
	cfg := enginetest.Config(t)
	node := enginetest.Start(t, cfg)
	parent := t.TempDir()
	dl := filepath.Join(parent, "a", "b", "dl")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		t.Fatal(err)
	}
	torrents := t.TempDir()
	ctx := context.Background()
	for _, tc := range append(hostileCases(), bigHostileCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source(t, torrents, parent)
			start := time.Now()
			ih, err := node.Download(ctx, engine.DownloadRequest{Source: src, Dir: dl})
			if err == nil {
				node.Remove(ih, true)
				t.Fatalf("Download accepted a hostile source (infohash %s)", ih)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name the problem (want %q)", clip(msg), tc.want)
			}
			if d := time.Since(start); d > time.Minute { // ~1 s normally, ~20 s under -race
				t.Errorf("refusing took %v", d)
			}
			assertOnlyDirs(t, parent, "a", filepath.Join("a", "b"), filepath.Join("a", "b", "dl"))
			if n := len(node.Snapshot().Transfers); n != 0 {
				t.Errorf("%d transfers after a refused download", n)
			}
		})
	}
	node.Stop()
	assertNoTransferRows(t, cfg.DataDir)
	node = enginetest.Start(t, cfg)
	assertStillDownloads(t, node, dl)
}

// clip shortens huge error messages (the 1 MB cases) for the log.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// assertOnlyDirs fails if root holds anything but the listed folders.
func assertOnlyDirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	allowed := map[string]bool{".": true}
	for _, d := range dirs {
		allowed[d] = true
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if !allowed[rel] || !d.IsDir() {
			t.Errorf("refused download left %s behind", rel)
		}
		return nil
	})
}

// assertNoTransferRows checks that refused downloads left no row behind
// (a stopped engine's database).
func assertNoTransferRows(t *testing.T, dataDir string) {
	t.Helper()
	db, err := state.Open(filepath.Join(dataDir, "shoal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Transfers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Errorf("refused download left a database row: %x %q", r.InfoHash, clip(r.Source))
	}
}

// assertStillDownloads shares a file from a fresh node and has node fetch
// it into dl.
func assertStillDownloads(t *testing.T, node *enginetest.Node, dl string) {
	t.Helper()
	const size = 1<<20 + 777
	seeder := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "after the storm.bin", size)
	ih, err := seeder.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Dir: dl, Peers: []string{seeder.PeerAddr()}})
	if err != nil {
		t.Fatalf("download after hostile inputs: %v", err)
	}
	enginetest.WaitFor(t, "download after hostile inputs", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(node.Snapshot(), ih)
		return ok && tr.Size == size && tr.Have == size
	})
	if sha256File(t, filepath.Join(dl, "after the storm.bin")) != sha256File(t, src) {
		t.Fatal("file downloaded after hostile inputs differs")
	}
}
