package swarm

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/choker"
	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/torrentfile"
	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
	"github.com/shoalp2p/shoal/internal/locks"
)

// Dialer opens peer connections (loopback-only mode is enforced by it).
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Connector dials addr and exchanges handshakes (see transport.Dialer).
type Connector func(ctx context.Context, addr string, out wire.Handshake) (*transport.Conn, wire.Handshake, error)

// HashReport is corrupt data from a peer, for the owner's persistent
// state: the peer is named by its ban key, and Ban says the swarm banned
// it. The owner collects them with DrainReports; the swarm never calls up
// while holding its lock.
type HashReport struct {
	Key    PeerKey
	Ban    bool
	Reason string
}

// Config describes one swarm.
type Config struct {
	InfoHash [20]byte
	PeerID   [20]byte
	// InfoBytes is the bencoded info dictionary; nil until fetched (magnet).
	InfoBytes []byte
	// Info, when set, is InfoBytes already parsed (ParseInfo) by the
	// caller, which saves parsing it again.
	Info *metainfo.Info
	// PieceLayers are a v2-only torrent's BEP 52 piece layers by pieces
	// root, checked against the roots (torrentfile.CheckPieceLayers).
	PieceLayers map[[32]byte][][32]byte
	// V2 marks a v2-only torrent: the handshake announces BEP 52 and hash
	// requests are answered.
	V2 bool
	// Dir is the folder the content lives in (content at Dir/<name>).
	Dir string
	// Have marks pieces already verified on disk (resume data or a share).
	Have []bool
	// ListenPort is advertised in the extension handshake.
	ListenPort int
	// ExternalPort, when set and not zero, is advertised instead: the
	// port the router maps to us (kept current by the engine).
	ExternalPort *atomic.Int32
	// MappedAddr, when set and holding an address, is the router's
	// mapped external address (UPnP, NAT-PMP or PCP; kept current by the
	// engine): its IP is ours, so that address is never dialled, punched
	// to or relayed to.
	MappedAddr *atomic.Pointer[netip.AddrPort]
	// IPVotes, if set, hears each peer's BEP 10 yourip (our address as
	// that peer sees it), shared by all swarms of a node.
	IPVotes *IPVotes
	Dial    Dialer
	Logger  *slog.Logger

	// Connect, if set, opens outgoing connections instead of Dial: it runs
	// the whole handshake (encryption included) and checks the infohash.
	// Without it, Dial is used with plain handshakes.
	Connect Connector

	// MaxPeers caps connections (default 60).
	MaxPeers int
	// UploadSlots is the choker's regular slot count (default 4).
	UploadSlots int
	// BanAfter is how many hash failures get a peer banned when blame is
	// shared and not yet proven (default 3).
	BanAfter int
	// Banned holds IPs or peer IDs refused at connect, with their reasons.
	Banned map[PeerKey]string
	// Recheck hashes, before connecting, the pieces not marked in Have whose
	// data may be on disk (written after the last checkpoint before a crash).
	Recheck bool
	// CreditRecheck counts the pieces that Recheck finds as downloaded
	// (drained as Traffic with no peer): set it when the owner knows that
	// pieces missing from Have can only have come from the network, that
	// is, once the transfer's first check was recorded.
	CreditRecheck bool
	// UpLimits and DownLimits are rate limiters (per transfer, global, ...)
	// that every uploaded or downloaded block must pass; see NewLimiter.
	UpLimits, DownLimits []*rate.Limiter
	// OnComplete, if set, is called (without the swarm's lock, on a hash
	// worker) each time the last wanted piece is verified, so an owner
	// waiting for the download learns of it at once instead of at its
	// next poll.
	OnComplete func()
	// Punch, if set, makes the transport's part of a BEP 55 hole punch;
	// without it the swarm still relays for others but never punches.
	Punch Puncher
	// OnWake, if set, is called (without the swarm's lock) each time the
	// swarm leaves its idle state: a peer connected or is to be dialed.
	// An owner that skips idle swarms in its periodic work (byte counts,
	// snapshots) looks at this one again until it is Idle.
	OnWake func()
}

// ErrBanned is returned for connections from banned peers.
var ErrBanned = errors.New("swarm: peer is banned")

