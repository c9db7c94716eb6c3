package storage

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// ErrNothingToShare reports a folder without any regular file with content.
var ErrNothingToShare = errors.New("storage: nothing to share")

// Automatic piece lengths: a power of two between these bounds, aiming at
// about autoPieces pieces.
const (
	autoMinPiece = 256 << 10
	autoMaxPiece = 4 << 20
	autoPieces   = 1500
)

// CreateOptions tunes Create and CreateInfo.
type CreateOptions struct {
	// PieceLength is a multiple of 16 KiB up to 64 MiB (a power of two
	// for v2 and hybrid); 0 picks a power of two from 256 KiB to 4 MiB
	// aiming at about 1500 pieces.
	PieceLength int64
	Trackers    []string // announce URLs, one tier each (BEP 12)
	Comment     string
	CreatedBy   string
	Private     bool   // BEP 27
	Format      Format // Hybrid (the zero value), V1Only or V2Only
	// Roots has a V1Only torrent's files hashed for their BEP 52 pieces
	// roots too (CreateShare returns them), in the same reading pass;
	// the torrent itself does not change. v2 and hybrid torrents always
	// have them.
	Roots bool
}

// Format is the kind of torrent Create makes.
type Format int

// Formats of Create.
const (
	// Hybrid is v1 and v2 in one torrent (BEP 52), with BEP 47 pad files
	// that start every file on a piece boundary: what libtorrent 2.0
	// (qBittorrent 4.4 and later) makes by default.
	Hybrid Format = iota
	// V1Only is a BEP 3 torrent: SHA-1 pieces, no pad files.
	V1Only
	// V2Only is a BEP 52 torrent without v1 parts.
	V2Only
)

// Create builds a torrent from a file or a folder, hashing in the calling
// goroutine: hybrid by default (v1 and v2 in one, BEP 52, with BEP 47 pad
// files placed as libtorrent 2.0 places them, so the same folder gives the
// same infohashes in both), or v1 or v2 only (CreateOptions.Format).
// progress(hashed, total bytes), if not nil, is called at most about ten
// times a second and once at the end. ctx cancels.
func Create(ctx context.Context, path string, opt CreateOptions, progress func(hashed, total int64)) (*metainfo.MetaInfo, error) {
	info, layers, err := createInfo(ctx, path, opt, progress)
	if err != nil {
		return nil, err
	}
	ib, err := EncodeInfo(info)
	if err != nil {
		return nil, fmt.Errorf("storage: create: encode info: %w", err)
	}
	mi := &metainfo.MetaInfo{
		InfoBytes:    ib,
		Comment:      opt.Comment,
		CreatedBy:    opt.CreatedBy,
		CreationDate: time.Now().Unix(),
		PieceLayers:  layers,
	}
	if len(opt.Trackers) > 0 {
		mi.Announce = opt.Trackers[0]
	}
	if len(opt.Trackers) > 1 {
		for _, t := range opt.Trackers {
			mi.AnnounceList = append(mi.AnnounceList, []string{t})
		}
	}
	return mi, nil
}

// CreateInfo is Create returning the info dictionary only (a v2-only
// torrent's piece layers, which live outside it, are dropped). Files are
// sorted by path; hidden and temporary files are included; symbolic links
// below path and other non-regular files are skipped (path itself may be a
// link). A folder without content fails with ErrNothingToShare. The result
// is checked with NewLayout, so it can be loaded back.
func CreateInfo(ctx context.Context, path string, opt CreateOptions, progress func(hashed, total int64)) (*metainfo.Info, error) {
	info, _, err := createInfo(ctx, path, opt, progress)
	return info, err
}

// Shared is what CreateShare makes.
type Shared struct {
	Info *metainfo.Info
	// Roots are the BEP 52 pieces roots of the non-empty files, in file
	// order: from the file tree of a v2 or hybrid torrent, and, with
	// CreateOptions.Roots, computed beside a v1 torrent's SHA-1 pieces
	// (nil without it). A file's pieces root depends on its bytes alone,
	// not on the piece length, so a v1 share's roots are those of the
	// same file in any v2 or hybrid torrent.
	Roots [][32]byte
	// Layers are a v2 or hybrid torrent's piece layers, as in a .torrent
	// file's "piece layers" (pieces root -> concatenated hashes).
	Layers map[string]string
}

// CreateShare is CreateInfo also returning the files' pieces roots and
// piece layers.
func CreateShare(ctx context.Context, path string, opt CreateOptions, progress func(hashed, total int64)) (Shared, error) {
	info, layers, roots, err := createParts(ctx, path, opt, progress)
	return Shared{Info: info, Roots: roots, Layers: layers}, err
}

