package engine

import (
	"io"
	"os"
	"path/filepath"
)

// writeWhole writes a file that appears whole or not at all: write fills
// a temporary file beside path, which is synced, given mode and renamed
// over path. A failure (a full disk, a crash) leaves path as it was and
// no temporary file behind. The error is the system's, for the caller to
// wrap.
func writeWhole(path string, mode os.FileMode, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".shoal-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeBytes is a writer function that writes b, for writeWhole.
func writeBytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}
