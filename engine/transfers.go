package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/torrentfile"
	"github.com/shoalp2p/shoal/engine/tracker"
	"github.com/shoalp2p/shoal/internal/locks"
)

// maxTorrentFile bounds a .torrent file read from disk (bencode bombs).
const maxTorrentFile = 16 << 20

// ErrNotFound is returned for an unknown infohash.
var ErrNotFound = errors.New("engine: no such transfer")

// transfer is one swarm the engine runs: a download or a shared library item.
type transfer struct {
	ih       InfoHash
	library  bool // shared by us (Library tab) rather than downloaded
	path     string
	dir      string
	source   string
	name     string
	trackers [][]string // tiers of announce URLs (BEP 12)
	added    time.Time
	ann      *tracker.Announcer
	kick     func() // has the announcer look at it now: a pause or resume
	// layers are a v2-only torrent's BEP 52 piece layers: from its
	// .torrent file, or fetched from peers (set once, under mu).
	layers map[[32]byte][][32]byte
	// layersDamaged: some saved layers failed their check
	// (dropDamagedLayers); the fetched ones replace the saved file.
	layersDamaged bool
	// alt is a hybrid's other infohash, once its info is known (alias.go);
	// altKnown: alt was worked out (zero for a torrent that is not hybrid).
	alt      InfoHash
	altKnown bool
	annAlt   *tracker.Announcer // the trackers under alt, if any (under mu)

	// size and files are a library item's, from its row (the Library
	// row of an item that waits for its swarm is made from them).
	size  int64
	files int

	// ops serializes Move and Remove of this transfer: each holds it for
	// its whole run (file moves and deletes, SQLite), so a Remove never
	// deletes files a Move is carrying elsewhere, nor a Move re-saves or
	// restarts a transfer Remove has forgotten. Taken before any other
	// lock, and only by those two.
	ops sync.Mutex

	mu locks.Mutex
	sw *swarm.Swarm // nil while a library item waits (lazy.go)
	// lazyInfo is the info dictionary of a library item that waits for
	// its swarm; ctx is the context it was started in (under mu).
	lazyInfo   []byte
	ctx        context.Context
	makeOnce   sync.Once // makes the swarm of an item that waits (lazy.go)
	cancel     context.CancelFunc
	done       <-chan struct{}
	paused     bool
	queued     bool  // waiting for a place under the active caps (queue.go)
	forced     bool  // started by hand: ignores the caps until paused
	qpos       int64 // place in the queue, 1 first
	uploaded   int64 // all time
	downloaded int64
	completed  time.Time
	rates      rateHistory
	infoSaved  bool
	dirty      bool     // the last progress save failed: save again
	checked    bool     // state.TransferRow.Checked: found pieces are downloads
	dht        dhtCount // what the last DHT lookup found of the swarm
	// totalsLoaded: uploaded and downloaded came with the transfer (a
	// start-up reads every transfer's in one query).
	totalsLoaded bool
	// removed: Remove has begun (under mu). Nothing starts for the
	// transfer again, and a waiting item's swarm made from now on never
	// runs (makeWaiting).
	removed bool

	opts               TransferOptions
	upLimit, downLimit *rate.Limiter
	targetReached      bool
	finishedAction     TargetAction

	entry *overlay.Entry // search leaf entry, once complete (leafEntry)
	// roots are a v1 download's BEP 52 pieces roots, worked out after it
	// finished (oldroots.go); a library item's live in its entry alone.
	roots   [][32]byte
	item    *LibraryItem  // Library tab row of a library item (libraryItem)
	magnet  string        // its magnet link, once its info is known (magnetLink)
	view    *transferView // last snapshot of a download (transferSnapshot)
	viewKey viewKey       // what view was taken with
}

func (t *transfer) swarm() *swarm.Swarm {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.paused || t.queued {
		return nil
	}
	return t.sw
}

