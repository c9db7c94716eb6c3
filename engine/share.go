package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// Share starts hashing a file or folder in the background; progress shows
// in Snapshot().ShareJobs and the result in Snapshot().Library.
func (e *Engine) Share(path string) error {
	if err := e.closedErr(); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("engine: share %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("engine: share: %w", err)
	}
	job := &ShareJob{Path: abs}
	e.mu.Lock()
	e.jobs = append(e.jobs, job)
	ctx := e.runCtx
	e.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ih, err := e.ShareSync(ctx, abs, func(done, total int64) {
			e.mu.Lock()
			job.Hashed, job.Total = done, total
			e.mu.Unlock()
		})
		e.mu.Lock()
		job.Done, job.Result = true, ih
		if err != nil {
			job.Err = err.Error()
		}
		e.mu.Unlock()
	}()
	return nil
}

// ShareSync hashes and shares path, returning when it is in the library.
func (e *Engine) ShareSync(ctx context.Context, path string, progress func(done, total int64)) (InfoHash, error) {
	if err := e.closedErr(); err != nil {
		return InfoHash{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return InfoHash{}, fmt.Errorf("engine: share %s: %w", path, err)
	}
	made, err := storage.CreateShare(ctx, abs, storage.CreateOptions{Format: storageFormat(e.shareFormat()), Roots: true}, progress)
	if err != nil {
		return InfoHash{}, fmt.Errorf("engine: share %s: %w", path, err)
	}
	info := made.Info
	infoBytes, err := storage.EncodeInfo(info)
	if err != nil {
		return InfoHash{}, fmt.Errorf("engine: share %s: %w", path, err)
	}
	ih := InfoHash(torrentfile.SwarmHash(infoBytes, info)) // a v2-only share: its v2 infohash cut to 20 bytes
	if err := e.saveShareLayers(ih, made); err != nil {
		return InfoHash{}, fmt.Errorf("engine: share %s: %w", path, err)
	}
	roots := made.Roots[:min(len(made.Roots), maxRootsPerEntry)]
	row := state.LibraryRow{InfoHash: ih, Name: info.Name, Path: abs, Size: storage.ContentLength(info),
		Files: storage.ContentFiles(info), Info: infoBytes, Added: time.Now(), Roots: roots}
	if err := e.db.PutLibrary(ctx, row); err != nil {
		return InfoHash{}, fmt.Errorf("engine: share %s: %w", path, err)
	}
	if err := e.addLibrary(row); err != nil {
		return InfoHash{}, err
	}
	e.saveResume(ih, libraryResume(row))
	e.markLeafDirty()
	return ih, nil
}

// shareFormat is what Share makes: Config.ShareFormat if set, else
// Settings.ShareFormat.
func (e *Engine) shareFormat() TorrentFormat {
	if e.cfg.ShareFormat != nil {
		return *e.cfg.ShareFormat
	}
	return e.Settings().ShareFormat
}

// saveShareLayers keeps a share's piece layers: a hybrid's where
// TorrentFile finds them, so its saved .torrent is whole for v2 clients
// (libtorrent refuses a v2 torrent without them), a v2-only share's where
// its swarm loads them at each start (it verifies and serves by them).
func (e *Engine) saveShareLayers(ih InfoHash, made storage.Shared) error {
	if len(made.Layers) == 0 {
		return nil
	}
	layers, err := torrentfile.CheckPieceLayers(made.Info, made.Layers)
	if err != nil {
		return err
	}
	if torrentfile.IsV2Only(made.Info) {
		return writeLayers(e.layersPath(ih), layers)
	}
	return writeLayers(e.hybridLayersPath(ih), layers)
}

// addLibrary seeds a library item: every piece is present by construction.
func (e *Engine) addLibrary(row state.LibraryRow) error {
	return e.addLibraryWith(row, nil)
}

// addLibraryWith is addLibrary with the item's all-time byte counts when
// the caller has read them (start-up reads every item's at once).
func (e *Engine) addLibraryWith(row state.LibraryRow, totals *[2]int64) error {
	if row.Info == nil {
		return errors.New("engine: library item without metadata")
	}
	// The row's roots wait in t.roots for the leaf entry, made after the
	// start (sharesLoop's first leafUpdate, or a hash search): the entry
	// then holds the same slice, so keeping it here costs no heap.
	t := &transfer{ih: row.InfoHash, library: true, path: row.Path, dir: filepath.Dir(row.Path),
		name: row.Name, added: row.Added, size: row.Size, files: row.Files, roots: row.Roots}
	if bytes.Contains(row.Info, metaV2) {
		// A v2-only share is verified and served by its layers (a hybrid
		// has none there: its swarm runs as v1).
		t.layers = e.loadPieceLayers(row.InfoHash)
	}
	t.setLoadedTotals(totals)
	return e.addTransfer(t, row.Info, nil, nil) // newSwarm marks every piece had
}

// setLoadedTotals gives t the all-time byte counts read with it, if any.
func (t *transfer) setLoadedTotals(totals *[2]int64) {
	if totals != nil {
		t.uploaded, t.downloaded, t.totalsLoaded = totals[0], totals[1], true
	}
}

// startupTotals reads every transfer's all-time byte counts and every
// saved setting at once for loadState; on error each transfer reads its
// own as it is added.
func (e *Engine) startupTotals(ctx context.Context) (func(InfoHash) *[2]int64, map[string]string) {
	all, err := e.db.AllInfoHashTotals(ctx)
	settings, serr := e.db.Settings(ctx)
	if serr != nil {
		settings = nil
	}
	return func(ih InfoHash) *[2]int64 {
		if err != nil {
			return nil
		}
		v := all[ih]
		return &v
	}, settings
}

// loadState recreates library items and transfers from SQLite. It runs
// before Open returns, so before the daemon's ready line and the window:
// per item it does no more than take its row from one read and register
// it. The search leaf's share list (an entry made per item) is built by
// sharesLoop once Run starts, and saved transfer options are found in one
// pass over the saved settings, not looked up per item: a start with
// 10,000 shared items stays short when the machine is busy and the
// process gets a few percent of a core (TestStartDoesNoPerItemWork).
func (e *Engine) loadState() error {
	ctx := context.Background()
	lib, err := e.db.Library(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	totals, settings := e.startupTotals(ctx)
	for _, row := range lib {
		if err := e.addLibraryWith(row, totals(row.InfoHash)); err != nil {
			e.log.Warn("library item not loaded", "name", row.Name, "err", err)
		}
	}
	rows, err := e.db.Transfers(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.backfillResume(lib, rows)
	for _, row := range rows {
		if err := e.resumeTransfer(row, totals(row.InfoHash)); err != nil {
			e.log.Warn("transfer not resumed", "name", row.Name, "err", err)
		}
	}
	e.loadTransferOptions(settings) // a shared item's limits and ratio target too
	if err := e.loadQueue(ctx); err != nil {
		return err
	}
	if err := e.loadMoveFailures(ctx); err != nil {
		return err
	}
	return nil
}

func (e *Engine) resumeTransfer(row state.TransferRow, totals *[2]int64) error {
	var have []bool
	for i := 0; i < len(row.Bitfield)*8; i++ {
		have = append(have, row.Bitfield[i/8]&(0x80>>(i%8)) != 0)
	}
	var trackers [][]string
	if spec, err := parseSource(row.Source); err == nil {
		trackers = spec.trackers
	}
	t := &transfer{ih: row.InfoHash, dir: row.Dir, source: row.Source, name: row.Name,
		trackers: trackers, added: row.Added, completed: row.Completed,
		paused: row.State == string(StatePaused), checked: row.Checked, layers: e.loadPieceLayers(row.InfoHash)}
	t.setLoadedTotals(totals)
	resumeRoots(t, row)
	return e.addTransfer(t, row.Info, have, row.Peers)
}

// sharesLoop keeps the search leaf's share list current (completed
// downloads are shared too). The list is rebuilt only after a change
// (markLeafDirty kicks it), at most once a second: an idle library costs
// nothing, not even a wake-up.
func (e *Engine) sharesLoop(ctx context.Context) error {
	e.leafDirty.Store(true) // once at start, even with no shares: the index keeps the last run's
	for {
		if e.leafDirty.Swap(false) {
			e.leafUpdate()
			select { // let a burst of changes (a folder of shares) gather
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.leafKick:
		}
	}
}

// markLeafDirty has sharesLoop rebuild the leaf's share list soon.
func (e *Engine) markLeafDirty() {
	e.leafDirty.Store(true)
	select {
	case e.leafKick <- struct{}{}:
	default:
	}
}

// leafUpdate hands the current share list to the search leaf.
func (e *Engine) leafUpdate() {
	var entries []overlay.Entry
	for _, t := range e.transferList() {
		if entry, ok := t.leafEntry(); ok {
			entries = append(entries, entry)
		}
	}
	e.leaf.SetShares(entries)
}

// leafEntry is t's entry in the search leaf's share list, if it is shared
// (complete and not paused). It is made once: a complete torrent's name
// and files do not change.
func (t *transfer) leafEntry() (overlay.Entry, bool) {
	t.mu.Lock()
	roots := t.roots
	t.mu.Unlock()
	return t.leafEntryWith(roots)
}

// leafEntryWith is leafEntry making the entry, if it is not made yet, with
// roots as its files' pieces roots when its torrent has none of its own
// (a v1 share's, computed when it was shared: see transfer.hashes). An
// item that waits for its swarm (lazy.go) gets its entry from its row.
func (t *transfer) leafEntryWith(roots [][32]byte) (overlay.Entry, bool) {
	t.mu.Lock()
	entry, waiting := t.entry, t.sw == nil && t.lazyInfo != nil
	t.mu.Unlock()
	sw := t.swarm()
	if sw == nil && !waiting {
		return overlay.Entry{}, false
	}
	if entry != nil {
		return *entry, true
	}
	if waiting {
		var ok bool
		if entry, ok = t.waitingEntry(); !ok {
			return overlay.Entry{}, false
		}
		if len(entry.Roots) == 0 {
			entry.Roots = roots // a v1 torrent has none of its own
		}
	} else {
		if !sw.Complete() {
			return overlay.Entry{}, false
		}
		info, infoBytes := sw.Info()
		v2, own := v2Hashes(info, infoBytes)
		if len(own) > 0 {
			roots = own
		}
		entry = &overlay.Entry{InfoHash: t.ih, Name: info.BestName(), Size: storage.ContentLength(info), Files: filePaths(info),
			V2: v2, Roots: roots}
	}
	t.mu.Lock()
	t.entry = entry
	t.mu.Unlock()
	return *entry, true
}

// filePaths lists a torrent's file paths (at most 100; none for a single
// file), from its v1 file list or, for a v2-only torrent, its file tree;
// padding files are left out.
func filePaths(info *metainfo.Info) []string {
	if len(info.Files) == 0 && info.HasV2() {
		var out []string
		for fi := range info.UpvertedFilesIter() {
			if len(out) >= 100 {
				break
			}
			out = append(out, strings.Join(fi.BestPath(), "/"))
		}
		if len(out) == 1 {
			return nil
		}
		return out
	}
	var out []string
	for i := range info.Files {
		if storage.IsPadFile(&info.Files[i]) {
			continue
		}
		out = append(out, strings.Join(info.Files[i].Path, "/"))
		if len(out) >= 100 {
			break
		}
	}
	return out
}
