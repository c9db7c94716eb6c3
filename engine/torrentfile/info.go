package torrentfile

import (
	"fmt"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// ParseInfo decodes an info dictionary (from a .torrent file or from peers,
// BEP 9) into anacrolix's metainfo.Info, refusing with ErrBadTorrent and a
// named reason only what cannot be used; an optional key of the wrong type
// reads as absent. Paths are left raw: the storage layout sanitizes them.
func ParseInfo(b []byte) (*metainfo.Info, error) {
	d, err := decodeDict(b)
	if err != nil {
		return nil, fmt.Errorf("%w: info dictionary: bencode: %w", ErrBadTorrent, err)
	}
	info := &metainfo.Info{}
	var ok bool
	if info.PieceLength, ok = d.int("piece length"); !ok || info.PieceLength <= 0 {
		return nil, fmt.Errorf("%w: missing or bad piece length", ErrBadTorrent)
	}
	name, okName := d.str("name")
	nameUtf8, okUtf8 := d.str("name.utf-8")
	if !okName && !okUtf8 {
		return nil, fmt.Errorf("%w: missing name", ErrBadTorrent)
	}
	info.Name, info.NameUtf8 = name, nameUtf8
	if pieces, ok := d.str("pieces"); ok {
		info.Pieces = []byte(pieces)
	}
	if p, _ := d.int("private"); p != 0 {
		private := true
		info.Private = &private
	}
	if err := setV2(info, d); err != nil {
		return nil, err
	}
	_, pieces := d["pieces"]
	_, files := d["files"]
	_, length := d["length"]
	if info.HasV2() && !pieces && !files && !length {
		return info, nil // v2 only: the file tree describes the files
	}
	if err := setFiles(info, d); err != nil {
		return nil, err
	}
	return info, nil
}

// MaxFiles is the most files accepted in one torrent (storage.MaxFiles
// is the same limit where the layout is built).
const MaxFiles = 100_000

// setFiles fills the v1 single-file length or files list.
func setFiles(info *metainfo.Info, d dict) error {
	files, isMulti := d.list("files")
	length, isSingle := d.int("length")
	switch {
	case isMulti && isSingle:
		return fmt.Errorf("%w: both length and files present", ErrBadTorrent)
	case isSingle && length <= 0:
		return fmt.Errorf("%w: no data (length %d)", ErrBadTorrent, length)
	case isSingle:
		info.Length = length
		return nil
	case !isMulti:
		return fmt.Errorf("%w: no files (no length and no files list)", ErrBadTorrent)
	case len(files) == 0:
		return fmt.Errorf("%w: no files (empty files list)", ErrBadTorrent)
	case len(files) > MaxFiles: // before any per-file work
		return fmt.Errorf("%w: %d files (limit %d)", ErrBadTorrent, len(files), MaxFiles)
	}
	info.Files = make([]metainfo.FileInfo, len(files))
	for i, raw := range files {
		fi, err := fileInfo(raw)
		if err != nil {
			return fmt.Errorf("%w: file %d: %w", ErrBadTorrent, i, err)
		}
		info.Files[i] = fi
	}
	return nil
}

// fileInfo checks one files entry: a length is required, and a path unless
// it is a padding file (libtorrent names those .pad/N).
func fileInfo(raw []byte) (metainfo.FileInfo, error) {
	f, ok := asDict(raw)
	if !ok {
		return metainfo.FileInfo{}, fmt.Errorf("not a dictionary")
	}
	length, ok := f.int("length")
	if !ok {
		return metainfo.FileInfo{}, fmt.Errorf("missing length")
	}
	if length < 0 {
		return metainfo.FileInfo{}, fmt.Errorf("negative length %d", length)
	}
	attr, _ := f.str("attr")
	path, okPath := f.strings("path")
	pathUtf8, _ := f.strings("path.utf-8")
	if !okPath && !strings.Contains(attr, "p") {
		return metainfo.FileInfo{}, fmt.Errorf("missing path")
	}
	fi := metainfo.FileInfo{Length: length, Path: path, PathUtf8: pathUtf8}
	fi.Attr = attr
	if fi.Path == nil {
		fi.Path = []string{}
	}
	return fi, nil
}