func createInfo(ctx context.Context, path string, opt CreateOptions, progress func(hashed, total int64)) (*metainfo.Info, map[string]string, error) {
	info, layers, _, err := createParts(ctx, path, opt, progress)
	return info, layers, err
}

func createParts(ctx context.Context, path string, opt CreateOptions, progress func(hashed, total int64)) (*metainfo.Info, map[string]string, [][32]byte, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("storage: create: %w", err)
	}
	src, info, err := scanSource(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer src.close()
	total := info.TotalLength()
	if total <= 0 {
		return nil, nil, nil, fmt.Errorf("storage: create %s: %w", path, ErrNothingToShare)
	}
	if info.PieceLength, err = choosePieceLength(opt.PieceLength, total); err != nil {
		return nil, nil, nil, err
	}
	if opt.Format != V1Only && info.PieceLength&(info.PieceLength-1) != 0 {
		return nil, nil, nil, fmt.Errorf("storage: create: %w: piece length %d: v2 and hybrid torrents need a power of two", ErrBadInfo, info.PieceLength)
	}
	if opt.Private {
		info.Private = new(true)
	}
	scanned := slices.Clone(info.Files)
	if opt.Format == Hybrid {
		info.Files = withPadFiles(info.Files, info.PieceLength)
	}
	layers, roots, err := hashSource(ctx, src, info, opt, progress)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkLoadable(info, scanned); err != nil {
		return nil, nil, nil, fmt.Errorf("storage: create %s: %w", path, err)
	}
	return info, layers, roots, nil
}

// checkLoadable makes sure NewLayout accepts info and keeps every name as
// it is on disk, so the sharer finds its own files through the layout.
// scanned are the files found on disk (nil for a single file).
func checkLoadable(info *metainfo.Info, scanned []metainfo.FileInfo) error {
	l, err := NewLayout(info)
	if err != nil {
		return err
	}
	want := []string{info.Name}
	if scanned != nil {
		want = want[:0]
		for _, f := range scanned {
			want = append(want, filepath.Join(append([]string{info.Name}, f.Path...)...))
		}
	}
	i := 0
	for _, f := range l.Files {
		if f.Pad {
			continue
		}
		if i >= len(want) || f.Path != want[i] {
			return fmt.Errorf("%w: name %q is not portable (would be %q); rename it to share",
				ErrUnsafePath, want[min(i, len(want)-1)], f.Path)
		}
		i++
	}
	return nil
}

// choosePieceLength validates a requested piece length or picks one.
func choosePieceLength(want, total int64) (int64, error) {
	if want != 0 {
		if want < MinPieceLength || want > MaxPieceLength || want%MinPieceLength != 0 {
			return 0, fmt.Errorf("storage: create: %w: piece length %d", ErrBadInfo, want)
		}
		return want, nil
	}
	pl := int64(autoMinPiece)
	for pl < autoMaxPiece && total/pl > autoPieces {
		pl *= 2
	}
	return pl, nil
}

// source is the content being shared: a single file or a folder root.
type source struct {
	root   *os.Root // folder being shared, or the file's parent
	single string   // file name within root for a single file
}

func (s *source) close() { _ = s.root.Close() }

// open opens the file with torrent path p (nil for a single file).
func (s *source) open(p []string) (*os.File, error) {
	if p == nil {
		return s.root.Open(s.single)
	}
	return s.root.Open(filepath.Join(p...))
}

// scanSource lists the content at path and returns an info without
// piece length and hashes.
func scanSource(path string) (*source, *metainfo.Info, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: create: %w", err)
	}
	info := &metainfo.Info{Name: filepath.Base(path)}
	switch {
	case fi.Mode().IsRegular():
		root, err := os.OpenRoot(filepath.Dir(path))
		if err != nil {
			return nil, nil, fmt.Errorf("storage: create: %w", err)
		}
		info.Length = fi.Size()
		return &source{root: root, single: info.Name}, info, nil
	case !fi.IsDir():
		return nil, nil, fmt.Errorf("storage: create %s: not a file or folder", path)
	}
	if info.Files, err = scanFolder(path); err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: create: %w", err)
	}
	return &source{root: root}, info, nil
}

// scanFolder lists the regular files below dir, sorted by path, without
// following symbolic links.
func scanFolder(dir string) ([]metainfo.FileInfo, error) {
	var files []metainfo.FileInfo
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // folders are implicit; links and devices are skipped
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, metainfo.FileInfo{
			Path:   strings.Split(rel, string(filepath.Separator)),
			Length: fi.Size(),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: create: scan %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("storage: create %s: %w", dir, ErrNothingToShare)
	}
	slices.SortFunc(files, func(a, b metainfo.FileInfo) int { return slices.Compare(a.Path, b.Path) })
	return files, nil
}

