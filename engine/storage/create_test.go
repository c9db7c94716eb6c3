package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// writeTree creates files (slash paths) with random content below dir.
func writeTree(t *testing.T, dir string, files map[string]int) {
	t.Helper()
	for p, n := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rand.Uint32())
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// expectedPieces hashes the given files (in order) the way BEP 3 does.
func expectedPieces(t *testing.T, pl int64, paths ...string) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	var out []byte
	for off := int64(0); off < int64(len(all)); off += pl {
		sum := sha1.Sum(all[off:min(off+pl, int64(len(all)))])
		out = append(out, sum[:]...)
	}
	return out
}

// reload writes mi out, loads it back with metainfo.Load and checks every
// piece against the content in dir.
func reload(t *testing.T, mi *metainfo.MetaInfo, dir string) *metainfo.Info {
	t.Helper()
	var buf bytes.Buffer
	if err := mi.Write(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := metainfo.Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	info, err := loaded.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLayout(&info)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ok, err := Check(context.Background(), s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ok {
		if !v {
			t.Fatalf("piece %d of the created torrent does not verify", i)
		}
	}
	return &info
}

func TestCreateFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]int{"song.ogg": 300*kib + 17})
	path := filepath.Join(dir, "song.ogg")
	var last [2]int64
	opt := CreateOptions{PieceLength: 32 * kib, Trackers: []string{"http://127.0.0.1:1/announce", "udp://127.0.0.1:2"},
		Comment: "c", CreatedBy: "shoal", Private: true}
	mi, err := Create(context.Background(), path, opt, func(h, n int64) { last = [2]int64{h, n} })
	if err != nil {
		t.Fatal(err)
	}
	if last != [2]int64{300*kib + 17, 300*kib + 17} {
		t.Errorf("last progress %v", last)
	}
	info := reload(t, mi, dir)
	if info.Name != "song.ogg" || info.Length != 300*kib+17 || len(info.Files) != 0 || info.Private == nil || !*info.Private {
		t.Errorf("info = name %q length %d files %d private %v", info.Name, info.Length, len(info.Files), info.Private)
	}
	if !bytes.Equal(info.Pieces, expectedPieces(t, 32*kib, path)) {
		t.Error("piece hashes differ from an independent hash of the file")
	}
	if mi.Announce != opt.Trackers[0] || len(mi.AnnounceList) != 2 || mi.Comment != "c" || mi.CreatedBy != "shoal" {
		t.Errorf("metainfo fields: %q %v %q %q", mi.Announce, mi.AnnounceList, mi.Comment, mi.CreatedBy)
	}
}

func TestCreateFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := filepath.Join(dir, "album")
	writeTree(t, root, map[string]int{
		"b/02.flac": 70 * kib, "a.txt": 10, "b/01.flac": 90*kib + 3, ".hidden": 5, "z~.tmp": 1, "empty": 0,
	})
	if err := os.Symlink(filepath.Join(root, "a.txt"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	mi, err := Create(context.Background(), root, CreateOptions{Format: V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := reload(t, mi, dir)
	want := []string{".hidden", "a.txt", "b/01.flac", "b/02.flac", "empty", "z~.tmp"}
	var got []string
	for _, f := range info.Files {
		got = append(got, filepath.ToSlash(filepath.Join(f.Path...)))
	}
	if info.Name != "album" || len(got) != len(want) {
		t.Fatalf("name %q files %q, want %q", info.Name, got, want)
	}
	var paths []string
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("files %q, want %q", got, want)
		}
		paths = append(paths, filepath.Join(root, filepath.FromSlash(want[i])))
	}
	if info.PieceLength != autoMinPiece {
		t.Errorf("auto piece length %d, want %d", info.PieceLength, autoMinPiece)
	}
	if !bytes.Equal(info.Pieces, expectedPieces(t, info.PieceLength, paths...)) {
		t.Error("piece hashes differ from an independent hash of the files")
	}
}

func TestCreateStableInfoHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]int{"x/1": 40 * kib, "x/2/3": 1000})
	var hashes []metainfo.Hash
	for range 2 {
		mi, err := Create(context.Background(), filepath.Join(dir, "x"), CreateOptions{PieceLength: 16 * kib}, nil)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, mi.HashInfoBytes())
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("infohash changed between runs: %v %v", hashes[0], hashes[1])
	}
}

