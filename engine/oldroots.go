package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
)

// Pieces roots for older items. A v1 library item shared before Shoal
// kept its files' BEP 52 pieces roots (migration 0006), and a v1 download
// once finished, have none of their own, so search cannot match them with
// the same files in v2 and hybrid torrents. rootsLoop works them out in
// the background: it starts RootsDelay after Run (never holding up the
// start), takes one item at a time, reads at most rootsRate bytes a
// second, and records each item's roots as soon as it has them
// (state.SetLibraryRoots, SetTransferRoots), so a restart goes on with
// the items still to do. It looks again whenever a download finishes.
// The roots are kept only if the files still match the torrent's SHA-1
// pieces (storage.FileRoots). A finished hybrid from a magnet link gets
// its piece layers the same way (keepHybridLayers).

// defaultRootsDelay is Config.RootsDelay's zero value.
const defaultRootsDelay = time.Minute

// rootsRate caps the bytes a second read for older items' roots.
const rootsRate = 32 << 20

// kickRoots has rootsLoop look for items without roots again.
func (e *Engine) kickRoots() {
	select {
	case e.rootsKick <- struct{}{}:
	default:
	}
}

// rootsLoop works out older items' pieces roots (see above).
func (e *Engine) rootsLoop(ctx context.Context) error {
	delay := e.cfg.RootsDelay
	if delay < 0 {
		return nil
	}
	if delay == 0 {
		delay = defaultRootsDelay
	}
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(delay):
	}
	for {
		e.findLibraryRoots(ctx)
		e.findFinishedRoots(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-e.rootsKick:
		}
	}
}

// findLibraryRoots works out the roots of every library item without.
func (e *Engine) findLibraryRoots(ctx context.Context) {
	ihs, err := e.db.LibraryWithoutRoots(ctx)
	if err != nil {
		e.log.Warn("library items without pieces roots", "err", err)
		return
	}
	for _, ih := range ihs {
		row, err := e.db.LibraryItem(ctx, ih)
		if err != nil {
			continue // removed meanwhile
		}
		roots, ok := e.itemRoots(ctx, row.Name, filepath.Dir(row.Path), row.Info)
		if !ok {
			continue
		}
		if err := e.db.SetLibraryRoots(ctx, ih, roots); err != nil {
			continue
		}
		row.Roots = roots
		e.saveResume(ih, libraryResume(row))
		e.giveRoots(ih, roots)
	}
}

// findFinishedRoots works out the roots of every finished download
// without.
func (e *Engine) findFinishedRoots(ctx context.Context) {
	ihs, err := e.db.FinishedWithoutRoots(ctx)
	if err != nil {
		e.log.Warn("finished downloads without pieces roots", "err", err)
		return
	}
	for _, ih := range ihs {
		row, err := e.db.Transfer(ctx, ih)
		if err != nil {
			continue
		}
		roots, ok := e.itemRoots(ctx, row.Name, row.Dir, row.Info)
		if ok {
			ok = e.keepHybridLayers(ctx, ih, row)
		}
		if ok && e.db.SetTransferRoots(ctx, ih, roots) == nil {
			e.giveRoots(ih, roots)
		}
	}
}

// itemRoots returns the pieces roots of a torrent stored below dir: its
// own for a v2 or hybrid torrent, else read from its files at rootsRate.
// ok is false when they should be looked for again later (the files are
// missing or unreadable now, or the engine stops); nil roots with ok mean
// none are to be had (the files changed, or a torrent Shoal cannot lay
// out), and are not looked for again.
func (e *Engine) itemRoots(ctx context.Context, name, dir string, infoBytes []byte) ([][32]byte, bool) {
	info, err := swarm.ParseInfo(infoBytes)
	if err != nil {
		e.log.Info("pieces roots: torrent not readable", "name", name, "err", err)
		return nil, true
	}
	if info.HasV2() {
		_, roots := v2Hashes(info, infoBytes)
		return roots, true
	}
	roots, err := storage.FileRoots(ctx, dir, info, pace(ctx, rootsRate))
	switch {
	case err == nil:
		return roots[:min(len(roots), maxRootsPerEntry)], true
	case errors.Is(err, storage.ErrContentChanged), errors.Is(err, storage.ErrBadInfo),
		errors.Is(err, io.ErrUnexpectedEOF):
		e.log.Info("pieces roots: none to be had", "name", name, "err", err)
		return nil, true
	}
	if ctx.Err() == nil {
		e.log.Info("pieces roots: files not readable now; trying at the next start", "name", name, "err", err)
	}
	return nil, false
}

// keepHybridLayers works out, from its files, the piece layers of a
// finished hybrid download that has none kept (one from a magnet link:
// its swarm runs as v1, and no peer sent them), so that its .torrent file
// (TorrentFile) is whole for v2 clients. ok is false when they should be
// looked for again later, as itemRoots says.
func (e *Engine) keepHybridLayers(ctx context.Context, ih InfoHash, row state.TransferRow) bool {
	info, err := swarm.ParseInfo(row.Info)
	if err != nil || !info.HasV2() || len(info.Pieces) == 0 {
		return true // not a hybrid
	}
	if _, err := os.Stat(e.hybridLayersPath(ih)); err == nil {
		return true // from its .torrent file
	}
	layers, err := storage.StoredLayers(ctx, row.Dir, info, pace(ctx, rootsRate))
	if err == nil {
		err = e.saveShareLayers(ih, storage.Shared{Info: info, Layers: layers})
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrContentChanged), errors.Is(err, storage.ErrBadInfo),
		errors.Is(err, io.ErrUnexpectedEOF):
		e.log.Info("piece layers: none to be had", "name", row.Name, "err", err)
		return true
	}
	if ctx.Err() == nil {
		e.log.Info("piece layers: files not readable now; trying at the next start", "name", row.Name, "err", err)
	}
	return false
}

// pace is a progress function that sleeps to keep reading at about rate
// bytes a second.
func pace(ctx context.Context, rate float64) func(done, total int64) {
	start := time.Now()
	return func(done, _ int64) {
		due := start.Add(time.Duration(float64(done) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
}

// giveRoots hands an item its newly found roots, for search here and on
// the overlay.
func (e *Engine) giveRoots(ih InfoHash, roots [][32]byte) {
	t := e.transferNamed(ih)
	if t == nil || len(roots) == 0 {
		return
	}
	t.setRoots(roots)
	e.markLeafDirty()
}

// setRoots gives t pieces roots its torrent lacks: kept for a download
// (its leaf entry is made when it completes, or again after a restart),
// and put in its leaf entry if it has one.
func (t *transfer) setRoots(roots [][32]byte) {
	t.mu.Lock()
	if !t.library {
		t.roots = roots
	}
	made := t.entry != nil
	if made && len(t.entry.Roots) == 0 {
		entry := *t.entry
		entry.Roots = roots
		t.entry = &entry
	}
	t.mu.Unlock()
	if !made {
		t.leafEntryWith(roots)
	}
}

// resumeRoots gives a download loaded at start the roots found for it
// earlier.
func resumeRoots(t *transfer, row state.TransferRow) {
	if len(row.Roots) > 0 {
		t.roots = row.Roots
	}
}