// hasher hashes the concatenated content into pieces.
type hasher struct {
	ctx      context.Context
	pl       int64
	buf      []byte // current piece
	n        int64  // bytes in buf
	pieces   []byte
	hashed   int64
	total    int64
	progress func(hashed, total int64)
	last     time.Time
	v1       bool    // SHA-1 pieces wanted (not for v2-only)
	v2       *v2Pipe // Merkle trees wanted (v2 and hybrid, or Roots)
}

// hashSource reads every file of info in order, setting its v1 piece
// hashes and, unless format is V1Only, its v2 file tree; it returns the v2
// piece layers and the files' pieces roots (for V1Only only with
// opt.Roots).
func hashSource(ctx context.Context, src *source, info *metainfo.Info, opt CreateOptions, progress func(hashed, total int64)) (map[string]string, [][32]byte, error) {
	format := opt.Format
	files := info.Files
	if len(files) == 0 {
		files = []metainfo.FileInfo{{Length: info.Length}}
	}
	var total int64 // file bytes: padding costs no reading and is not counted
	for _, f := range files {
		if !strings.Contains(f.Attr, "p") {
			total += f.Length
		}
	}
	h := &hasher{ctx: ctx, pl: info.PieceLength, buf: make([]byte, info.PieceLength),
		total: total, progress: progress, v1: format != V2Only}
	switch {
	case format != V1Only:
		h.v2 = startV2Pipe(newV2Hasher(info.PieceLength))
	case opt.Roots:
		h.v2 = startV2Pipe(newV2Hasher(rootsPieceLength)) // any power of two gives the same roots
	}
	if h.v2 != nil {
		defer h.v2.wait() // also on an error: the goroutine never outlives the call
	}
	for _, f := range files {
		var err error
		if strings.Contains(f.Attr, "p") {
			h.hashZeros(f.Length)
		} else {
			err = h.hashFile(src, f.Path, f.Length)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if h.n > 0 {
		h.finishPiece()
	}
	if progress != nil {
		progress(h.hashed, h.total)
	}
	if h.v1 {
		info.Pieces = h.pieces
	}
	if h.v2 == nil {
		return nil, nil, nil
	}
	v2 := h.v2.wait()
	roots := v2.roots()
	if format == V1Only {
		return nil, roots, nil
	}
	setFileTree(info, v2.files)
	if format == V2Only {
		info.Files, info.Length = nil, 0
	}
	return v2.layers, roots, nil
}

// hashFile feeds exactly length bytes of file p into the pieces.
func (h *hasher) hashFile(src *source, p []string, length int64) error {
	f, err := src.open(p)
	if err != nil {
		return fmt.Errorf("storage: create: %w", err)
	}
	defer f.Close()
	if h.v2 != nil {
		h.v2.startFile(p, length)
	}
	for left := length; left > 0; {
		if err := h.ctx.Err(); err != nil {
			return fmt.Errorf("storage: create: %w", err)
		}
		chunk := min(left, h.pl-h.n, hashChunk)
		m, err := io.ReadFull(f, h.buf[h.n:h.n+chunk])
		if err != nil {
			return fmt.Errorf("storage: create: read %s: file changed while hashing: %w", f.Name(), err)
		}
		if h.v2 != nil {
			h.v2.write(h.buf[h.n : h.n+int64(m)])
		}
		h.n += int64(m)
		left -= int64(m)
		h.hashed += int64(m)
		if h.n == h.pl {
			h.finishPiece()
		}
		h.report()
	}
	if h.v2 != nil {
		h.v2.endFile()
	}
	return nil
}

// finishPiece appends the hash of the buffered piece.
func (h *hasher) finishPiece() {
	if h.v1 {
		sum := sha1.Sum(h.buf[:h.n])
		h.pieces = append(h.pieces, sum[:]...)
	}
	h.n = 0
}

// hashZeros feeds a BEP 47 padding file (zeros) into the v1 pieces.
func (h *hasher) hashZeros(length int64) {
	for left := length; left > 0; {
		chunk := min(left, h.pl-h.n)
		clear(h.buf[h.n : h.n+chunk])
		h.n += chunk
		left -= chunk
		if h.n == h.pl {
			h.finishPiece()
		}
	}
}

// report calls progress if the last call is at least progressEvery ago.
func (h *hasher) report() {
	if h.progress == nil {
		return
	}
	if now := time.Now(); now.Sub(h.last) >= progressEvery {
		h.last = now
		h.progress(h.hashed, h.total)
	}
}
