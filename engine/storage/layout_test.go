package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/anacrolix/torrent/metainfo"
)

const kib = 1 << 10

// multi builds a multi-file info with piece length pl and correctly sized
// (zero) hashes. Each file is a length and its path components.
func multi(name string, pl int64, files ...metainfo.FileInfo) *metainfo.Info {
	info := &metainfo.Info{Name: name, PieceLength: pl, Files: files}
	return withPieces(info)
}

// single builds a single-file info.
func single(name string, length, pl int64) *metainfo.Info {
	return withPieces(&metainfo.Info{Name: name, PieceLength: pl, Length: length})
}

// withPieces sets Pieces to the right number of zero hashes when the
// numbers are sane.
func withPieces(info *metainfo.Info) *metainfo.Info {
	total := info.TotalLength()
	if info.PieceLength > 0 && total > 0 && total <= 1<<40 {
		info.Pieces = make([]byte, 20*((total+info.PieceLength-1)/info.PieceLength))
	}
	return info
}

func fi(length int64, path ...string) metainfo.FileInfo {
	return metainfo.FileInfo{Length: length, Path: path}
}

func j(parts ...string) string { return filepath.Join(parts...) }

type layoutCase struct {
	name  string
	info  *metainfo.Info
	err   error    // nil: must succeed
	paths []string // expected File.Path values on success
}