// Download starts fetching a magnet link, .torrent file or bare infohash.
func (e *Engine) Download(ctx context.Context, req DownloadRequest) (InfoHash, error) {
	if err := e.closedErr(); err != nil {
		return InfoHash{}, err
	}
	spec, err := parseSource(req.Source)
	if err != nil {
		return InfoHash{}, badSource{err}
	}
	for _, why := range spec.ignored {
		e.log.Info("torrent file: malformed optional key ignored", "source", clipText(req.Source), "key", why)
	}
	if spec.name == "" {
		spec.name = req.Name
	}
	dir := req.Dir
	if dir == "" {
		dir = e.DownloadDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return InfoHash{}, fmt.Errorf("engine: download folder: %w", err)
	}
	e.mu.Lock()
	t, exists := e.transfers[spec.ih]
	e.mu.Unlock()
	if exists {
		e.swarmAddPeers(t, append(req.Peers, spec.peers...))
		return spec.ih, nil
	}
	// Without metadata nothing can be checked on disk: every piece that
	// appears there later is one Shoal downloaded.
	t = &transfer{ih: spec.ih, dir: dir, source: req.Source, name: spec.name, trackers: spec.trackers,
		added: time.Now(), checked: spec.info == nil, layers: spec.layers, qpos: e.nextQueuePos()}
	if err := e.saveSourceLayers(spec); err != nil {
		return InfoHash{}, fmt.Errorf("engine: download: %w", err)
	}
	row := state.TransferRow{InfoHash: spec.ih, Name: spec.name, Dir: dir, Source: req.Source, Info: spec.info,
		State: string(StateDownloading), Added: t.added, Peers: append(req.Peers, spec.peers...), Checked: t.checked}
	if err := e.db.PutTransfer(ctx, row); err != nil {
		return InfoHash{}, fmt.Errorf("engine: download: %w", err)
	}
	if err := e.addTransfer(t, spec.info, nil, row.Peers); err != nil {
		// A refused torrent (unsafe paths, bad sizes) must not come back
		// at every start.
		if derr := e.db.DeleteTransfer(context.WithoutCancel(ctx), spec.ih); derr != nil {
			e.log.Warn("forget refused download", "err", derr)
		}
		return InfoHash{}, err
	}
	e.saveResume(spec.ih, transferResume(row))
	return spec.ih, nil
}

// source is a parsed download source.
type source struct {
	ih       InfoHash
	name     string
	info     []byte
	trackers [][]string
	peers    []string
	ignored  []string                // malformed optional keys of a .torrent file, dropped
	layers   map[[32]byte][][32]byte // a v2-only torrent's piece layers
	// hybridLayers are a hybrid torrent's piece layers: its swarm runs as
	// v1 and needs none, but a .torrent saved from it carries them.
	hybridLayers map[[32]byte][][32]byte
}

func parseSource(s string) (source, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "magnet:"):
		return parseMagnet(s)
	case s == "":
		return source{}, errors.New("engine: download: empty source, want a magnet link, .torrent file or infohash")
	case len(s) == 40 && !strings.ContainsAny(s, "./\\"):
		ih, err := ParseInfoHash(strings.ToLower(s))
		if err != nil {
			return source{}, fmt.Errorf("engine: %w", err)
		}
		return source{ih: ih}, nil
	case strings.Trim(s, "0123456789abcdefABCDEF") == "":
		if _, err := os.Stat(s); err != nil {
			return source{}, fmt.Errorf("engine: infohash %.44q...: %d hex digits, want 40", s, len(s))
		}
	}
	return loadTorrentFile(s)
}

// parseMagnet reads a magnet link with a v1 infohash (btih), a v2 one
// (btmh, BEP 52) or both (a hybrid). A hybrid joins the swarm by its v1
// infohash, as v1 and hybrid peers do; a v2-only link by its v2 infohash
// cut to 20 bytes.
func parseMagnet(s string) (source, error) {
	m, err := metainfo.ParseMagnetV2Uri(s)
	if err == nil && !m.InfoHash.Ok && !m.V2InfoHash.Ok {
		err = errors.New("no btih or btmh infohash (xt)")
	}
	if err != nil {
		return source{}, fmt.Errorf("engine: magnet link: %s", clipText(err.Error()))
	}
	src := source{name: m.DisplayName, trackers: magnetTiers(m.Trackers), peers: m.Params["x.pe"]}
	if m.InfoHash.Ok {
		src.ih = InfoHash(m.InfoHash.Value)
	} else {
		src.ih = InfoHash(m.V2InfoHash.Value[:20])
	}
	return src, nil
}

