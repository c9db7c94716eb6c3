package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/shoalp2p/shoal/engine/storage"
)

// ErrNotFinished is returned by Move for a download that is not complete.
var ErrNotFinished = errors.New("engine: the download is not finished")

// ErrExists is returned by Move when the destination folder already holds
// a file or folder of the transfer's name.
var ErrExists = errors.New("engine: the destination already holds a file of that name")

// Move moves a finished download's files into dir and seeds them from
// there: its swarm stops, the files move (a rename, or a copy then delete
// across file systems), the new folder is saved, and a new swarm starts
// on it with every piece, without hashing again. A failed move puts back
// what it moved and seeds from the old folder. Shared items (Library) stay
// where the user keeps them: ErrNotFound for them, as for an unknown
// infohash.
func (e *Engine) Move(ih InfoHash, dir string) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	if t.library {
		return fmt.Errorf("%w: %s is a shared item, not a download", ErrNotFound, ih)
	}
	dst, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("engine: move: %w", err)
	}
	t.ops.Lock() // a Remove under way finishes first (see transfer.ops)
	defer t.ops.Unlock()
	if t.isRemoved() {
		return fmt.Errorf("%w: %s", ErrNotFound, ih)
	}
	t.mu.Lock()
	sw, old := t.sw, t.dir
	t.mu.Unlock()
	info, raw := sw.Info()
	if info == nil {
		return ErrNoMetadata
	}
	if !sw.Complete() {
		return ErrNotFinished
	}
	if filepath.Clean(old) == dst {
		return nil
	}
	l, err := storage.NewLayout(info)
	if err != nil || l.Name == "" || strings.ContainsAny(l.Name, "/\\") {
		return fmt.Errorf("engine: move: no file name to move: %v", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("engine: move: %w", err)
	}
	to := filepath.Join(dst, l.Name)
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, to)
	}
	e.stopSwarm(t)
	moveErr := moveTree(filepath.Join(old, l.Name), to)
	if moveErr == nil {
		moveErr = e.saveDir(t, dst)
		if moveErr != nil {
			moveErr = errors.Join(moveErr, moveTree(to, filepath.Join(old, l.Name)))
		}
	}
	if moveErr == nil {
		t.mu.Lock()
		t.dir = dst
		t.mu.Unlock()
	}
	if err := e.restartSwarm(t, raw, info.NumPieces()); err != nil {
		return errors.Join(moveErr, err)
	}
	if moveErr != nil {
		return fmt.Errorf("engine: move to %s: %w", dst, moveErr)
	}
	e.setMoveFailure(t, moveFailure{})
	return nil
}

// stopSwarm stops t's swarm and waits until it has.
func (e *Engine) stopSwarm(t *transfer) {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.cancel, t.done = nil, nil
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// restartSwarm gives t a new swarm on its folder, with every piece (only
// a finished download moves), and starts it unless paused or queued.
func (e *Engine) restartSwarm(t *transfer, info []byte, pieces int) error {
	have := make([]bool, pieces)
	for i := range have {
		have[i] = true
	}
	sw, err := e.newSwarm(t, info, have)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.sw, t.view = sw, nil
	t.mu.Unlock()
	e.launch(t)
	return nil
}

// saveDir records t's new folder in the database and its resume file.
func (e *Engine) saveDir(t *transfer, dir string) error {
	ctx := context.Background()
	row, err := e.db.Transfer(ctx, t.ih)
	if err != nil {
		return err
	}
	row.Dir = dir
	if err := e.db.PutTransfer(ctx, row); err != nil {
		return err
	}
	e.saveResume(t.ih, transferResume(row))
	return nil
}

// moveTree moves the file or folder from to to: a rename, or across file
// systems a copy, then the original removed. A failed copy removes what
// it made and leaves from as it was.
func moveTree(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := copyTree(from, to); err != nil {
		os.RemoveAll(to)
		return err
	}
	return os.RemoveAll(from)
}

// copyTree copies the file or folder from to to (regular files and
// folders; anything else is an error).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return fmt.Errorf("%s: not a regular file", p)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// moveWhenDone moves a download that has just finished into
// Settings.MoveCompletedTo, when that is set, as Move does, on a goroutine
// of its own (Move stops and restarts the swarm, which the caller may be
// serving). Nothing moves once the engine is stopping.
func (e *Engine) moveWhenDone(t *transfer) {
	e.mu.Lock()
	dir, ctx := e.settings.MoveCompletedTo, e.runCtx
	e.mu.Unlock()
	if dir == "" || t.library || ctx == nil || ctx.Err() != nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := e.Move(t.ih, dir)
		if err == nil || errors.Is(err, ErrNotFound) { // ErrNotFound: removed meanwhile
			return
		}
		e.log.Warn("move finished download", "infohash", t.ih.String(), "to", dir, "err", err)
		// The snapshot carries the failure to the user (the UI words it);
		// the download seeds on from where it is.
		e.setMoveFailure(t, moveFailure{err: err.Error(), to: dir})
	}()
}

// moveFailure is why and where to an automatic move failed
// (TransferSnapshot.MoveErr and MoveTo).
type moveFailure struct{ err, to string }

// moveFailures maps transfers to their failed automatic move. Its lock
// guards only the map and is never held across a call.
type moveFailures struct {
	mu sync.Mutex
	m  map[InfoHash]moveFailure
}

func (m *moveFailures) get(ih InfoHash) moveFailure {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[ih]
}

// set records f for ih (the zero f clears it) and reports whether that
// changed anything.
func (m *moveFailures) set(ih InfoHash, f moveFailure) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[ih] == f {
		return false
	}
	if f == (moveFailure{}) {
		delete(m.m, ih)
		return true
	}
	if m.m == nil {
		m.m = map[InfoHash]moveFailure{}
	}
	m.m[ih] = f
	return true
}

// setMoveFailure records t's failed move (or clears it), in SQLite too so
// that it still shows after a restart (loadMoveFailures), and drops t's
// kept snapshot row, so the next snapshot shows the change.
func (e *Engine) setMoveFailure(t *transfer, f moveFailure) {
	if !e.moveFails.set(t.ih, f) {
		return
	}
	if err := e.db.SetMoveFailure(context.Background(), t.ih, f.err, f.to); err != nil {
		e.log.Warn("move failure not saved", "infohash", t.ih.String(), "err", err)
	}
	t.mu.Lock()
	t.view = nil
	t.mu.Unlock()
	e.act.add(t)
}

// loadMoveFailures reads the failed automatic moves saved in SQLite, so a
// download that could not move still says so after a restart.
func (e *Engine) loadMoveFailures(ctx context.Context) error {
	fs, err := e.db.MoveFailures(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	for _, f := range fs {
		e.moveFails.set(f.InfoHash, moveFailure{err: f.Err, to: f.To})
	}
	return nil
}