// Swarm is one torrent's set of peers and transfer state.
type Swarm struct {
	cfg    Config
	lg     atomic.Pointer[slog.Logger] // see logger
	wake   chan struct{}
	closed chan struct{}

	mu            locks.Mutex
	info          *metainfo.Info
	infoBytes     []byte
	layout        *storage.Layout
	files         *storage.Files
	pick          *picker.Picker
	have          wire.Bitfield
	peers         map[uint64]*peer
	nextID        uint64
	cands         map[string]*candidate
	punches       map[string]*punch         // by address, see onConnect
	rendezvous    map[string]rendezvousSent // by address, see askRendezvous
	meta          *metaFetch
	layers        *layerFetch             // BEP 52 piece layers being fetched
	fetchedLayers map[[32]byte][][32]byte // layers fetched and verified, for the owner
	leaves        map[int]*leafAsk        // leaf hashes asked for failed pieces
	writing       map[int]int             // blocks being written per piece
	bufs          map[int][]byte          // write-back buffers of pieces being received
	onDisk        map[int]bool            // pieces received straight to disk
	buffered      int64
	freeBufs      [][]byte // piece buffers free for reuse, carved from arenas
	bufSlots      int      // how many buffers the arenas hold
	rcache        readCache
	received      map[int]bool          // pieces with every block received, awaiting hash
	blame         map[int][]blockSource // piece -> sender of each block
	failed        map[int]*failedPiece
	banned        map[PeerKey]string
	unsynced      []int
	closedTraffic []Traffic
	reports       []HashReport
	credits       map[PeerKey]float64 // by ban key, pushed by the owner
	filesClosed   bool
	closing       bool  // shutdown is syncing and closing storage, without mu
	budget        int64 // upload bytes left before a ratio target; -1 = no cap
	sequential    bool
	checking      bool
	rechecked     bool         // the Recheck pass is over (or was not asked for)
	skip          map[int]bool // files not to download
	paused        bool
	seeding       bool
	err           error
	choke         *choker.Choker
	totalDown     atomic.Int64
	totalUp       atomic.Int64
	wg            sync.WaitGroup
	runCtx        context.Context
	looping       bool // the loop goroutine runs (see poke and sleep)
	stopping      bool // shutdown began: nothing new may join wg
}

// New prepares a swarm; nothing runs until Run.
func New(cfg Config) (*Swarm, error) {
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 60
	}
	if cfg.BanAfter == 0 {
		cfg.BanAfter = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Connect == nil {
		d := &transport.Dialer{Dial: cfg.Dial}
		cfg.Connect = d.Connect
	}
	s := &Swarm{
		cfg:       cfg,
		wake:      make(chan struct{}, 1),
		closed:    make(chan struct{}),
		choke:     choker.New(cfg.UploadSlots),
		budget:    -1,
		rcache:    readCache{limit: readCacheBytes},
		rechecked: !cfg.Recheck,
	}
	for k, v := range cfg.Banned {
		put(&s.banned, k, v)
	}
	s.cfg.Banned = nil // copied: the owner's map is not held
	if cfg.InfoBytes != nil {
		if err := s.setInfoParsed(cfg.InfoBytes, cfg.Info, cfg.Have); err != nil {
			return nil, err
		}
	} else {
		s.meta = newMetaFetch()
	}
	return s, nil
}

// put sets (*m)[k] = v, making the map first: a swarm makes its maps as
// they are first needed, so thousands of idle ones hold none.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = make(map[K]V)
	}
	(*m)[k] = v
}

// logger is the swarm's logger, which names its infohash: built at the
// first line logged, not held by each of thousands of idle swarms.
func (s *Swarm) logger() *slog.Logger {
	if l := s.lg.Load(); l != nil {
		return l
	}
	s.lg.CompareAndSwap(nil, s.cfg.Logger.With("infohash", hex.EncodeToString(s.cfg.InfoHash[:])))
	return s.lg.Load()
}

// setInfo installs verified metadata and opens storage. Caller holds mu or
// has exclusive access.
func (s *Swarm) setInfo(infoBytes []byte, have []bool) error {
	return s.setInfoParsed(infoBytes, nil, have)
}

// setInfoParsed is setInfo with infoBytes already parsed, unless info is nil.
func (s *Swarm) setInfoParsed(infoBytes []byte, info *metainfo.Info, have []bool) error {
	if info == nil {
		var err error
		if info, err = ParseInfo(infoBytes); err != nil {
			return err
		}
	}
	if !matchesInfoHash(infoBytes, s.cfg.InfoHash) {
		return errors.New("swarm: info does not match infohash")
	}
	sharePieces(info, infoBytes)
	layout, err := storage.NewLayout(info)
	if err != nil {
		return fmt.Errorf("swarm: %w", err)
	}
	layout.SetPieceLayers(s.cfg.PieceLayers)
	files, err := storage.Open(s.cfg.Dir, layout)
	if err != nil {
		return fmt.Errorf("swarm: open storage: %w", err)
	}
	s.info, s.infoBytes, s.layout, s.files = info, infoBytes, layout, files
	s.layers = s.newLayerFetch(layout) // before anything can pick a piece
	s.pick = picker.New(layout.NumPieces, layout.PieceLength, layout.TotalLength)
	s.have = wire.NewBitfield(layout.NumPieces)
	for i, ok := range have {
		if ok && i < layout.NumPieces {
			s.pick.MarkHave(i)
			s.have.Set(i)
		}
	}
	s.pick.SetSequential(s.sequential)
	s.applySkips()
	s.seeding = s.pick.Complete()
	s.meta = nil
	s.requestLayers()
	return nil
}