func loadTorrentFile(path string) (source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return source{}, fmt.Errorf("engine: torrent file: %w", err)
	}
	if st.Size() > maxTorrentFile {
		return source{}, fmt.Errorf("engine: torrent file %s is %d bytes, over the %d limit", path, st.Size(), maxTorrentFile)
	}
	if !st.Mode().IsRegular() {
		return source{}, fmt.Errorf("engine: torrent file %s: not a regular file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return source{}, fmt.Errorf("engine: torrent file: %w", err)
	}
	tf, err := torrentfile.Parse(b)
	if err != nil {
		return source{}, fmt.Errorf("engine: torrent file %s: %w", path, err)
	}
	info, err := swarm.ParseInfo(tf.InfoBytes)
	if err != nil {
		return source{}, fmt.Errorf("engine: torrent file %s: %w", path, err)
	}
	var layers, hybrid map[[32]byte][][32]byte
	switch {
	case torrentfile.IsV2Only(info):
		if layers, err = torrentfile.CheckPieceLayers(info, tf.PieceLayers); err != nil {
			return source{}, fmt.Errorf("engine: torrent file %s: %w", path, err)
		}
	case info.HasV2():
		// Downloaded as v1: layers that fail their check are dropped,
		// not the torrent.
		hybrid, _ = torrentfile.CheckPieceLayers(info, tf.PieceLayers)
	}
	return source{ih: InfoHash(torrentfile.SwarmHash(tf.InfoBytes, info)), name: info.BestName(), info: tf.InfoBytes,
		trackers: tf.Trackers, ignored: tf.Ignored, layers: layers, hybridLayers: hybrid}, nil
}

// magnetTiers puts each of a magnet link's trackers (tr=) in a tier of its
// own: a magnet link has no tiers, and every tier is announced to.
func magnetTiers(urls []string) [][]string {
	tiers := make([][]string, 0, len(urls))
	for _, u := range urls {
		tiers = append(tiers, []string{u})
	}
	return tiers
}

// addTransfer registers a transfer and starts it if the engine runs.
func (e *Engine) addTransfer(t *transfer, info []byte, have []bool, peers []string) error {
	var sw *swarm.Swarm
	if t.library && waitsForSwarm(info) {
		t.lazyInfo = info // the swarm is made when first needed (lazy.go)
	} else if t.library && waitsAsHybrid(info) {
		t.lazyInfo = info
		t.ann = announcerFor(t.trackers) // setAlias reads it
		t.setAlias(aliasOf(t.ih, info))
	} else {
		var err error
		if sw, err = e.newSwarm(t, info, have); err != nil {
			return err
		}
		sw.AddExplicitPeers(peers...)
		t.sw = sw
	}
	if !t.library && e.running() && e.wouldQueue(t) {
		t.queued = true // waits for a place: not started at all
	}
	if t.ann == nil {
		t.ann = announcerFor(t.trackers)
	}
	t.kick = func() { e.ann.now(t) }
	if !t.totalsLoaded {
		up, down, err := e.db.InfoHashTotals(context.Background(), t.ih)
		if err == nil {
			t.uploaded, t.downloaded = up, down
		}
	}
	e.mu.Lock()
	if _, dup := e.transfers[t.ih]; dup {
		e.mu.Unlock()
		return nil
	}
	e.transfers[t.ih] = t
	start := e.startTransfer(t)
	e.mu.Unlock()
	if sw != nil {
		e.hybridAlias(t, sw)
	} else if alt, ok := e.hybridAlias(t, nil); ok { // a hybrid that waits: known from its bytes
		e.registerAlias(t, alt)
	}
	if !t.library {
		e.act.add(t) // a download is flushed until settled
	}
	e.changedLibrary(t)
	if start != nil {
		start()
	}
	return nil
}

