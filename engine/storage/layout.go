package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/anacrolix/torrent/metainfo"
)

// Limits on piece lengths and sizes. NewLayout loads any positive piece
// length up to MaxLoadPieceLength, as libtorrent does (old torrents use
// lengths that are no multiple of 16 KiB); Create makes only multiples of
// 16 KiB between MinPieceLength and MaxPieceLength.
const (
	MinPieceLength     = 16 << 10  // smallest piece length Create makes (16 KiB)
	MaxPieceLength     = 64 << 20  // largest piece length Create makes (64 MiB)
	MaxLoadPieceLength = 1<<31 - 1 // largest piece length NewLayout loads
	MaxTotalLength     = 1 << 40   // largest accepted torrent (1 TiB)
	MaxFiles           = 100_000   // most files accepted in one torrent
)

var (
	// ErrUnsafePath reports a file that cannot be opened safely below the
	// download folder (a symbolic link or special file in the way).
	ErrUnsafePath = errors.New("storage: unsafe path")
	// ErrBadInfo reports an info dictionary that is malformed or exceeds
	// the limits above.
	ErrBadInfo = errors.New("storage: bad info dictionary")
)

// File is one file of a torrent's byte space.
type File struct {
	// Path is relative to the download folder (it starts with the
	// torrent's sanitized Name), uses OS separators and is sanitized.
	Path string
	// Length is the file size in bytes; Offset is where the file starts in
	// the torrent's byte space.
	Length, Offset int64
	// Pad marks a BEP 47 padding file: never stored, always zeros.
	Pad bool
	// Root is the file's BEP 52 pieces root in a v2-only torrent.
	Root [32]byte
}

// Layout maps a torrent's byte space onto sanitized files below a root
// folder.
type Layout struct {
	Name        string // sanitized torrent name: the file or the top folder
	Files       []File // in byte-space order
	PieceLength int64
	NumPieces   int
	TotalLength int64 // the piece space, padding included
	// ContentLength and ContentFiles are the bytes and the number of
	// the files, padding left out (content.go).
	ContentLength int64
	ContentFiles  int
	// Hashes is the SHA-1 of each piece (v1 and hybrid): a view of the
	// info's piece list (NewLayout's info.Pieces), which must not change.
	Hashes [][20]byte

	v2   *v2Pieces  // set for v2-only torrents: see CheckPiece
	pads []piecePad // padding bytes per piece, in piece order (setContent)
}

// NewLayout validates a v1 info dictionary from an untrusted source and
// returns its layout. Names are never refused: like libtorrent, NewLayout
// maps every path to a safe one below the torrent's folder (see
// sanitizeComponent) and renames duplicates. It refuses, with ErrBadInfo
// and the reason, only what cannot be made safe or correct: a bad piece
// length or piece hash list, no files, negative or oversized lengths.
func NewLayout(info *metainfo.Info) (*Layout, error) {
	if info == nil {
		return nil, fmt.Errorf("%w: nil info", ErrBadInfo)
	}
	if isV2Only(info) {
		return newV2Layout(info)
	}
	name := layoutName(info.BestName())
	l := &Layout{Name: name, PieceLength: info.PieceLength}
	var err error
	if l.Files, err = layoutFiles(info, name); err != nil {
		return nil, err
	}
	last := l.Files[len(l.Files)-1]
	l.TotalLength = last.Offset + last.Length
	if err := l.setPieces(info.Pieces); err != nil {
		return nil, err
	}
	l.setContent()
	return l, nil
}

// fallbackName replaces a torrent name or file path that sanitizing left
// empty ("", "..", "/").
const fallbackName = "_"

// layoutName sanitizes the torrent name; a name with nothing usable left
// becomes fallbackName.
func layoutName(raw string) string {
	if name := sanitizeComponent(raw); name != "" {
		return name
	}
	return fallbackName
}

// layoutFiles builds the file list of a single- or multi-file info.
func layoutFiles(info *metainfo.Info, name string) ([]File, error) {
	if len(info.Files) == 0 {
		if info.Length <= 0 || info.Length > MaxTotalLength {
			return nil, fmt.Errorf("%w: no files (length %d)", ErrBadInfo, info.Length)
		}
		return []File{{Path: name, Length: info.Length}}, nil
	}
	if info.Length != 0 {
		return nil, fmt.Errorf("%w: both length and files present", ErrBadInfo)
	}
	if len(info.Files) > MaxFiles {
		return nil, fmt.Errorf("%w: %d files (limit %d)", ErrBadInfo, len(info.Files), MaxFiles)
	}
	files := make([]File, 0, len(info.Files))
	var off int64
	pads := 0
	for i := range info.Files {
		f, err := layoutFile(&info.Files[i], name, off, &pads)
		if err != nil {
			return nil, fmt.Errorf("file %d: %w", i, err)
		}
		files = append(files, f)
		off += f.Length
	}
	if off <= 0 {
		return nil, fmt.Errorf("%w: no data (total length %d)", ErrBadInfo, off)
	}
	renameDuplicates(files)
	return files, nil
}