// sharePieces points info.Pieces into infoBytes, where the same hash list
// is encoded, so that a torrent holds its piece hashes once (kept for
// peers asking for metadata), not once more per decoded copy: the
// layout's Hashes view info.Pieces. For a library of large torrents the
// hashes are most of what an idle one holds. Nothing changes when the
// list is not found as such.
func sharePieces(info *metainfo.Info, infoBytes []byte) {
	n := len(info.Pieces)
	if n == 0 {
		return
	}
	key := []byte("6:pieces" + strconv.Itoa(n) + ":")
	for off := 0; ; {
		i := bytes.Index(infoBytes[off:], key)
		if i < 0 {
			return
		}
		start := off + i + len(key)
		if start+n <= len(infoBytes) && bytes.Equal(infoBytes[start:start+n], info.Pieces) {
			info.Pieces = infoBytes[start : start+n : start+n]
			return
		}
		off = start
	}
}

// Start makes the swarm live until ctx ends: it accepts and dials peers,
// chokes, samples rates, times out requests and hashes pieces. An idle
// swarm (no peer connected or to dial, no metadata to fetch) costs no
// goroutine and no timer: its loop runs only while there is work, and
// starts again when a peer arrives (Accept, AddPeers, Resume). When ctx
// ends the swarm closes its peers, makes verified pieces durable and
// closes its storage; Done is closed then. Start may be called once.
func (s *Swarm) Start(ctx context.Context) {
	s.mu.Lock()
	if s.runCtx != nil {
		s.mu.Unlock()
		return
	}
	s.runCtx = ctx
	recheck := s.cfg.Recheck
	if recheck {
		s.checking = true // no loop until the recheck is done
		s.wg.Add(1)
	}
	s.mu.Unlock()
	context.AfterFunc(ctx, s.shutdown)
	if recheck {
		go func() {
			defer s.wg.Done()
			s.recheck(ctx)
			s.poke()
		}()
		return
	}
	s.poke()
}

// Run is Start, then waits until ctx ends and the swarm has stopped.
func (s *Swarm) Run(ctx context.Context) error {
	s.Start(ctx)
	<-ctx.Done()
	<-s.closed
	return nil
}

// loop is the swarm's goroutine while it has work: a tick a second, and
// dialing when poked. It ends when the swarm is idle (see sleep).
func (s *Swarm) loop(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	n := 0
	s.connectCandidates(ctx)
	for {
		select {
		case <-ctx.Done():
			return // shutdown, run by context.AfterFunc, does the rest
		case <-s.wake:
			s.connectCandidates(ctx)
		case <-tick.C:
			n++
			s.tick(ctx, n)
			if s.sleep() {
				return
			}
		}
	}
}

// candidateSoon is how far ahead a candidate's next try keeps the loop
// running; one due later waits for the next AddPeers (discovery repeats).
const candidateSoon = 30 * time.Second

// sleep reports whether the swarm is idle, and if so marks the loop as
// ended, so that the next poke starts it again.
func (s *Swarm) sleep() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idleLocked() {
		return false
	}
	s.looping = false
	return true
}

// idleLocked reports whether the swarm has nothing to do: no peer, no
// dial, no metadata to fetch, no recheck, and no candidate due soon.
// Caller holds s.mu.
func (s *Swarm) idleLocked() bool {
	if len(s.peers) > 0 || s.dialing() > 0 || s.checking {
		return false
	}
	if s.paused || s.err != nil {
		return true
	}
	if s.meta != nil || s.layers != nil {
		return false
	}
	soon := time.Now().Add(candidateSoon)
	for _, c := range s.cands {
		if c.nextTry.Before(soon) {
			return false
		}
	}
	return true
}

// Idle reports whether the swarm is asleep: no loop, no peer, no dial, no
// recheck. Byte counts of its last peers may still wait for DrainTraffic.
func (s *Swarm) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idleNow()
}

// idleNow is Idle for a caller holding s.mu.
func (s *Swarm) idleNow() bool {
	return !s.looping && len(s.peers) == 0 && s.dialing() == 0 && !s.checking
}