func layoutCases() []layoutCase {
	long := strings.Repeat("x", 300) + ".mkv"
	longUTF := strings.Repeat("é", 200)
	pad := metainfo.FileInfo{Length: 100, Path: []string{".pad", "100"}}
	pad.Attr = "p"
	utf := single("raw", 10, 16*kib)
	utf.NameUtf8 = "utf8name"
	return []layoutCase{
		{"single ok", single("movie.mkv", 100*kib, 16*kib), nil, []string{"movie.mkv"}},
		{"multi ok", multi("t", 16*kib, fi(10, "a", "b.txt"), fi(20, "c")), nil, []string{j("t", "a", "b.txt"), j("t", "c")}},
		{"name utf8 preferred", utf, nil, []string{"utf8name"}},
		{"dotdot component", multi("t", 16*kib, fi(10, "..", "etc", "passwd")), nil, []string{j("t", "etc", "passwd")}},
		{"dotdot deep", multi("t", 16*kib, fi(10, "a", "..", "..", "x")), nil, []string{j("t", "a", "x")}},
		{"dotdot inside component", multi("t", 16*kib, fi(10, "a/../../b")), nil, []string{j("t", "a_.._.._b")}},
		{"dotdot backslash", multi("t", 16*kib, fi(10, `..\..\x`)), nil, []string{j("t", ".._.._x")}},
		{"dotdot trailing space", multi("t", 16*kib, fi(10, ".. ", "x")), nil, []string{j("t", "x")}},
		{"absolute slash", multi("t", 16*kib, fi(10, "/etc/passwd")), nil, []string{j("t", "etc_passwd")}},
		{"absolute backslash", multi("t", 16*kib, fi(10, `\Windows`, "x")), nil, []string{j("t", "Windows", "x")}},
		{"name dotdot", single("..", 10, 16*kib), nil, []string{"_"}},
		{"name absolute", multi("/abs", 16*kib, fi(10, "x")), nil, []string{j("abs", "x")}},
		{"name drive", single(`C:\x`, 10, 16*kib), nil, []string{"C__x"}},
		{"drive letter", multi("t", 16*kib, fi(10, "C:", "x")), nil, []string{j("t", "C_", "x")}},
		{"drive relative", multi("t", 16*kib, fi(10, "c:foo")), nil, []string{j("t", "c_foo")}},
		{"empty name", single("", 10, 16*kib), nil, []string{"_"}},
		{"dot name", multi(".", 16*kib, fi(10, "x")), nil, []string{j("_", "x")}},
		{"empty components dropped", multi("t", 16*kib, fi(10, "", "a", "", "b")), nil, []string{j("t", "a", "b")}},
		{"dot components dropped", multi("t", 16*kib, fi(10, ".", "a", ".")), nil, []string{j("t", "a")}},
		{"only empty components", multi("t", 16*kib, fi(10, "", ".")), nil, []string{j("t", "_")}},
		{"no path", multi("t", 16*kib, fi(10)), nil, []string{j("t", "_")}},
		{"backslash inside", multi("t", 16*kib, fi(10, `a\b`)), nil, []string{j("t", "a_b")}},
		{"slash inside", multi("t", 16*kib, fi(10, "a/b")), nil, []string{j("t", "a_b")}},
		{"reserved", multi("t", 16*kib, fi(1, "CON"), fi(1, "nul.txt"), fi(1, "com1.tar.gz"), fi(1, "Lpt9"), fi(1, "aux "), fi(1, "CONSOLE"), fi(1, "com0")),
			nil, []string{j("t", "CON_"), j("t", "nul_.txt"), j("t", "com1_.tar.gz"), j("t", "Lpt9_"), j("t", "aux_"), j("t", "CONSOLE"), j("t", "com0")}},
		{"reserved name", single("prn.log", 10, 16*kib), nil, []string{"prn_.log"}},
		{"control chars", multi("t\x1b", 16*kib, fi(10, "a\x00b\nc\x7f")), nil, []string{j("t_", "a_b_c_")}},
		{"windows chars", multi("t", 16*kib, fi(10, `a<b>:"|?*.txt`)), nil, []string{j("t", "a_b______.txt")}},
		{"invalid utf8", multi("t", 16*kib, fi(10, "a\xffb")), nil, []string{j("t", "a_b")}},
		{"long name keeps ext", multi("t", 16*kib, fi(10, long)), nil, []string{j("t", strings.Repeat("x", 251)+".mkv")}},
		{"long utf8 name", multi("t", 16*kib, fi(10, longUTF)), nil, []string{j("t", strings.Repeat("é", 127))}},
		{"trailing dots spaces", multi("t", 16*kib, fi(10, "file. . "), fi(10, "..."), fi(10, "dir.", "x")), nil,
			[]string{j("t", "file"), j("t", "_"), j("t", "dir", "x")}},
		{"duplicate", multi("t", 16*kib, fi(10, "foo", "bar.txt"), fi(10, "foo", "bar.txt"), fi(10, "foo", "bar.txt")), nil,
			[]string{j("t", "foo", "bar.txt"), j("t", "foo", "bar.1.txt"), j("t", "foo", "bar.2.txt")}},
		{"duplicate after sanitizing", multi("t", 16*kib, fi(10, "a:b"), fi(10, "a?b")), nil, []string{j("t", "a_b"), j("t", "a_b.1")}},
		{"duplicate by dropping", multi("t", 16*kib, fi(10, "a", "", "b"), fi(10, "a", "b")), nil, []string{j("t", "a", "b"), j("t", "a", "b.1")}},
		{"duplicate case", multi("t", 16*kib, fi(10, "Readme"), fi(10, "README")), nil, []string{j("t", "Readme"), j("t", "README.1")}},
		{"file is folder", multi("t", 16*kib, fi(10, "a"), fi(10, "a", "b")), nil, []string{j("t", "a.1"), j("t", "a", "b")}},
		{"folder is file", multi("t", 16*kib, fi(10, "a", "b", "c"), fi(10, "a", "b")), nil, []string{j("t", "a", "b", "c"), j("t", "a", "b.1")}},
		{"zero total", multi("t", 16*kib, fi(0, "a")), ErrBadInfo, nil},
		{"zero single", single("t", 0, 16*kib), ErrBadInfo, nil},
		{"negative single", single("t", -5, 16*kib), ErrBadInfo, nil},
		{"negative file", multi("t", 16*kib, fi(100, "a"), fi(-50, "b")), ErrBadInfo, nil},
		{"over 1 TiB", single("t", 1<<40+1, 64<<20), ErrBadInfo, nil},
		{"over 1 TiB files", multi("t", 64<<20, fi(1<<39, "a"), fi(1<<39, "b"), fi(1, "c")), ErrBadInfo, nil},
		{"exactly 1 TiB", withPieces(&metainfo.Info{Name: "t", PieceLength: 64 << 20, Length: 1 << 40}), nil, []string{"t"}},
		{"piece 8 KiB", single("t", 100*kib, 8*kib), nil, []string{"t"}},
		{"piece 128 MiB", single("t", 100*kib, 128<<20), nil, []string{"t"}},
		{"piece not multiple", single("t", 100*kib, 20000), nil, []string{"t"}},
		{"piece small", single("t", 100, 1), nil, []string{"t"}},
		{"piece 512 MiB", single("t", 425, 32767*16*kib), nil, []string{"t"}},
		{"piece over 2 GiB", single("t", 425, 1<<31), ErrBadInfo, nil},
		{"piece negative", single("t", 425, -16*kib), ErrBadInfo, nil},
		{"no pieces", &metainfo.Info{Name: "t", PieceLength: 16 * kib, Length: 40 * kib}, ErrBadInfo, nil},
		{"piece zero", single("t", 100*kib, 0), ErrBadInfo, nil},
		{"piece 48 KiB", single("t", 100*kib, 48*kib), nil, []string{"t"}},
		{"too few hashes", &metainfo.Info{Name: "t", PieceLength: 16 * kib, Length: 40 * kib, Pieces: make([]byte, 40)}, ErrBadInfo, nil},
		{"too many hashes", &metainfo.Info{Name: "t", PieceLength: 16 * kib, Length: 40 * kib, Pieces: make([]byte, 80)}, ErrBadInfo, nil},
		{"ragged hashes", &metainfo.Info{Name: "t", PieceLength: 16 * kib, Length: 40 * kib, Pieces: make([]byte, 61)}, ErrBadInfo, nil},
		{"too many files", manyFiles(MaxFiles + 1), ErrBadInfo, nil},
		{"length and files", func() *metainfo.Info { i := multi("t", 16*kib, fi(10, "a")); i.Length = 10; return i }(), ErrBadInfo, nil},
		{"zero-length file legal", multi("t", 16*kib, fi(0, "empty"), fi(10, "a")), nil, []string{j("t", "empty"), j("t", "a")}},
		{"padding may repeat", multi("t", 16*kib, fi(100, "a"), pad, fi(100, "b"), pad), nil,
			[]string{j("t", "a"), j("t", ".pad", "100"), j("t", "b"), j("t", ".pad", "100")}},
		{"nil info", nil, ErrBadInfo, nil},
		{"pad without path", multi("t", 16*kib, fi(100, "a"), padNoPath(2124), fi(100, "b"), padNoPath(5)), nil,
			[]string{j("t", "a"), j("t", ".pad", "0"), j("t", "b"), j("t", ".pad", "1")}},
		{"bitcomet padding", multi("t", 16*kib, fi(100, "a"), fi(100, "_____padding_file_0_"), fi(100, "_____padding_file_0_")), nil,
			[]string{j("t", "a"), j("t", "_____padding_file_0_"), j("t", "_____padding_file_0_")}},
		{"slash only", multi("temp", 16*kib, fi(10, "/")), nil, []string{j("temp", "_")}},
		{"backslash only", multi("temp", 16*kib, fi(10, `\`)), nil, []string{j("temp", "_")}},
		{"absolute filename", multi("temp", 16*kib, fi(10, "abcde"), fi(10, "/foobar")), nil, []string{j("temp", "abcde"), j("temp", "foobar")}},
		{"backslash leading", multi("temp", 16*kib, fi(10, `\est2`)), nil, []string{j("temp", "est2")}},
		{"parent path", multi("temp", 16*kib, fi(10, "foo", "..", "..", "..", "bar")), nil, []string{j("temp", "foo", "bar")}},
		{"hidden parent", multi("temp", 16*kib, fi(10, "foo", "..", "..", ".bar")), nil, []string{j("temp", "foo", ".bar")}},
		{"bidi marks", multi("t", 16*kib, fi(10, "evil\u202egpj.exe")), nil, []string{j("t", "evilgpj.exe")}},
		{"duplicate long name", multi("t", 16*kib, fi(10, strings.Repeat("y", 255)), fi(10, strings.Repeat("y", 255))), nil,
			[]string{j("t", strings.Repeat("y", 255)), j("t", strings.Repeat("y", 253)+".1")}},
		{"duplicate of renamed", multi("t", 16*kib, fi(10, "a.txt"), fi(10, "a.txt"), fi(10, "a.1.txt")), nil,
			[]string{j("t", "a.txt"), j("t", "a.1.txt"), j("t", "a.1.1.txt")}},
	}
}

// padNoPath is a BEP 47 padding file with no path, as some creators write.
func padNoPath(n int64) metainfo.FileInfo {
	f := metainfo.FileInfo{Length: n}
	f.Attr = "p"
	return f
}

func manyFiles(n int) *metainfo.Info {
	files := make([]metainfo.FileInfo, n)
	for i := range files {
		files[i] = fi(1, "f", string(rune('a'+i%26)))
	}
	return multi("t", 16*kib, files...)
}

func TestNewLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range layoutCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := NewLayout(tc.info)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var got []string
			for _, f := range l.Files {
				got = append(got, f.Path)
			}
			if strings.Join(got, "|") != strings.Join(tc.paths, "|") {
				t.Fatalf("paths = %q, want %q", got, tc.paths)
			}
			checkLayoutInvariants(t, l)
		})
	}
}

// checkLayoutInvariants asserts what every accepted layout guarantees.
func checkLayoutInvariants(t *testing.T, l *Layout) {
	t.Helper()
	var off int64
	for _, f := range l.Files {
		if f.Offset != off {
			t.Fatalf("%s: offset %d, want %d", f.Path, f.Offset, off)
		}
		off += f.Length
		checkSafePath(t, l.Name, f.Path)
	}
	if off != l.TotalLength || off <= 0 {
		t.Fatalf("file lengths sum to %d, TotalLength %d", off, l.TotalLength)
	}
	if (len(l.Hashes) != l.NumPieces && !l.IsV2()) || int64(l.NumPieces-1)*l.PieceLength >= l.TotalLength ||
		int64(l.NumPieces)*l.PieceLength < l.TotalLength {
		t.Fatalf("%d pieces of %d for %d bytes, %d hashes", l.NumPieces, l.PieceLength, l.TotalLength, len(l.Hashes))
	}
}

// checkSafePath asserts that p is a clean relative path below name whose
// components are portable names.
func checkSafePath(t *testing.T, name, p string) {
	t.Helper()
	if filepath.IsAbs(p) || filepath.Clean(p) != p || filepath.VolumeName(p) != "" {
		t.Fatalf("path %q is not clean and relative", p)
	}
	parts := strings.Split(p, string(filepath.Separator))
	if parts[0] != name {
		t.Fatalf("path %q does not start with name %q", p, name)
	}
	for _, c := range parts {
		bad := c == "" || c == "." || c == ".." || len(c) > maxNameBytes || !utf8.ValidString(c) ||
			strings.ContainsAny(c, "/\\:*?\"<>|") || strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ") ||
			strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f })
		if bad {
			t.Fatalf("path %q has unsafe component %q", p, c)
		}
		if renameReserved(c) != c {
			t.Fatalf("path %q has reserved component %q", p, c)
		}
	}
}

func TestLayoutPieces(t *testing.T) {
	t.Parallel()
	// Files: a [0,10k) empty [10k,10k) b [10k,50k) c [50k,51k); pieces of 16k.
	l, err := NewLayout(multi("t", 16*kib, fi(10*kib, "a"), fi(0, "empty"), fi(40*kib, "b"), fi(1*kib, "c")))
	if err != nil {
		t.Fatal(err)
	}
	if l.NumPieces != 4 || l.TotalLength != 51*kib {
		t.Fatalf("NumPieces %d TotalLength %d", l.NumPieces, l.TotalLength)
	}
	sizes := []struct {
		i         int
		size, off int64
		files     [2]int
	}{
		{0, 16 * kib, 0, [2]int{0, 2}},
		{1, 16 * kib, 16 * kib, [2]int{2, 2}},
		{2, 16 * kib, 32 * kib, [2]int{2, 2}},
		{3, 3 * kib, 48 * kib, [2]int{2, 3}},
		{4, 0, 64 * kib, [2]int{0, -1}},
		{-1, 0, -16 * kib, [2]int{0, -1}},
	}
	for _, s := range sizes {
		if got := l.PieceSize(s.i); got != s.size {
			t.Errorf("PieceSize(%d) = %d, want %d", s.i, got, s.size)
		}
		if got := l.PieceOffset(s.i); got != s.off {
			t.Errorf("PieceOffset(%d) = %d, want %d", s.i, got, s.off)
		}
		if a, b := l.FilesForPiece(s.i); [2]int{a, b} != s.files {
			t.Errorf("FilesForPiece(%d) = %d,%d, want %v", s.i, a, b, s.files)
		}
	}
	files := [][2]int{{0, 0}, {0, -1}, {0, 3}, {3, 3}, {0, -1}}
	for i, want := range files {
		if a, b := l.PiecesForFile(i); [2]int{a, b} != want {
			t.Errorf("PiecesForFile(%d) = %d,%d, want %v", i, a, b, want)
		}
	}
}
