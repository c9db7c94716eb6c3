package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/anacrolix/torrent/metainfo"
)

// ErrContentChanged reports files on disk whose bytes no longer match the
// torrent's SHA-1 pieces: their pieces roots would name other content.
var ErrContentChanged = errors.New("storage: the files differ from their torrent")

// FileRoots works out the BEP 52 pieces roots of a v1 torrent's files as
// they are stored below dir (the download folder, holding the layout's
// paths), for an item that was shared or downloaded before Shoal kept
// roots. It reads every file once, hashing SHA-256 trees on a second
// goroutine (v2Pipe) while it checks the SHA-1 pieces on this one, and
// returns the roots only if every piece matches the torrent, wrapping
// ErrContentChanged otherwise: roots of changed files would send a search
// to other content. The roots are those of non-empty files in order, as
// CreateShare returns them. progress is called as by Create, and may
// sleep to pace the reading; ctx cancels.
func FileRoots(ctx context.Context, dir string, info *metainfo.Info, progress func(hashed, total int64)) ([][32]byte, error) {
	v, err := hashStored(ctx, dir, info, rootsPieceLength, progress)
	if err != nil {
		return nil, err
	}
	return v.roots(), nil
}

// StoredLayers works out a hybrid torrent's BEP 52 piece layers (as in a
// .torrent file's "piece layers": pieces root -> concatenated hashes) from
// its files stored below dir, as FileRoots reads them: for a hybrid
// fetched over v1 from a magnet link, whose layers no peer sent. Every
// SHA-1 piece and every file's pieces root must match the torrent, else
// the error wraps ErrContentChanged.
func StoredLayers(ctx context.Context, dir string, info *metainfo.Info, progress func(hashed, total int64)) (map[string]string, error) {
	if !info.HasV2() || len(info.Pieces) == 0 {
		return nil, fmt.Errorf("storage: piece layers: %w: not a hybrid torrent", ErrBadInfo)
	}
	v, err := hashStored(ctx, dir, info, info.PieceLength, progress)
	if err != nil {
		return nil, err
	}
	var want [][32]byte
	for fi := range info.UpvertedFilesIter() {
		if fi.Length > 0 && fi.PiecesRoot.Ok {
			want = append(want, fi.PiecesRoot.Value)
		}
	}
	if !slices.Equal(v.roots(), want) {
		return nil, fmt.Errorf("storage: piece layers of %s: %w (pieces roots)", info.BestName(), ErrContentChanged)
	}
	return v.layers, nil
}

// hashStored reads a torrent's stored files once, checking its SHA-1
// pieces and building each file's Merkle tree at piece length pl.
func hashStored(ctx context.Context, dir string, info *metainfo.Info, pl int64, progress func(hashed, total int64)) (*v2Hasher, error) {
	l, err := NewLayout(info)
	if err != nil {
		return nil, fmt.Errorf("storage: roots: %w", err)
	}
	if l.PieceLength > MaxPieceLength || len(l.Hashes) == 0 {
		return nil, fmt.Errorf("storage: roots: %w: piece length %d, %d v1 pieces", ErrBadInfo, l.PieceLength, len(l.Hashes))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: roots: %w", err)
	}
	src := &source{root: root}
	defer src.close()
	h := &hasher{ctx: ctx, pl: l.PieceLength, buf: make([]byte, l.PieceLength), progress: progress, v1: true,
		v2: startV2Pipe(newV2Hasher(pl))}
	defer h.v2.wait()
	for _, f := range l.Files {
		if !f.Pad {
			h.total += f.Length
		}
	}
	if err := h.hashLayout(src, l); err != nil {
		return nil, err
	}
	if !bytes.Equal(h.pieces, info.Pieces) {
		return nil, fmt.Errorf("storage: roots of %s: %w", l.Name, ErrContentChanged)
	}
	return h.v2.wait(), nil
}

// hashLayout feeds a layout's files, as stored, into h's pieces.
func (h *hasher) hashLayout(src *source, l *Layout) error {
	for _, f := range l.Files {
		switch {
		case f.Pad:
			h.hashZeros(f.Length)
		case f.Length > 0: // an empty file has no root and no bytes
			if err := h.hashFile(src, []string{f.Path}, f.Length); err != nil {
				return err
			}
		}
	}
	if h.n > 0 {
		h.finishPiece()
	}
	if h.progress != nil {
		h.progress(h.hashed, h.total)
	}
	return nil
}