// Settled reports whether the swarm is idle with nothing left for its
// owner to collect: no traffic or report to drain, no verified piece to
// checkpoint.
func (s *Swarm) Settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idleNow() && len(s.closedTraffic) == 0 && len(s.unsynced) == 0 && len(s.reports) == 0
}

func (s *Swarm) shutdown() {
	s.mu.Lock()
	s.stopping = true
	for _, p := range s.peers {
		p.close(nil)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	files, pieces := s.files, slices.Clone(s.unsynced)
	s.closing = files != nil
	s.mu.Unlock()
	if files != nil {
		// Make verified pieces durable now, so the owner's last Checkpoint
		// can record them after storage is closed. Not under mu: fsync
		// may take seconds on a busy disk, and the owner's Stats and
		// Checkpoint must not wait for it (Checkpoint records nothing
		// while closing).
		if err := files.SyncPieces(pieces); err != nil {
			s.logger().Error("sync pieces at shutdown", "err", err)
		}
		files.Close()
		s.mu.Lock()
		s.filesClosed = true
		s.mu.Unlock()
	}
	close(s.closed)
}

// Done is closed when Run has returned and storage is closed.
func (s *Swarm) Done() <-chan struct{} { return s.closed }

func (s *Swarm) tick(ctx context.Context, n int) {
	s.mu.Lock()
	for _, p := range s.peers {
		p.sampleRates()
	}
	s.expireRequests()
	s.markLeeches()
	s.expirePunches(time.Now())
	if n%10 == 1 {
		s.runChoker()
	}
	s.sendPEX(n%pexInterval != 5)
	if s.meta != nil && n%2 == 0 { // re-ask after silence or a failed hash
		for _, p := range s.peers {
			s.requestMetadata(p)
		}
	}
	if n%2 == 0 {
		s.requestLayers()
		s.expireLeafAsks()
	}
	s.mu.Unlock()
	s.connectCandidates(ctx)
}

// poke asks the loop to look at candidates soon, starting the loop if
// the swarm was idle. Caller must not hold s.mu.
func (s *Swarm) poke() {
	s.mu.Lock()
	ctx := s.runCtx
	start := ctx != nil && ctx.Err() == nil && !s.looping && !s.stopping && !s.checking
	if start && s.idleLocked() {
		start = false
	}
	if start {
		s.looping = true
		s.wg.Add(1) // under mu, before shutdown can wait
	}
	s.mu.Unlock()
	if start {
		go s.loop(ctx)
		if s.cfg.OnWake != nil {
			s.cfg.OnWake()
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Pause closes every connection and stops dialing; Resume undoes it.
func (s *Swarm) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = true
	for _, p := range s.peers {
		p.close(errors.New("paused"))
	}
}

// Resume lets the swarm dial and accept again.
func (s *Swarm) Resume() {
	s.mu.Lock()
	s.paused = false
	for _, c := range s.cands {
		c.nextTry = time.Time{}
	}
	s.mu.Unlock()
	s.poke()
}

// ParseInfo decodes a bencoded info dictionary from a .torrent file or a
// peer, leniently (see package torrentfile) and within the metadata size
// limit.
func ParseInfo(b []byte) (*metainfo.Info, error) {
	if len(b) > maxMetadataSize {
		return nil, fmt.Errorf("swarm: parse info: info is %d bytes, over the %d limit", len(b), maxMetadataSize)
	}
	info, err := torrentfile.ParseInfo(b)
	if err != nil {
		return nil, fmt.Errorf("swarm: parse info: %w", err)
	}
	return info, nil
}

// recheck verifies pieces missing from the resume data; any that pass were
// written and hashed before a crash but not yet recorded.
func (s *Swarm) recheck(ctx context.Context) {
	s.mu.Lock()
	if s.pick == nil {
		s.rechecked = true
		s.checking = false
		s.mu.Unlock()
		return
	}
	var missing []int
	for i := 0; i < s.pick.NumPieces(); i++ {
		if !s.pick.Have(i) {
			missing = append(missing, i)
		}
	}
	s.checking = true
	s.mu.Unlock()
	found := 0
	for _, i := range missing {
		if ctx.Err() != nil {
			break
		}
		ok, err := s.files.VerifyPiece(i)
		if err != nil || !ok {
			continue
		}
		found++
		s.mu.Lock()
		s.pick.MarkHave(i)
		s.have.Set(i)
		s.unsynced = append(s.unsynced, i)
		if s.cfg.CreditRecheck {
			s.closedTraffic = append(s.closedTraffic, Traffic{Down: s.layout.PieceSize(i)})
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.checking = false
	s.rechecked = ctx.Err() == nil
	s.seeding = s.pick.Complete()
	s.mu.Unlock()
	if found > 0 {
		s.logger().Info("recheck found pieces written before a crash", "pieces", found)
	}
}
