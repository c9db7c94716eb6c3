package storage

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// hashChunk is how much of a piece is read at once while hashing, so large
// pieces do not need a piece-sized buffer.
const hashChunk = 256 << 10

// progressEvery is the shortest interval between two progress calls.
const progressEvery = 100 * time.Millisecond

// piecesHashed counts the pieces read back from disk and hashed (checks
// and rechecks) by every Files in the process.
var piecesHashed atomic.Int64

// PiecesHashed reports how many pieces this process has read back from
// disk to hash (a check, a recheck after a crash): 0 after a start that
// trusted what it had recorded.
func PiecesHashed() int64 { return piecesHashed.Load() }

// HashPiece returns the SHA-1 of piece i as it is on disk. Missing or short
// files yield an error wrapping ErrNotPresent.
func (s *Files) HashPiece(i int) ([20]byte, error) {
	var sum [20]byte
	size := s.layout.PieceSize(i)
	if size == 0 {
		return sum, fmt.Errorf("storage: hash piece %d: %w", i, ErrOutOfRange)
	}
	piecesHashed.Add(1)
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	h := sha1.New()
	off := s.layout.PieceOffset(i)
	for done := int64(0); done < size; {
		b := (*bp)[:min(int64(len(*bp)), size-done)]
		if _, err := s.ReadAt(b, off+done); err != nil {
			return sum, fmt.Errorf("storage: hash piece %d: %w", i, err)
		}
		h.Write(b)
		done += int64(len(b))
	}
	h.Sum(sum[:0])
	return sum, nil
}

// VerifyPiece reports whether piece i on disk matches its hash. Data that
// is not on disk does not match; other read errors are returned.
func (s *Files) VerifyPiece(i int) (bool, error) {
	if s.layout.IsV2() {
		return s.verifyV2Piece(i)
	}
	sum, err := s.HashPiece(i)
	if errors.Is(err, ErrNotPresent) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sum == s.layout.Hashes[i], nil
}

// SyncPiece flushes to stable storage every file that holds bytes of piece
// i (creating, sparse, any that is missing). Call it before recording the
// piece as complete.
func (s *Files) SyncPiece(i int) error {
	first, last := s.layout.FilesForPiece(i)
	if last < first {
		return fmt.Errorf("storage: sync piece %d: %w", i, ErrOutOfRange)
	}
	for j := first; j <= last; j++ {
		if f := s.layout.Files[j]; f.Pad || f.Length == 0 {
			continue
		}
		if err := s.syncFile(j); err != nil {
			return fmt.Errorf("storage: sync piece %d: %w", i, err)
		}
	}
	return nil
}

// SyncPieces is SyncPiece for many pieces, flushing each file once however
// many of the pieces it holds.
func (s *Files) SyncPieces(pieces []int) error {
	files := make(map[int]bool)
	for _, i := range pieces {
		first, last := s.layout.FilesForPiece(i)
		if last < first {
			return fmt.Errorf("storage: sync piece %d: %w", i, ErrOutOfRange)
		}
		for j := first; j <= last; j++ {
			if f := s.layout.Files[j]; !f.Pad && f.Length > 0 {
				files[j] = true
			}
		}
	}
	for j := range files {
		if err := s.syncFile(j); err != nil {
			return fmt.Errorf("storage: sync %d pieces: %w", len(pieces), err)
		}
	}
	return nil
}

// syncFile fsyncs file j.
func (s *Files) syncFile(j int) error {
	h, err := s.acquire(j, true)
	if err != nil {
		return err
	}
	defer s.release(h)
	if err := h.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.layout.Files[j].Path, err)
	}
	return nil
}

// Check hashes every piece whose files are all on disk, using up to workers
// goroutines, and returns which pieces verify. Pieces touching a missing,
// short or non-regular file count as missing without being read.
// progress(done, total), if not nil, is called at most about ten times a
// second and once at the end; calls never overlap. ctx cancels the check.
func Check(ctx context.Context, f *Files, workers int, progress func(done, total int)) ([]bool, error) {
	l := f.layout
	present := f.presentFiles()
	ok := make([]bool, l.NumPieces)
	var done atomic.Int64
	rep := newReporter(progress)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			for i := range next {
				v, err := f.VerifyPiece(i)
				if err != nil {
					cancel(err)
					return
				}
				ok[i] = v
				rep.report(int(done.Add(1)), l.NumPieces)
			}
		})
	}
	feedPieces(ctx, l, present, next, func() { rep.report(int(done.Add(1)), l.NumPieces) })
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("storage: check: %w", err)
	}
	rep.final(l.NumPieces)
	return ok, nil
}

// feedPieces sends the index of every piece whose files are present to
// next, calls skipped for the others, and closes next.
func feedPieces(ctx context.Context, l *Layout, present []bool, next chan<- int, skipped func()) {
	defer close(next)
	for i := range l.NumPieces {
		if !piecePresent(l, present, i) {
			skipped()
			continue
		}
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

// piecePresent reports whether every file holding bytes of piece i is
// present.
func piecePresent(l *Layout, present []bool, i int) bool {
	first, last := l.FilesForPiece(i)
	for j := first; j <= last; j++ {
		if !present[j] {
			return false
		}
	}
	return true
}

// presentFiles reports for each file whether it is on disk at full length
// as a regular file (padding and empty files always are).
func (s *Files) presentFiles() []bool {
	present := make([]bool, len(s.layout.Files))
	root, err := s.openRoot()
	if err != nil {
		return present
	}
	defer root.Close()
	for j, f := range s.layout.Files {
		if f.Pad || f.Length == 0 {
			present[j] = true
			continue
		}
		if checkDirs(root, f.Path, false) != nil {
			continue
		}
		fi, err := lstatRegular(root, f.Path)
		present[j] = err == nil && fi.Size() >= f.Length
	}
	return present
}

// reporter rate-limits progress callbacks and keeps them from overlapping.
type reporter struct {
	fn   func(done, total int)
	mu   sync.Mutex
	last time.Time
}

func newReporter(fn func(done, total int)) *reporter { return &reporter{fn: fn} }

// report calls fn if the last call is at least progressEvery ago.
func (r *reporter) report(done, total int) {
	if r.fn == nil || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.last) >= progressEvery {
		r.last = now
		r.fn(done, total)
	}
}

// final reports completion unconditionally.
func (r *reporter) final(total int) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(total, total)
}

// verifyV2Piece reads piece i whole and checks its Merkle hash.
func (s *Files) verifyV2Piece(i int) (bool, error) {
	size := s.layout.PieceSize(i)
	if size == 0 {
		return false, fmt.Errorf("storage: verify piece %d: %w", i, ErrOutOfRange)
	}
	// A recheck asks for every piece of a new download: look at its
	// first bytes before taking a whole piece's buffer (allocating and
	// clearing one per absent piece cost a v2 download of 512 MiB as much
	// CPU as hashing it).
	probe := s.bufs.Get().(*[]byte)
	_, err := s.ReadAt((*probe)[:min(int64(len(*probe)), size)], s.layout.PieceOffset(i))
	s.bufs.Put(probe)
	if errors.Is(err, ErrNotPresent) {
		return false, nil
	}
	piecesHashed.Add(1)
	bp := s.pieces.Get().(*[]byte)
	defer s.pieces.Put(bp)
	buf := (*bp)[:size]
	_, err = s.ReadAt(buf, s.layout.PieceOffset(i))
	if errors.Is(err, ErrNotPresent) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: verify piece %d: %w", i, err)
	}
	return s.layout.CheckPiece(i, buf), nil
}
