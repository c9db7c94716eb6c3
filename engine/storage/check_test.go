package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestCheckPartial(t *testing.T) {
	t.Parallel()
	// Pieces of 16 KiB over a (5000) empty b (40 KiB) c (1) d (16 KiB) e (12345).
	fx := multiFixture(t)
	s, dir := openFixture(t, fx)
	n := fx.layout.NumPieces
	for i := range n {
		if i == 1 || i == n-1 {
			continue // never written
		}
		if _, err := s.WriteAt(fx.piece(i), fx.layout.PieceOffset(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Corrupt one byte of piece 2 on disk.
	bad := make([]byte, 1)
	if _, err := s.ReadAt(bad, fx.layout.PieceOffset(2)+7); err != nil {
		t.Fatal(err)
	}
	bad[0] ^= 0xff
	if _, err := s.WriteAt(bad, fx.layout.PieceOffset(2)+7); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls [][2]int
	got, err := Check(context.Background(), s, 3, func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range got {
		want := i != 1 && i != 2 && i != n-1
		if ok != want {
			t.Errorf("piece %d: verified %v, want %v", i, ok, want)
		}
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{n, n} {
		t.Errorf("progress calls %v, want last {%d %d}", calls, n, n)
	}
	// Remove a file: every piece touching it is missing, the rest still verify.
	if err := os.Remove(filepath.Join(dir, "t", "dir", "sub", "d")); err != nil {
		t.Fatal(err)
	}
	got, err = Check(context.Background(), s, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := fx.layout.PiecesForFile(4)
	for i, ok := range got {
		want := i != 1 && i != 2 && i != n-1 && (i < first || i > last)
		if ok != want {
			t.Errorf("after removing d: piece %d verified %v, want %v", i, ok, want)
		}
	}
}

func TestCheckCancel(t *testing.T) {
	t.Parallel()
	fx := multiFixture(t)
	s, _ := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Check(ctx, s, 2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSymlinksNotFollowed(t *testing.T) {
	t.Parallel()
	fx := multiFixture(t)
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func(dir string) error
		open  bool // whether Open itself must fail
		off   int64
	}{
		{"folder link at name", func(dir string) error { return os.Symlink(outside, filepath.Join(dir, "t")) }, true, 0},
		{"folder link inside", func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(dir, "t", "dir"))
		}, true, 0},
		{"file link", func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
				return err
			}
			return os.Symlink(victim, filepath.Join(dir, "t", "a.bin"))
		}, false, 0},
		{"file link in place of empty file", func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
				return err
			}
			return os.Symlink(victim, filepath.Join(dir, "t", "empty"))
		}, true, 0},
	}
	for _, tc := range cases {
		dir := t.TempDir()
		if err := tc.setup(dir); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, fx.layout)
		if tc.open {
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%s: Open err = %v, want ErrUnsafePath", tc.name, err)
			}
		} else {
			if err != nil {
				t.Fatalf("%s: Open: %v", tc.name, err)
			}
			if _, err := s.WriteAt(fx.data[:100], tc.off); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%s: WriteAt err = %v, want ErrUnsafePath", tc.name, err)
			}
			if _, err := s.ReadAt(make([]byte, 4), tc.off); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%s: ReadAt err = %v, want ErrUnsafePath", tc.name, err)
			}
			_ = s.Close()
		}
		if b, _ := os.ReadFile(victim); string(b) != "keep" {
			t.Fatalf("%s: file outside the folder changed: %q", tc.name, b)
		}
		if ents, _ := os.ReadDir(outside); len(ents) != 1 {
			t.Fatalf("%s: files created outside the folder: %v", tc.name, ents)
		}
	}
}