// layoutFile maps one entry of the files list; off is its start and pads
// counts the padding files without a path, named .pad/N as libtorrent
// names them.
func layoutFile(fi *metainfo.FileInfo, name string, off int64, pads *int) (File, error) {
	if fi.Length < 0 {
		return File{}, fmt.Errorf("%w: negative length %d", ErrBadInfo, fi.Length)
	}
	if fi.Length > MaxTotalLength-off {
		return File{}, fmt.Errorf("%w: total length over %d", ErrBadInfo, int64(MaxTotalLength))
	}
	pad := IsPadFile(fi)
	parts := []string{name}
	for _, c := range fi.BestPath() {
		if s := sanitizeComponent(c); s != "" {
			parts = append(parts, s)
		}
	}
	switch {
	case len(fi.BestPath()) == 0 && pad:
		parts = append(parts, ".pad", strconv.Itoa(*pads))
		*pads++
	case len(parts) == 1:
		parts = append(parts, fallbackName)
	}
	return File{Path: filepath.Join(parts...), Length: fi.Length, Offset: off, Pad: pad}, nil
}

// renameDuplicates gives a stored file whose path another file already
// takes (ignoring letter case, as Windows and macOS do), or which is a
// folder of another file, a free name with a counter before the
// extension: "a.txt" becomes "a.1.txt", as libtorrent renames them.
// Padding files are never stored, so they may collide.
func renameDuplicates(files []File) {
	taken := make(map[string]bool, len(files))
	for _, f := range files {
		if f.Pad {
			continue
		}
		key := strings.ToLower(f.Path)
		for i := range len(key) {
			if key[i] == filepath.Separator {
				taken[key[:i]] = true // folders first: no file may take one
			}
		}
	}
	for i := range files {
		if files[i].Pad {
			continue
		}
		orig := files[i].Path
		for n := 1; taken[strings.ToLower(files[i].Path)]; n++ {
			files[i].Path = numbered(orig, n)
		}
		taken[strings.ToLower(files[i].Path)] = true
	}
}

// numbered returns p with its base name given counter n, within the name
// length limit: "d/a.txt" with 2 becomes "d/a.2.txt".
func numbered(p string, n int) string {
	dir, base := filepath.Split(p)
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 && len(base)-i <= maxExtBytes {
		stem, ext = base[:i], base[i:]
	}
	suffix := "." + strconv.Itoa(n) + ext
	return dir + cutUTF8(stem, maxNameBytes-len(suffix)) + suffix
}

// setPieces checks the piece length and the hash list against the total.
func (l *Layout) setPieces(pieces []byte) error {
	pl := l.PieceLength
	if pl <= 0 || pl > MaxLoadPieceLength {
		return fmt.Errorf("%w: missing or bad piece length %d", ErrBadInfo, pl)
	}
	n := (l.TotalLength + pl - 1) / pl
	if len(pieces) == 0 {
		return fmt.Errorf("%w: missing piece hashes", ErrBadInfo)
	}
	if int64(len(pieces)) != 20*n {
		return fmt.Errorf("%w: %d bytes of piece hashes for %d pieces", ErrBadInfo, len(pieces), n)
	}
	l.NumPieces = int(n)
	// A view of the caller's hash list, not a copy: a library of
	// thousands of torrents would otherwise hold every hash once more.
	// [20]byte has no alignment needs, so the view is a valid slice.
	l.Hashes = unsafe.Slice((*[20]byte)(unsafe.Pointer(unsafe.SliceData(pieces))), n)
	return nil
}

// PieceSize returns the length of piece i; the last piece may be shorter.
// It returns 0 for an index out of range.
func (l *Layout) PieceSize(i int) int64 {
	if i < 0 || i >= l.NumPieces {
		return 0
	}
	return min(l.PieceLength, l.TotalLength-l.PieceOffset(i))
}

// PieceOffset returns where piece i starts in the torrent's byte space.
func (l *Layout) PieceOffset(i int) int64 { return int64(i) * l.PieceLength }

// PiecesForFile returns the first and last piece (inclusive) that hold
// bytes of file i. For a zero-length file or an index out of range the
// range is empty: last < first.
func (l *Layout) PiecesForFile(i int) (first, last int) {
	if i < 0 || i >= len(l.Files) || l.Files[i].Length == 0 {
		return 0, -1
	}
	f := l.Files[i]
	return int(f.Offset / l.PieceLength), int((f.Offset + f.Length - 1) / l.PieceLength)
}

// FilesForPiece returns the first and last file (inclusive) that hold bytes
// of piece i; zero-length files between them are in the range too. For an
// index out of range the range is empty: last < first.
func (l *Layout) FilesForPiece(i int) (first, last int) {
	size := l.PieceSize(i)
	if size == 0 {
		return 0, -1
	}
	off := l.PieceOffset(i)
	return l.fileAt(off), l.fileAt(off + size - 1)
}

// fileAt returns the index of the non-empty file holding byte off, which
// must be inside the byte space.
func (l *Layout) fileAt(off int64) int {
	i, _ := slices.BinarySearchFunc(l.Files, off, func(f File, off int64) int {
		if f.Offset+f.Length <= off {
			return -1
		}
		return 1
	})
	return i
}
