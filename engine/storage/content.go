package storage

import (
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// A torrent's content is its files without the BEP 47 padding files that
// align hybrid (and some v1) torrents' files to pieces, and without the
// gaps between a v2 torrent's files: padding is never stored and always
// zeros, so sizes, progress and file lists shown to people count content
// only, as qBittorrent does. A hybrid of small files can be several times
// its content's size in its piece space.

// IsPadFile reports whether a v1 files-list entry is a padding file: BEP
// 47's attr "p", or BitComet's "_____padding_file_" name.
func IsPadFile(fi *metainfo.FileInfo) bool {
	if strings.Contains(fi.Attr, "p") {
		return true
	}
	path := fi.BestPath()
	return len(path) > 0 && strings.Contains(path[len(path)-1], "_____padding_file_")
}

// ContentLength is the bytes of info's files, padding left out.
func ContentLength(info *metainfo.Info) int64 {
	if len(info.Files) == 0 {
		return info.TotalLength() // one file, or a v2-only file tree
	}
	var n int64
	for i := range info.Files {
		if !IsPadFile(&info.Files[i]) {
			n += info.Files[i].Length
		}
	}
	return n
}

// ContentFiles is the number of info's files, padding left out (1 for a
// single-file torrent).
func ContentFiles(info *metainfo.Info) int {
	if len(info.Files) == 0 {
		n := 0
		for range info.UpvertedFilesIter() {
			n++
		}
		return max(1, n)
	}
	n := 0
	for i := range info.Files {
		if !IsPadFile(&info.Files[i]) {
			n++
		}
	}
	return max(1, n)
}

// piecePad is the padding bytes in one piece.
type piecePad struct {
	piece int
	bytes int64
}

// setContent works out l's ContentLength and the padding in each piece
// from its files.
func (l *Layout) setContent() {
	l.ContentLength, l.ContentFiles = 0, 0
	l.pads = nil
	for _, f := range l.Files {
		if !f.Pad {
			l.ContentLength += f.Length
			l.ContentFiles++
			continue
		}
		for off, end := f.Offset, f.Offset+f.Length; off < end; {
			piece := int(off / l.PieceLength)
			next := min(end, int64(piece+1)*l.PieceLength)
			if n := len(l.pads); n > 0 && l.pads[n-1].piece == piece {
				l.pads[n-1].bytes += next - off
			} else {
				l.pads = append(l.pads, piecePad{piece, next - off})
			}
			off = next
		}
	}
}

// ContentBytes is the content bytes (padding left out) of the pieces for
// which in is true, given their full size in all: what Σ PieceSize over
// those pieces less their padding comes to.
func (l *Layout) ContentBytes(all int64, in func(piece int) bool) int64 {
	for _, p := range l.pads {
		if in(p.piece) {
			all -= p.bytes
		}
	}
	return all
}