func (e *Engine) newSwarm(t *transfer, info []byte, have []bool) (*swarm.Swarm, error) {
	up, down := e.transferLimiters(t)
	var parsed *metainfo.Info
	if info != nil {
		var err error
		if parsed, err = swarm.ParseInfo(info); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		e.dropDamagedLayers(t, parsed)
		if have == nil && t.library { // every piece is present by construction
			have = make([]bool, parsed.NumPieces())
			for i := range have {
				have[i] = true
			}
		}
	}
	sw, err := swarm.New(swarm.Config{
		Recheck:       !t.library && info != nil && !all(have),
		CreditRecheck: t.checked,
		UpLimits:      up,
		DownLimits:    down,
		UploadSlots:   e.Settings().UploadSlots,
		InfoHash:      t.ih,
		PeerID:        e.peerID,
		InfoBytes:     info,
		Info:          parsed,
		PieceLayers:   t.layers,
		V2:            len(t.layers) > 0 || (parsed != nil && torrentfile.IsV2Only(parsed)) || isV2Magnet(t.source),
		Dir:           t.dir,
		Have:          have,
		ListenPort:    e.port,
		ExternalPort:  &e.extPort,
		MappedAddr:    &e.extAddr,
		IPVotes:       e.ipVotes,
		Dial:          e.policy.Dial,
		Connect:       e.dialer.Connect,
		Punch:         e.punch,
		Logger:        e.log,
		Banned:        e.bannedCopy(),
		OnComplete: func() {
			e.kickQueue() // a download became a seed: both counts change
			e.markLeafDirty()
			t.poke() // the trackers hear "completed" now
			e.announceChange()
		},
		OnWake: func() { e.act.add(t) },
	})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return sw, nil
}

// startTransfer starts a transfer's swarm and schedules its discovery.
// Caller holds e.mu; it calls the returned function (which may be nil)
// once e.mu is released: starting a swarm takes the swarm's lock, which
// must never be taken under e.mu.
func (e *Engine) startTransfer(t *transfer) (start func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.removed || t.paused || t.queued || t.cancel != nil || e.runCtx == nil {
		return nil
	}
	if t.sw == nil {
		return e.startWaiting(t, e.runCtx)
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	t.cancel = cancel
	t.done = t.sw.Done()
	sw := t.sw
	return func() {
		sw.Start(ctx) // even if ctx has ended: it stops at once, and Done closes
		if ctx.Err() != nil {
			return
		}
		_, trackers := t.ann.NextDue()
		e.stopWith(ctx, e.ann.add(ctx, t, sw, sw.Complete(), !trackers && !e.dhtCanAsk()))
	}
}

// stopWith has the trackers that know it's transfer hear "stopped" when
// ctx, the transfer's, ends (pause, removal, shutdown); Run waits for
// that.
func (e *Engine) stopWith(ctx context.Context, it *announceItem) {
	e.wg.Add(1)
	context.AfterFunc(ctx, func() {
		defer e.wg.Done()
		if e.ann.claimStop(it) {
			e.stopItem(it)
		}
	})
}

func (e *Engine) swarmAddPeers(t *transfer, peers []string) {
	if sw := e.activeSwarm(t); sw != nil {
		sw.AddExplicitPeers(peers...)
	}
}

func (e *Engine) lookup(ih InfoHash) (*transfer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.transfers[ih]
	if t == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ih)
	}
	return t, nil
}

// liveTransfer is the transfer a command acts on: ErrClosed once the
// engine has stopped, ErrNotFound for an unknown infohash.
func (e *Engine) liveTransfer(ih InfoHash) (*transfer, error) {
	if err := e.closedErr(); err != nil {
		return nil, err
	}
	return e.lookup(ih)
}

// Pause stops a transfer's connections; its progress is kept.
func (e *Engine) Pause(ih InfoHash) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.paused = true
	t.mu.Unlock()
	e.halt(t, e.swarmOf(t))
	if err := e.setForced(t, false); err != nil {
		return err
	}
	e.kickQueue() // its place goes to the next queued one
	return e.saveState(t, StatePaused)
}

// halt closes the connections of t, whose swarm is sw, once the caller
// has marked why under t's lock (paused or queued): what a pause and a
// place lost in the queue share. The overlay hears the leaf's shares
// changed.
func (e *Engine) halt(t *transfer, sw *swarm.Swarm) {
	sw.Pause()
	t.poke()
	e.markLeafDirty()
}