type createErrCase struct {
	name string
	ctx  context.Context
	path string
	opt  CreateOptions
	want error
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]int{"emptyfiles/a": 0, "data/a": 100})
	for _, d := range []string{"empty", "onlylink"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "data", "a"), filepath.Join(dir, "onlylink", "l")); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []createErrCase{
		{"empty folder", context.Background(), "empty", CreateOptions{}, ErrNothingToShare},
		{"only a symlink", context.Background(), "onlylink", CreateOptions{}, ErrNothingToShare},
		{"only empty files", context.Background(), "emptyfiles", CreateOptions{}, ErrNothingToShare},
		{"missing", context.Background(), "nope", CreateOptions{}, os.ErrNotExist},
		{"bad piece length", context.Background(), "data", CreateOptions{PieceLength: 1000}, ErrBadInfo},
		{"canceled", canceled, "data", CreateOptions{}, context.Canceled},
	}
	if runtime.GOOS != "windows" {
		writeTree(t, dir, map[string]int{"unportable/a:b": 10, "reserved/CON": 10})
		cases = append(cases,
			createErrCase{"unportable name", context.Background(), "unportable", CreateOptions{}, ErrUnsafePath},
			createErrCase{"reserved name", context.Background(), "reserved", CreateOptions{}, ErrUnsafePath})
	}
	for _, tc := range cases {
		if _, err := CreateInfo(tc.ctx, filepath.Join(dir, tc.path), tc.opt, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestChoosePieceLength(t *testing.T) {
	t.Parallel()
	cases := []struct {
		want, total, pl int64
	}{
		{0, 1, autoMinPiece},
		{0, 1500 * autoMinPiece, autoMinPiece},
		{0, 1500*autoMinPiece + 1 + autoMinPiece, 512 * kib},
		{0, 1500 * 1 << 20, 1 << 20},
		{0, 1 << 40, autoMaxPiece},
		{48 * kib, 1, 48 * kib},
	}
	for _, tc := range cases {
		if got, err := choosePieceLength(tc.want, tc.total); err != nil || got != tc.pl {
			t.Errorf("choosePieceLength(%d, %d) = %d, %v; want %d", tc.want, tc.total, got, err, tc.pl)
		}
	}
}

// TestCreateHybridProgress: a hybrid folder's progress counts file bytes
// only, so it ends at its total, not short of the padding.
func TestCreateHybridProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]int{"a/one.bin": 40*kib + 3, "b/two.bin": 70 * kib})
	var last [2]int64
	if _, err := Create(context.Background(), dir, CreateOptions{PieceLength: 32 * kib}, func(h, n int64) { last = [2]int64{h, n} }); err != nil {
		t.Fatal(err)
	}
	if want := int64(110*kib + 3); last != [2]int64{want, want} {
		t.Errorf("last progress %v, want %d of %d", last, want, want)
	}
}

// TestCreateShareRoots: a v1 torrent made with Roots carries, beside it,
// the same BEP 52 pieces roots as a hybrid of the same files (whose roots
// TestCreateMatchesLibtorrent checks against libtorrent), for a folder
// and a single file, at a piece length other than the roots' own; the v1
// torrent is byte for byte the one made without Roots.
func TestCreateShareRoots(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	folder := filepath.Join(root, "f")
	writeTree(t, folder, map[string]int{"empty": 0, "a": 1, "b": 16 << 10, "c": 16<<10 + 1,
		"d/e": 1<<20 + 5, "d/f": 3 << 20})
	single := filepath.Join(folder, "d", "e")
	for _, src := range []string{folder, single} {
		hyb, err := Create(context.Background(), src, CreateOptions{PieceLength: 32 << 10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		hinfo, err := hyb.UnmarshalInfo()
		if err != nil {
			t.Fatal(err)
		}
		var want [][32]byte
		for fi := range hinfo.UpvertedFilesIter() {
			if fi.PiecesRoot.Ok {
				want = append(want, fi.PiecesRoot.Value)
			}
		}
		opt := CreateOptions{PieceLength: 48 << 10, Format: V1Only}
		plain, err := CreateInfo(context.Background(), src, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		opt.Roots = true
		made, err := CreateShare(context.Background(), src, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		info, roots := made.Info, made.Roots
		a, _ := EncodeInfo(plain)
		b, _ := EncodeInfo(info)
		if !bytes.Equal(a, b) || info.HasV2() {
			t.Errorf("%s: the v1 torrent changed with Roots (v2 parts: %v)", src, info.HasV2())
		}
		if len(want) == 0 || !slices.Equal(roots, want) {
			t.Errorf("%s: roots %x, want the hybrid's %x", src, roots, want)
		}
	}
}

// TestCreateShareCancelStopsHashing: a share cancelled part way, while
// its SHA-256 goroutine (v2Pipe) has chunks in hand, returns the
// cancellation and leaves no goroutine behind.
func TestCreateShareCancelStopsHashing(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]int{"a": 3 << 20, "b": 2 << 20})
	before := runtime.NumGoroutine()
	for _, format := range []Format{V1Only, Hybrid} {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := CreateShare(ctx, dir, CreateOptions{PieceLength: 64 << 10, Format: format, Roots: true},
			func(hashed, total int64) {
				if hashed > 0 && hashed < total {
					cancel()
				}
			})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("format %d: err %v, want the cancellation", format, err)
		}
	}
	// A goroutine that has closed its done channel may still be on its
	// way out on a loaded machine; one left blocked never leaves.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if runtime.NumGoroutine() <= before {
			return
		}
	}
	t.Errorf("%d goroutines 10 s after cancelled shares, %d before", runtime.NumGoroutine(), before)
}
