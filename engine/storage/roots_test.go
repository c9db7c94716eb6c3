package storage

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// hybridRoots returns the pieces roots in a hybrid torrent of src.
func hybridRoots(t *testing.T, src string) [][32]byte {
	t.Helper()
	hyb, err := CreateInfo(context.Background(), src, CreateOptions{PieceLength: 32 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want [][32]byte
	for fi := range hyb.UpvertedFilesIter() {
		if fi.PiecesRoot.Ok {
			want = append(want, fi.PiecesRoot.Value)
		}
	}
	return want
}

// TestFileRoots: the roots FileRoots works out for a v1 torrent's stored
// files (a folder with an empty file, a single file, and a hybrid read as
// v1, with its pad files) are those of a hybrid of the same files; a
// changed byte is refused with ErrContentChanged, a missing file with
// fs.ErrNotExist.
func TestFileRoots(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	folder := filepath.Join(dir, "f")
	writeTree(t, folder, map[string]int{"empty": 0, "a": 1, "b": 16<<10 + 1, "d/e": 1<<20 + 5, "d/f": 700 << 10})
	single := filepath.Join(folder, "d", "e")
	for _, c := range []struct {
		src    string
		format Format
	}{{folder, V1Only}, {single, V1Only}, {folder, Hybrid}} {
		info, err := CreateInfo(context.Background(), c.src, CreateOptions{PieceLength: 48 << 10, Format: c.format}, nil)
		if c.format == Hybrid {
			info, err = CreateInfo(context.Background(), c.src, CreateOptions{PieceLength: 64 << 10}, nil)
			info.MetaVersion, info.FileTree = 0, metainfo.FileTree{} // read as v1 alone
		}
		if err != nil {
			t.Fatal(err)
		}
		roots, err := FileRoots(context.Background(), filepath.Dir(c.src), info, nil)
		if want := hybridRoots(t, c.src); err != nil || len(want) == 0 || !slices.Equal(roots, want) {
			t.Errorf("%s (format %d): roots %x, %v; want %x", c.src, c.format, roots, err, want)
		}
	}
	info, err := CreateInfo(context.Background(), folder, CreateOptions{Format: V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(folder, "d", "f"))
	b[500<<10] ^= 1
	if err := os.WriteFile(filepath.Join(folder, "d", "f"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if roots, err := FileRoots(context.Background(), dir, info, nil); !errors.Is(err, ErrContentChanged) {
		t.Errorf("changed file: roots %x, err %v; want ErrContentChanged", roots, err)
	}
	if err := os.Remove(filepath.Join(folder, "a")); err != nil {
		t.Fatal(err)
	}
	if roots, err := FileRoots(context.Background(), dir, info, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: roots %x, err %v; want fs.ErrNotExist", roots, err)
	}
}

// TestStoredLayers: the piece layers worked out from a hybrid's stored
// files are the ones Create made; a v1 torrent is refused with
// ErrBadInfo, a changed byte with ErrContentChanged.
func TestStoredLayers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	folder := filepath.Join(dir, "h")
	writeTree(t, folder, map[string]int{"empty": 0, "small": 5 << 10, "big": 300<<10 + 7, "d/big2": 200 << 10})
	made, err := CreateShare(context.Background(), folder, CreateOptions{PieceLength: 32 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := StoredLayers(context.Background(), dir, made.Info, nil)
	if err != nil || len(layers) != 2 || !maps.Equal(layers, made.Layers) {
		t.Fatalf("layers: %d, %v; want Create's %d", len(layers), err, len(made.Layers))
	}
	v1, err := CreateInfo(context.Background(), folder, CreateOptions{Format: V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StoredLayers(context.Background(), dir, v1, nil); !errors.Is(err, ErrBadInfo) {
		t.Errorf("v1 torrent: %v, want ErrBadInfo", err)
	}
	b, _ := os.ReadFile(filepath.Join(folder, "big"))
	b[100<<10] ^= 1
	if err := os.WriteFile(filepath.Join(folder, "big"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := StoredLayers(context.Background(), dir, made.Info, nil); !errors.Is(err, ErrContentChanged) {
		t.Errorf("changed byte: %v, want ErrContentChanged", err)
	}
}
