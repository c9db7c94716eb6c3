package bench

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// WriteContent writes size pseudo-random bytes to path, making its
// folder: ChaCha8, fast to make and incompressible, so no link or disk
// can shortcut it.
func WriteContent(path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rand.Uint32())
	}
	if _, err := io.CopyN(f, rand.NewChaCha8(seed), size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SHA1File is the SHA-1 of the file at path.
func SHA1File(path string) ([sha1.Size]byte, error) {
	var sum [sha1.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// CheckCopy checks a leecher's copy at path against the content's SHA-1:
// a row counts only transfers that delivered every byte right.
func CheckCopy(path string, want [sha1.Size]byte) error {
	got, err := SHA1File(path)
	if err != nil {
		return fmt.Errorf("leecher's copy: %w", err)
	}
	if got != want {
		return errors.New("a leecher's copy differs from the content")
	}
	return nil
}
