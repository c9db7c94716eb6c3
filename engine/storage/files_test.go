package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

// fixture is a layout whose piece hashes describe data.
type fixture struct {
	layout *Layout
	data   []byte
}

// newFixture builds a layout over files with random content and real
// piece hashes.
func newFixture(t testing.TB, pl int64, seed uint64, files ...metainfo.FileInfo) fixture {
	t.Helper()
	info := &metainfo.Info{Name: "t", PieceLength: pl, Files: files}
	if len(files) == 1 && files[0].Path == nil {
		info = &metainfo.Info{Name: "t", PieceLength: pl, Length: files[0].Length}
	}
	data := make([]byte, info.TotalLength())
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for off := int64(0); off < int64(len(data)); off += pl {
		sum := sha1.Sum(data[off:min(off+pl, int64(len(data)))])
		info.Pieces = append(info.Pieces, sum[:]...)
	}
	l, err := NewLayout(info)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{l, data}
}

// piece returns the fixture data of piece i.
func (fx fixture) piece(i int) []byte {
	off := fx.layout.PieceOffset(i)
	return fx.data[off : off+fx.layout.PieceSize(i)]
}

// multiFixture has files crossing piece boundaries, a zero-length file and
// files smaller than a piece.
func multiFixture(t testing.TB) fixture {
	return newFixture(t, 16*kib, 1,
		fi(5000, "a.bin"), fi(0, "empty"), fi(40*kib, "dir", "b.bin"), fi(1, "dir", "c"),
		fi(16*kib, "dir", "sub", "d"), fi(12345, "e"))
}