// saveState records a download's state so a restart keeps it paused or not.
func (e *Engine) saveState(t *transfer, st TransferState) error {
	if t.library {
		return nil
	}
	ctx := context.Background()
	row, err := e.db.Transfer(ctx, t.ih)
	if err != nil {
		return fmt.Errorf("engine: save state: %w", err)
	}
	row.State = string(st)
	if err := e.db.PutTransfer(ctx, row); err != nil {
		return fmt.Errorf("engine: save state: %w", err)
	}
	return nil
}

// Resume restarts a paused transfer.
func (e *Engine) Resume(ih InfoHash) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.paused = false
	t.targetReached = false
	t.mu.Unlock()
	sw := e.swarmOf(t)
	sw.SetUploadBudget(-1)
	if !t.library && e.wouldQueue(t) {
		t.mu.Lock()
		t.queued = true // resumed into the queue: it starts when a place frees up
		t.mu.Unlock()
		t.poke()
		e.markLeafDirty()
		return e.saveState(t, StateDownloading)
	}
	e.run(t, sw) // a transfer loaded paused has not run yet
	e.applyTargets()
	return e.saveState(t, StateDownloading)
}

// run lets a held transfer (paused or queued) go: its swarm resumes, and
// starts if it never ran; the flush and the search leaf see it again.
func (e *Engine) run(t *transfer, sw *swarm.Swarm) {
	sw.Resume()
	t.poke()
	e.launch(t)
}

// launch starts a known transfer's swarm (startTransfer under e.mu, the
// start itself after) and puts it back in the active set and the search
// leaf's view. Run and Move share it.
func (e *Engine) launch(t *transfer) {
	e.mu.Lock()
	start := e.startTransfer(t)
	e.mu.Unlock()
	if start != nil {
		start()
	}
	e.act.add(t)
	e.markLeafDirty()
}

// Remove stops a transfer and forgets it; deleteData also removes its files.
func (e *Engine) Remove(ih InfoHash, deleteData bool) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	t.ops.Lock() // a Move under way finishes first (see transfer.ops)
	defer t.ops.Unlock()
	if t.isRemoved() {
		return fmt.Errorf("%w: %s", ErrNotFound, ih)
	}
	e.mu.Lock()
	delete(e.transfers, ih)
	e.mu.Unlock()
	e.forgetAlias(t)
	e.act.remove(t)
	e.changedLibrary(t)
	// Marked under the lock cancel and done are read under: a waiting
	// item's swarm made before this installed its own cancel and done,
	// and one made after never runs (makeWaiting), so done is all there
	// is to wait for.
	t.mu.Lock()
	t.removed = true
	cancel, done, sw := t.cancel, t.done, t.sw
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	ctx := context.Background()
	if t.library {
		err = e.db.DeleteLibrary(ctx, ih)
	} else {
		err = e.db.DeleteTransfer(ctx, ih)
	}
	if err != nil {
		return fmt.Errorf("engine: remove: %w", err)
	}
	e.dropResume(ih)
	e.dropPieceLayers(t.ih) // t.ih: ih may be a hybrid's other infohash
	e.moveFails.set(t.ih, moveFailure{})
	e.markLeafDirty()
	e.kickQueue()
	if deleteData && !t.library {
		// Files live under the sanitized name, never under info.Name as given.
		info, _ := sw.Info()
		if l, err := storage.NewLayout(info); err == nil && l.Name != "" && !strings.ContainsAny(l.Name, "/\\") {
			return os.RemoveAll(filepath.Join(t.dir, l.Name))
		}
	}
	return nil
}

// isRemoved reports whether Remove has begun for t.
func (t *transfer) isRemoved() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removed
}

// AddPeers gives a transfer more peer addresses to dial (host:port). Some
// clients (Transmission) never dial loopback peers, so tests and the CLI's
// --peer flag make Shoal dial them.
func (e *Engine) AddPeers(ih InfoHash, addrs ...string) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	e.swarmAddPeers(t, addrs)
	return nil
}

func all(have []bool) bool {
	for _, h := range have {
		if !h {
			return false
		}
	}
	return len(have) > 0
}

// clipText keeps error texts readable when they quote hostile input (a
// megabyte-long magnet link, say).
func clipText(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:max], len(s))
}
