package torrentfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/storage"
)

const pl = 16 << 10

// enc bencodes v; the tests only give it plain maps, lists, strings and ints.
func enc(v any) []byte {
	b, err := bencode.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// tor wraps an info dictionary in a .torrent with the given extra keys.
func tor(info any, kv ...any) []byte {
	top := map[string]any{"info": info}
	for i := 0; i+1 < len(kv); i += 2 {
		top[kv[i].(string)] = kv[i+1]
	}
	return enc(top)
}

// multi is a multi-file info named temp whose files are (length, path)
// pairs: a path is a []string, or nil for none.
func multi(files ...map[string]any) map[string]any {
	var total int64
	list := make([]any, len(files))
	for i, f := range files {
		if n, ok := f["length"].(int64); ok {
			total += n
		}
		list[i] = f
	}
	return map[string]any{"name": "temp", "piece length": int64(pl), "files": list,
		"pieces": strings.Repeat("h", int(20*((total+pl-1)/pl)))}
}

func file(length int64, path ...string) map[string]any {
	return map[string]any{"length": length, "path": path}
}

func single(name string, length int64) map[string]any {
	return map[string]any{"name": name, "piece length": int64(pl), "length": length,
		"pieces": strings.Repeat("h", int(20*((length+pl-1)/pl)))}
}

// set returns a copy of m with key set to v, or removed when v is nil.
func set(m map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range m {
		out[k] = x
	}
	if v == nil {
		delete(out, key)
	} else {
		out[key] = v
	}
	return out
}

// v2file is a file-tree leaf with a made-up pieces root.
func v2file(length int64) map[string]any {
	return map[string]any{"": map[string]any{"length": length, "pieces root": strings.Repeat("r", 32)}}
}

// v2info is a v2-only info named temp with 16 KiB pieces; sizeHint is
// only there to read the table.
func v2info(sizeHint int64, tree map[string]any) map[string]any {
	return map[string]any{"name": "temp", "piece length": int64(16 << 10), "meta version": 2, "file tree": tree}
}

// bigLayer is the piece layer of a 20 KiB file of 'z' bytes with 16 KiB
// pieces, and bigRoot its pieces root.
var bigLayer, bigRoot = func() (string, [32]byte) {
	data := []byte(strings.Repeat("z", 20<<10))
	p0 := storage.PieceHash(data[:16<<10], 16<<10)
	p1 := storage.PieceHash(data[16<<10:], 16<<10)
	return string(p0[:]) + string(p1[:]), merkle.RootWithPadHash([][32]byte{p0, p1}, metainfo.HashForPiecePad(16<<10))
}()

// v2big is a v2 info with the one 20 KiB file of bigLayer.
func v2big() map[string]any {
	return v2info(0, map[string]any{"big": map[string]any{"": map[string]any{"length": 20 << 10, "pieces root": string(bigRoot[:])}}})
}

// torrentCase is one hostile or odd .torrent, modelled on libtorrent's
// test corpus (test/test_torrents), with the paths Shoal maps it to or the
// words its refusal must contain.
type torrentCase struct {
	name    string
	raw     []byte
	paths   []string // relative to the download folder, "/"-separated
	refuse  string   // non-empty: must be refused, naming this
	ignored int      // optional keys dropped with a log line
}

func torrentCases() []torrentCase {
	pad := map[string]any{"length": int64(2124), "attr": "p"}
	deep := strings.Repeat("l", 10_000) + strings.Repeat("e", 10_000)
	return []torrentCase{
		{name: "plain multi", raw: tor(multi(file(10, "a", "b.txt"), file(20, "c"))), paths: []string{"temp/a/b.txt", "temp/c"}},
		{name: "absolute filename", raw: tor(multi(file(10, "abcde"), file(10, "/foobar"))), paths: []string{"temp/abcde", "temp/foobar"}},
		{name: "absolute deep", raw: tor(multi(file(10, "/etc/passwd"))), paths: []string{"temp/etc_passwd"}},
		{name: "slash path", raw: tor(multi(file(10, "/"))), paths: []string{"temp/_"}},
		{name: "backslash path", raw: tor(multi(file(10, `\`))), paths: []string{"temp/_"}},
		{name: "backslash leading", raw: tor(multi(file(10, `\est2`))), paths: []string{"temp/est2"}},
		{name: "backslash inside", raw: tor(multi(file(10, `dir\file`))), paths: []string{"temp/dir_file"}},
		{name: "parent path", raw: tor(multi(file(10, "foo", "..", "..", "..", "bar"))), paths: []string{"temp/foo/bar"}},
		{name: "parent path in one element", raw: tor(multi(file(10, "foo/../../../bar"))), paths: []string{"temp/foo_.._.._.._bar"}},
		{name: "hidden parent path", raw: tor(multi(file(10, "foo", "..", "..", ".bar"))), paths: []string{"temp/foo/.bar"}},
		{name: "parent in path.utf-8", raw: tor(multi(map[string]any{"length": int64(10), "path": []string{"ok"}, "path.utf-8": []string{"..", "..", "x"}})),
			paths: []string{"temp/x"}},
		{name: "empty path element", raw: tor(multi(file(10, ""))), paths: []string{"temp/_"}},
		{name: "empty elements dropped", raw: tor(multi(file(10, "", "a", "", "b"))), paths: []string{"temp/a/b"}},
		{name: "duplicate files", raw: tor(multi(file(10, "foo", "bar.txt"), file(10, "foo", "bar.txt"))),
			paths: []string{"temp/foo/bar.txt", "temp/foo/bar.1.txt"}},
		{name: "duplicate by case", raw: tor(multi(file(10, "a.txt"), file(10, "A.TXT"))), paths: []string{"temp/a.txt", "temp/A.1.TXT"}},
		{name: "file and folder", raw: tor(multi(file(10, "a"), file(10, "a", "b"))), paths: []string{"temp/a.1", "temp/a/b"}},
		{name: "pad file without path", raw: tor(multi(file(10, "a"), pad, file(10, "b"))), paths: []string{"temp/a", "temp/.pad/0", "temp/b"}},
		{name: "name dotdot", raw: tor(single("..", 10)), paths: []string{"_"}},
		{name: "name absolute", raw: tor(single("/etc/passwd", 10)), paths: []string{"etc_passwd"}},
		{name: "name.utf-8 parent", raw: tor(set(single("fine", 10), "name.utf-8", "../../etc")), paths: []string{".._.._etc"}},
		{name: "name empty", raw: tor(single("", 10)), paths: []string{"_"}},
		{name: "name drive", raw: tor(single(`C:\evil.dll`, 10)), paths: []string{"C__evil.dll"}},
		{name: "trailing bytes", raw: append(tor(single("t", 10)), "junk after the dictionary"...), paths: []string{"t"}},
		{name: "url-list int", raw: tor(single("t", 10), "url-list", 5), paths: []string{"t"}, ignored: 1},
		{name: "url-list mixed", raw: tor(single("t", 10), "url-list", []any{"http://127.0.0.1:1/", 7}), paths: []string{"t"}, ignored: 1},
		{name: "httpseeds int", raw: tor(single("t", 10), "httpseeds", 5), paths: []string{"t"}, ignored: 1},
		{name: "creation date string", raw: tor(single("t", 10), "creation date", "yesterday"), paths: []string{"t"}, ignored: 1},
		{name: "nodes string", raw: tor(single("t", 10), "nodes", "127.0.0.1"), paths: []string{"t"}, ignored: 1},
		{name: "announce-list flat", raw: tor(single("t", 10), "announce-list", []any{"http://127.0.0.1:1/a"}), paths: []string{"t"}, ignored: 1},
		{name: "announce int", raw: tor(single("t", 10), "announce", 3), paths: []string{"t"}, ignored: 1},
		{name: "private string", raw: tor(set(single("t", 10), "private", "yes")), paths: []string{"t"}},
		{name: "attr int", raw: tor(multi(map[string]any{"length": int64(10), "path": []string{"a"}, "attr": 1})), paths: []string{"temp/a"}},
		{name: "large piece size", raw: tor(set(set(single("temp", 425), "piece length", int64(536854528)), "pieces", strings.Repeat("h", 20))), paths: []string{"temp"}},
		{name: "piece length not 16 KiB multiple", raw: tor(set(set(single("t", 50_000), "piece length", 20000), "pieces", strings.Repeat("h", 60))), paths: []string{"t"}},

		{name: "missing piece length", raw: tor(set(single("t", 10), "piece length", nil)), refuse: "missing or bad piece length"},
		{name: "piece length zero", raw: tor(set(single("t", 10), "piece length", 0)), refuse: "missing or bad piece length"},
		{name: "piece length negative", raw: tor(set(single("t", 10), "piece length", -16384)), refuse: "missing or bad piece length"},
		{name: "piece length string", raw: tor(set(single("t", 10), "piece length", "16384")), refuse: "missing or bad piece length"},
		{name: "piece length over 2 GiB", raw: tor(set(single("t", 10), "piece length", int64(1)<<32)), refuse: "piece length"},
		{name: "missing pieces", raw: tor(set(single("t", 10), "pieces", nil)), refuse: "missing piece hashes"},
		{name: "pieces int", raw: tor(set(single("t", 10), "pieces", -23)), refuse: "missing piece hashes"},
		{name: "unaligned pieces", raw: tor(set(single("t", 10), "pieces", strings.Repeat("h", 24))), refuse: "24 bytes of piece hashes for 1 pieces"},
		{name: "no name", raw: tor(set(single("t", 10), "name", nil)), refuse: "missing name"},
		{name: "name int", raw: tor(set(single("t", 10), "name", 5)), refuse: "missing name"},
		{name: "no info", raw: enc(map[string]any{"announce": "http://127.0.0.1:1/a"}), refuse: "no info dictionary"},
		{name: "info string", raw: enc(map[string]any{"info": "hello"}), refuse: "info is not a dictionary"},
		{name: "root string", raw: enc("hello"), refuse: "bencode"},
		{name: "root list", raw: []byte("li1ei2ee"), refuse: "bencode"},
		{name: "empty", raw: nil, refuse: "bencode"},
		{name: "truncated", raw: tor(single("t", 10))[:30], refuse: "bencode"},
		{name: "negative size", raw: tor(single("t", -5)), refuse: "length -5"},
		{name: "zero size", raw: tor(single("t", 0)), refuse: "length 0"},
		{name: "negative file size", raw: tor(multi(file(10, "a"), file(-1, "b"))), refuse: "file 1: negative length -1"},
		{name: "file size string", raw: tor(multi(map[string]any{"length": "10", "path": []string{"a"}})), refuse: "file 0: missing length"},
		{name: "missing path list", raw: tor(multi(map[string]any{"length": int64(10)})), refuse: "file 0: missing path"},
		{name: "path list with int", raw: tor(multi(map[string]any{"length": int64(10), "path": []any{"a", 1}})), refuse: "file 0: missing path"},
		{name: "no files", raw: tor(map[string]any{"name": "t", "piece length": pl, "pieces": "", "files": []any{}}), refuse: "no files"},
		{name: "neither length nor files", raw: tor(set(single("t", 10), "length", nil)), refuse: "no files"},
		{name: "all files empty", raw: tor(multi(file(0, "a"), file(0, "b"))), refuse: "no data"},
		{name: "length and files", raw: tor(set(multi(file(10, "a")), "length", 10)), refuse: "both length and files"},
		{name: "v2 single file", raw: tor(v2info(2000, map[string]any{"movie.bin": v2file(2000)})), paths: []string{"temp"}},
		{name: "v2 folder with pad", raw: tor(v2info(16<<10, map[string]any{"d": map[string]any{"x": v2file(100)}, "y": v2file(5)})),
			paths: []string{"temp/d/x", "temp/.pad/0", "temp/y", "temp/.pad/1"}},
		{name: "v2 hostile keys", raw: tor(v2info(16<<10, map[string]any{"..": map[string]any{"/etc": v2file(100)}, `C:\x`: v2file(5)})),
			paths: []string{"temp/etc", "temp/.pad/0", "temp/C__x", "temp/.pad/1"}},
		{name: "v2 with layers", raw: tor(v2big(), "piece layers", map[string]any{string(bigRoot[:]): bigLayer}), paths: []string{"temp"}},
		{name: "v2 without layers", raw: tor(v2big()), refuse: "piece layers"},
		{name: "v2 layer short", raw: tor(v2big(), "piece layers", map[string]any{string(bigRoot[:]): bigLayer[:32]}), refuse: "32 bytes for 2 pieces"},
		{name: "v2 layer wrong", raw: tor(v2big(), "piece layers", map[string]any{string(bigRoot[:]): strings.Repeat("x", 64)}), refuse: "does not match its pieces root"},
		{name: "v2 piece length not power of two", raw: tor(set(v2info(20000, map[string]any{"a": v2file(10)}), "piece length", 48<<10)), refuse: "power of two"},
		{name: "v2 short pieces root", raw: tor(v2info(10, map[string]any{"a": map[string]any{"": map[string]any{"length": 10, "pieces root": "short"}}})), refuse: "pieces root length"},
		{name: "v2 negative length", raw: tor(v2info(10, map[string]any{"a": map[string]any{"": map[string]any{"length": -10}}})), refuse: "negative length"},
		{name: "v2 empty file tree", raw: tor(v2info(10, map[string]any{})), refuse: "no files"},
		{name: "v2 only empty files", raw: tor(v2info(10, map[string]any{"a": map[string]any{"": map[string]any{"length": 0}}})), refuse: "no data"},
		{name: "meta version 3", raw: tor(set(v2info(10, map[string]any{"a": v2file(10)}), "meta version", 3)), refuse: "meta version 3"},
		{name: "v2 deep file tree", raw: []byte("d4:infod9:file tree" + strings.Repeat("d1:a", 200) + strings.Repeat("e", 200) + "12:meta versioni2e4:name1:t12:piece lengthi16384eee"), refuse: "nesting depth"},
		{name: "deep nesting at root", raw: []byte(deep), refuse: "nesting depth"},
		{name: "deep nesting in info", raw: []byte("d4:infod5:files" + deep + "4:name1:xee"), refuse: "nesting depth"},
	}
}

// mapTorrent runs a .torrent through everything Shoal does before it
// touches the disk: Parse, ParseInfo and the storage layout.
func mapTorrent(raw []byte) (*File, *storage.Layout, error) {
	f, err := Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	info, err := ParseInfo(f.InfoBytes)
	if err != nil {
		return f, nil, err
	}
	l, err := storage.NewLayout(info)
	if err != nil || !IsV2Only(info) {
		return f, l, err
	}
	layers, err := CheckPieceLayers(info, f.PieceLayers)
	if err != nil {
		return f, nil, err
	}
	l.SetPieceLayers(layers)
	if n := l.MissingLayers(); n > 0 {
		return f, nil, fmt.Errorf("%w: %d files without piece layers", ErrBadTorrent, n)
	}
	return f, l, nil
}

func TestTorrentCases(t *testing.T) {
	t.Parallel()
	for _, tc := range torrentCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, l, err := mapTorrent(tc.raw)
			if tc.refuse != "" {
				if err == nil {
					t.Fatalf("accepted, want a refusal naming %q", tc.refuse)
				}
				if !strings.Contains(err.Error(), tc.refuse) {
					t.Fatalf("refusal %q does not name %q", err, tc.refuse)
				}
				if !errors.Is(err, ErrBadTorrent) && !errors.Is(err, storage.ErrBadInfo) {
					t.Fatalf("refusal %v is neither ErrBadTorrent nor storage.ErrBadInfo", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			var got []string
			for _, fl := range l.Files {
				got = append(got, filepath.ToSlash(fl.Path))
			}
			if strings.Join(got, "|") != strings.Join(tc.paths, "|") {
				t.Fatalf("paths %q, want %q", got, tc.paths)
			}
			if len(f.Ignored) != tc.ignored {
				t.Fatalf("ignored %q, want %d entries", f.Ignored, tc.ignored)
			}
		})
	}
}

// TestParseTrackers checks the tracker and web seed lists that survive.
func TestParseTrackers(t *testing.T) {
	t.Parallel()
	raw := tor(single("t", 10), "announce", "http://127.0.0.1:1/x",
		"announce-list", []any{[]any{"http://127.0.0.1:1/a", 5}, []any{}, []any{"udp://127.0.0.1:2"}},
		"url-list", "http://127.0.0.1:3/")
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Trackers) != 2 || f.Trackers[0][0] != "http://127.0.0.1:1/a" || f.Trackers[1][0] != "udp://127.0.0.1:2" {
		t.Fatalf("trackers %q", f.Trackers)
	}
	if len(f.WebSeeds) != 1 || len(f.Ignored) != 1 {
		t.Fatalf("web seeds %q ignored %q", f.WebSeeds, f.Ignored)
	}
	f, _ = Parse(tor(single("t", 10), "announce", "http://127.0.0.1:1/x"))
	if len(f.Trackers) != 1 || f.Trackers[0][0] != "http://127.0.0.1:1/x" {
		t.Fatalf("announce fallback %q", f.Trackers)
	}
}