func openFixture(t *testing.T, fx fixture) (*Files, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, fx.layout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// checkStored verifies and syncs every piece, then checks each stored file
// on disk holds exactly its slice of the byte space.
func checkStored(t *testing.T, s *Files, dir string, fx fixture) {
	t.Helper()
	for i := range fx.layout.NumPieces {
		if ok, err := s.VerifyPiece(i); !ok || err != nil {
			t.Fatalf("VerifyPiece(%d) = %v, %v", i, ok, err)
		}
		if err := s.SyncPiece(i); err != nil {
			t.Fatalf("SyncPiece(%d): %v", i, err)
		}
	}
	for _, f := range fx.layout.Files {
		if f.Pad {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || !bytes.Equal(got, fx.data[f.Offset:f.Offset+f.Length]) {
			t.Fatalf("%s: content differs (err %v, %d bytes)", f.Path, err, len(got))
		}
	}
}

func TestFilesRoundTrip(t *testing.T) {
	t.Parallel()
	fx := multiFixture(t)
	s, dir := openFixture(t, fx)
	if fi, err := os.Lstat(filepath.Join(dir, "t", "empty")); err != nil || fi.Size() != 0 {
		t.Fatalf("zero-length file not created: %v", err)
	}
	// Write all pieces concurrently in random order.
	order := rand.Perm(fx.layout.NumPieces)
	var wg sync.WaitGroup
	for _, i := range order {
		wg.Go(func() {
			if n, err := s.WriteAt(fx.piece(i), fx.layout.PieceOffset(i)); err != nil || n != len(fx.piece(i)) {
				t.Errorf("WriteAt piece %d: n=%d err=%v", i, n, err)
			}
		})
	}
	wg.Wait()
	checkStored(t, s, dir, fx)
	// Random reads across boundaries return the same bytes.
	for range 200 {
		off := rand.Int64N(int64(len(fx.data)))
		n := rand.Int64N(int64(len(fx.data))-off) + 1
		buf := make([]byte, n)
		if m, err := s.ReadAt(buf, off); err != nil || int64(m) != n || !bytes.Equal(buf, fx.data[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", off, n, m, err)
		}
	}
}

func TestFilesErrors(t *testing.T) {
	t.Parallel()
	fx := multiFixture(t)
	s, _ := openFixture(t, fx)
	buf := make([]byte, 10)
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"read missing", func() error { _, err := s.ReadAt(buf, 0); return err }, ErrNotPresent},
		{"read past end", func() error { _, err := s.ReadAt(buf, fx.layout.TotalLength-5); return err }, ErrOutOfRange},
		{"write negative", func() error { _, err := s.WriteAt(buf, -1); return err }, ErrOutOfRange},
		{"hash out of range", func() error { _, err := s.HashPiece(fx.layout.NumPieces); return err }, ErrOutOfRange},
		{"sync out of range", func() error { return s.SyncPiece(-1) }, ErrOutOfRange},
		{"hash missing", func() error { _, err := s.HashPiece(0); return err }, ErrNotPresent},
	}
	for _, tc := range cases {
		if err := tc.op(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if ok, err := s.VerifyPiece(0); ok || err != nil {
		t.Errorf("VerifyPiece on missing data = %v, %v; want false, nil", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteAt(buf, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteAt after Close: %v, want ErrClosed", err)
	}
}

func TestFilesSparseAndShort(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 16*kib, 2, fi(100*kib, "big"), fi(50, "small"))
	s, dir := openFixture(t, fx)
	if _, err := s.WriteAt(fx.piece(0), 0); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "t", "big")
	if fi, err := os.Stat(big); err != nil || fi.Size() != 100*kib {
		t.Fatalf("big not extended to full length: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "small")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("small created before any write: %v", err)
	}
	// A truncated file reads as not present.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 20*kib); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, fx.layout)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.ReadAt(make([]byte, 10*kib), 15*kib); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("read past short file: %v, want ErrNotPresent", err)
	}
	if ok, err := s2.VerifyPiece(0); !ok || err != nil {
		t.Fatalf("piece 0 should still verify: %v %v", ok, err)
	}
}

func TestFilesPadding(t *testing.T) {
	t.Parallel()
	pad := fi(16*kib-100, ".pad", "x")
	pad.Attr = "p"
	fx := newFixture(t, 16*kib, 3, fi(100, "a"), pad, fi(16*kib, "b"))
	copy(fx.data[100:16*kib], make([]byte, 16*kib-100)) // padding is zeros
	sum := sha1.Sum(fx.data[:16*kib])
	fx.layout.Hashes[0] = sum
	s, dir := openFixture(t, fx)
	if _, err := s.WriteAt(fx.data, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "t", ".pad")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("padding stored on disk: %v", err)
	}
	for i := range fx.layout.NumPieces {
		if ok, err := s.VerifyPiece(i); !ok || err != nil {
			t.Fatalf("VerifyPiece(%d) = %v, %v", i, ok, err)
		}
	}
}

func TestFilesManyHandles(t *testing.T) {
	t.Parallel()
	var files []metainfo.FileInfo
	for i := range 3 * maxOpenFiles {
		files = append(files, fi(int64(1000+i), "d", string(rune('a'+i%26)), string(rune('a'+i/26))))
	}
	fx := newFixture(t, 16*kib, 4, files...)
	s, _ := openFixture(t, fx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < fx.layout.NumPieces; i += 4 {
				if _, err := s.WriteAt(fx.piece(i), fx.layout.PieceOffset(i)); err != nil {
					t.Errorf("WriteAt: %v", err)
				}
			}
		})
	}
	wg.Wait()
	s.c.mu.Lock()
	open := len(s.open)
	s.c.mu.Unlock()
	if open > maxOpenFiles {
		t.Errorf("%d handles open, limit %d", open, maxOpenFiles)
	}
	got, err := Check(context.Background(), s, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range got {
		if !ok {
			t.Fatalf("piece %d does not verify", i)
		}
	}
}

// TestPiecesHashedCounts: every piece read back from disk to be hashed
// counts in PiecesHashed (the idle-library bench shows it, to prove a
// start rehashed nothing). Other tests may hash at the same time: the
// count grows by at least the pieces verified here.
func TestPiecesHashedCounts(t *testing.T) {
	fx := multiFixture(t)
	s, _ := openFixture(t, fx)
	for i := range fx.layout.NumPieces {
		if _, err := s.WriteAt(fx.piece(i), fx.layout.PieceOffset(i)); err != nil {
			t.Fatal(err)
		}
	}
	before := PiecesHashed()
	for i := range fx.layout.NumPieces {
		if ok, err := s.VerifyPiece(i); !ok || err != nil {
			t.Fatalf("VerifyPiece(%d) = %v, %v", i, ok, err)
		}
	}
	if got := PiecesHashed() - before; got < int64(fx.layout.NumPieces) {
		t.Fatalf("PiecesHashed grew by %d over %d verified pieces", got, fx.layout.NumPieces)
	}
}
