package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/dht/v2"
	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/dhtindex"
	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/portmap"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/tracker"
	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/internal/locks"
	"github.com/shoalp2p/shoal/internal/logflood"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// Config sets up an Engine.
type Config struct {
	// DataDir holds all state (shoal.db, the search index) and, unless
	// DownloadDir is set, downloads.
	DataDir string
	// DownloadDir, when set, is where downloads go, whatever Settings
	// say (--download-dir).
	DownloadDir string
	// DefaultDownloadDir is where downloads go when neither DownloadDir
	// nor Settings.DownloadDir names a folder (default DataDir/downloads;
	// the app passes the user's Downloads folder).
	DefaultDownloadDir string
	// Listen is host:port for TCP peers, the DHT (UDP) and the search
	// overlay; port 0 picks a free port. Without a host (":PORT") the node
	// listens on both IPv4 and IPv6 (127.0.0.1 and ::1 in loopback-only
	// mode), with a DHT server for each (BEP 32); with a host, on that
	// address only. Empty means ":PORT" with Settings.ListenPort, the port
	// this data folder used last time (a random one the first time).
	Listen string
	// Bootstrap lists DHT bootstrap nodes (host:port). Nil means the public
	// routers, except in loopback-only mode where it means none.
	Bootstrap []string
	// LoopbackOnly refuses every non-loopback address (tests and the demo):
	// the same as AllowNet 127.0.0.0/8 and ::1/128.
	LoopbackOnly bool
	// AllowNet, when not empty, confines every dial, send, listen and
	// accept to these networks (lab tests use the lab's ranges). With
	// LoopbackOnly, loopback is allowed too.
	AllowNet []netip.Prefix
	// PortMapping is PortMappingAuto (""), PortMappingOn or PortMappingOff:
	// whether to open the listen port on the router (UPnP, NAT-PMP or
	// PCP). Auto is on, except in loopback-only mode.
	PortMapping string
	// PortMappingLease is the mapping lifetime asked of the router (default
	// one hour); it is renewed at half of what the router grants.
	PortMappingLease time.Duration
	// Supernode forces the supernode role for search.
	Supernode bool
	// Leaf forces the leaf role: the node never becomes a supernode.
	// Without Supernode or Leaf the role is automatic.
	Leaf bool
	// DHTReadOnly makes the DHT node read-only (BEP 43): it asks, but
	// answers no query and marks its own "ro", so that other nodes leave
	// it out of their routing tables. For one-shot commands (a CLI
	// search), which would otherwise leave a dead entry in the tables of
	// every node they met once they exit.
	DHTReadOnly bool
	// UploadLimit and DownloadLimit (bytes/s) override the saved global limits.
	UploadLimit, DownloadLimit int64
	// Encryption, when set, overrides the saved Settings.Encryption for
	// this run.
	Encryption Encryption
	// UTP, when set, overrides Settings.UTP for this run (UTPOnly: outgoing
	// connections over uTP alone, for tests and measurements).
	UTP UTPMode
	// ShareFormat, when not nil, overrides Settings.ShareFormat for this
	// run (`shoal daemon --share-format`): what Share makes of a file or
	// folder.
	ShareFormat *TorrentFormat
	// RootsDelay is how long after Run starts the background work that
	// finds the BEP 52 pieces roots of older v1 items (shared before
	// Shoal kept them, or downloaded) waits, so that it never competes
	// with the start: 0 means one minute, a negative value never.
	RootsDelay time.Duration
	// Logger receives the engine's log; nil discards it.
	Logger *slog.Logger
}

// ErrClosed is returned by commands on an engine that has stopped.
var ErrClosed = errors.New("engine: closed")

// supernodeKey is the DHT key under which supernodes announce themselves.
var supernodeKey = sha1Key("shoal supernodes v1")

// Engine is one Shoal node. Create it with Open, start it with Run.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	policy netguard.Policy
	db     *state.DB
	peerID [20]byte
	ln     net.Listener
	pc     net.PacketConn
	// udp is the IPv4 (or only) UDP socket itself, under uTP's
	// demultiplexer (pc): hole punch openers set their TTL on it.
	udp net.PacketConn
	dht *dht.Server
	// startRel is when and how Run gives back its start's memory (zero:
	// the default, see memory.go).
	startRel startupRelease
	// ln6, pc6 and dht6 are the IPv6 stack of a dual-stack node (a
	// host-less listen address), on the same port; nil otherwise.
	ln6  net.Listener
	pc6  net.PacketConn
	dht6 *dht.Server
	utp6 *transport.UTP // uTP on pc6, which dht6 reads through it
	sn   *overlay.Supernode
	leaf *overlay.Leaf
	trk  *tracker.Client
	port int
	// pm is the router port mapper, nil while mapping is off; pmStop ends
	// the running one (guarded by pmMu).
	pm     atomic.Pointer[portmap.Mapper]
	pmMu   sync.Mutex
	pmStop context.CancelFunc
	// extPort is the router's mapped port (0 while none), advertised in
	// DHT and tracker announces and extension handshakes.
	extPort atomic.Int32
	// extAddr is the router's mapped external address (nil while none):
	// swarms take its IP as our own.
	extAddr atomic.Pointer[netip.AddrPort]
	// ipVotes gathers peers' BEP 10 yourip claims: our external IP when
	// the router maps nothing (yourip.go).
	ipVotes *swarm.IPVotes
	// inboundFrom is the first public address that connected to us.
	inboundFrom atomic.Pointer[string]
	// dialback answers probes and dial-back requests and asks supernodes
	// to test us; reach holds the last answer (dialback.go).
	dialback *overlay.DialBack
	reach    reachState
	lock     *dirLock

	responder *dhtindex.Responder // BEP 51, shared by the DHT servers
	dhtSend   *rate.Limiter       // paces the DHT servers' queries
	// announceGate paces tracker announces over all transfers, and
	// stopSlots bounds the "stopped" announces in flight.
	announceGate *rate.Limiter
	stopSlots    chan struct{}
	indexer      atomic.Pointer[dhtindex.Indexer] // while a supernode indexes the DHT

	mu        locks.Mutex
	runCtx    context.Context
	wg        sync.WaitGroup
	transfers map[InfoHash]*transfer
	// aliases maps a hybrid torrent's other 20-byte infohash (the v2 one
	// cut to 20 bytes, or the v1 one for a hybrid joined by btmh) to the
	// one its transfer is keyed by (alias.go).
	aliases   map[InfoHash]InfoHash
	jobs      []*ShareJob
	ratio     Ratio
	history   rateHistory
	banned    map[PeerKey]string
	credit    map[PeerKey]*creditPair
	stopped   chan struct{}
	recovered string // Recovered's explanation; set once by Open
	flood     *logflood.Handler
	settings  Settings
	upLimit   *rate.Limiter
	downLimit *rate.Limiter

	// encryption is Settings.Encryption as a transport.Encryption, read by
	// dialers and the accept loop without taking mu.
	encryption atomic.Uint32
	utpMode    atomic.Uint32 // a transport.UTPMode
	utp        *transport.UTP
	dialer     *transport.Dialer
	receiver   transport.Receiver
	handshakes chan struct{} // a slot per incoming handshake in progress
	punchIn    punchIn       // accepted connections a dialing hole punch claims
	// utpHandshakes is handshakes for uTP, apart so a flood of one
	// transport leaves the other open.
	utpHandshakes chan struct{}

	// changed is the channel Changed hands out, replaced when closed. It
	// has its own lock: announceChange runs on swarm hash workers, which
	// the engine may wait for while holding mu.
	changeMu sync.Mutex
	changed  chan struct{}

	// moveFails holds the automatic moves that failed (move.go): on the
	// engine, so that a transfer costs nothing for a rare event.
	moveFails moveFailures

	// act, ann, lib and leafDirty keep the cost of a large, mostly idle
	// library proportional to what is active (see activity.go,
	// announce.go, snapshot.go and share.go).
	act       activity
	ann       announcer
	lib       libraryCache
	leafDirty atomic.Bool
	leafKick  chan struct{}
	// rootsKick wakes rootsLoop when a download finishes (oldroots.go).
	rootsKick chan struct{}
	// dhtNodes is poked when a DHT server knows nodes (noteDHTNodes):
	// loops that wait for a DHT to ask (supernodeAnnounceLoop) wake on it.
	dhtNodes chan struct{}

	// queueKick wakes queueLoop, the one goroutine that applies the
	// queue (queue.go).
	queueKick chan struct{}
	// settingsKick wakes dhtIndexLoop after SetSettings.
	settingsKick chan struct{}
}

// Open binds the engine's sockets and loads its state. Nothing runs until Run.
func Open(cfg Config) (*Engine, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("engine: Config.DataDir is required")
	}
	if cfg.DefaultDownloadDir == "" {
		cfg.DefaultDownloadDir = filepath.Join(cfg.DataDir, "downloads")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Anyone on the network can cause a log line: at most a burst of each
	// message per minute gets through, the rest are counted.
	flood := logflood.New(cfg.Logger.Handler(), 0, 0)
	cfg.Logger = slog.New(flood)
	routeDHTLog(cfg.Logger.With("part", "dht"))
	e := &Engine{
		cfg:          cfg,
		log:          cfg.Logger,
		policy:       netguard.Policy{LoopbackOnly: cfg.LoopbackOnly, Allow: cfg.AllowNet, Source: netguard.SourceFor(cfg.Listen)},
		transfers:    make(map[InfoHash]*transfer),
		aliases:      make(map[InfoHash]InfoHash),
		credit:       make(map[PeerKey]*creditPair),
		stopped:      make(chan struct{}),
		changed:      make(chan struct{}),
		flood:        flood,
		leafKick:     make(chan struct{}, 1),
		rootsKick:    make(chan struct{}, 1),
		dhtNodes:     make(chan struct{}, 1),
		queueKick:    make(chan struct{}, 1),
		settingsKick: make(chan struct{}, 1),
		ipVotes:      swarm.NewIPVotes(),
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	e.lock = lock
	e.handshakes = make(chan struct{}, maxHandshakes)
	e.utpHandshakes = make(chan struct{}, maxHandshakes/2)
	e.dialer = &transport.Dialer{Dial: e.policy.Dial, Mode: e.encryptionMode, DialUTP: e.dialUTP, UTPMode: e.currentUTPMode}
	e.receiver = transport.Receiver{Mode: e.encryptionMode, SKeys: e.infoHashes}
	e.ann.kick = make(chan struct{}, 1)
	if err := e.open(); err != nil {
		e.closeResources()
		return nil, err
	}
	return e, nil
}

// open opens the state database and starts the engine's parts in order,
// stopping at the first that fails: each step may use what the ones
// before it set up (the settings and identity come from the database, the
// DHT servers run on the UDP sockets listen opened).
func (e *Engine) open() error {
	if err := e.openState(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	loadSettings := func() error { return e.loadSettings(context.Background()) }
	for _, step := range []func() error{
		loadSettings, e.loadIdentity, e.listen, e.startPortMap, e.startDHT, e.startDHT6, e.startOverlay,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	e.trk = &tracker.Client{Dial: e.policy.Dial, UserAgent: "Shoal/0.1"}
	e.announceGate, e.stopSlots = newAnnounceGate(), make(chan struct{}, stopConcurrency)
	return e.loadState()
}

// loadIdentity loads (or creates) the node's peer ID, Azureus style and kept
// across restarts so that other Shoal nodes' credit for us survives, and
// reads the persistent counters.
func (e *Engine) loadIdentity() error {
	ctx := context.Background()
	saved, ok, err := e.db.Setting(ctx, keyPeerID)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if ok && len(saved) == 40 {
		if id, err := ParseInfoHash(saved); err == nil {
			e.peerID = id
		}
	}
	if e.peerID == ([20]byte{}) {
		copy(e.peerID[:], "-SH0100-")
		rand.Read(e.peerID[8:])
		if err := e.db.SetSetting(ctx, keyPeerID, InfoHash(e.peerID).String()); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	var up, down int64
	up, down, err = e.db.Totals(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.ratio.Uploaded, e.ratio.Downloaded = up, down
	bans, skipped, err := e.db.Bans(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if skipped > 0 {
		e.log.Warn("skip stored bans that name no peer", "count", skipped)
	}
	e.banned = bans
	return nil
}

// listenAddr is Config.Listen, or else ":PORT" (both stacks) with the
// port this data folder used before (Settings.ListenPort), so port
// forwarding keeps working; at the first start the port is chosen at
// random (first is then true).
func (e *Engine) listenAddr() (addr string, first bool) {
	if e.cfg.Listen != "" {
		return e.cfg.Listen, false
	}
	port, ok, err := e.db.Setting(context.Background(), keyListenPort)
	if err != nil || !ok {
		return net.JoinHostPort("", strconv.Itoa(randomListenPort())), true
	}
	return net.JoinHostPort("", port), false
}

// listen binds TCP and UDP on one port number.
func (e *Engine) listen() error {
	var first bool
	e.cfg.Listen, first = e.listenAddr()
	err := e.bind()
	for try := 0; first && err != nil && try < 10; try++ { // a random port in use: pick another
		e.cfg.Listen = net.JoinHostPort("", strconv.Itoa(randomListenPort()))
		err = e.bind()
	}
	if err != nil {
		return err
	}
	if err := e.startUTP(); err != nil {
		return err
	}
	if err := e.startUTP6(); err != nil {
		return err
	}
	if err := e.db.SetSetting(context.Background(), keyListenPort, strconv.Itoa(e.port)); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.settings.ListenPort = e.port
	return nil
}

// bind opens the sockets: the listen host's (IPv4 for a host-less
// address), then, for a host-less address, the IPv6 ones on the same port
// (see bind6). A free port is picked again when UDP cannot have TCP's.
func (e *Engine) bind() error {
	host, family := netguard.Host(e.cfg.Listen), ""
	if host == "" {
		host, family = "0.0.0.0", "4"
		if e.cfg.LoopbackOnly {
			host = "127.0.0.1"
		}
	}
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		// Shared (SO_REUSEPORT): a hole punch dials from this port.
		ln, err := e.policy.ListenShared("tcp"+family, net.JoinHostPort(host, portOf(e.cfg.Listen)))
		if err != nil {
			return fmt.Errorf("engine: listen %s: %w", e.cfg.Listen, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := e.policy.ListenPacket("udp"+family, net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			err = e.bind6(port)
		}
		if err == nil {
			e.ln, e.pc, e.udp, e.port = ln, pc, pc, port
			return nil
		}
		ln.Close()
		if pc != nil {
			pc.Close()
		}
		lastErr = err
		if portOf(e.cfg.Listen) != "0" {
			break
		}
	}
	return fmt.Errorf("engine: listen udp: %w", lastErr)
}

// Addrs reports where this node listens, as others should dial it: its
// BitTorrent peer address (TCP, and the search overlay on the same port),
// its DHT address (UDP, same port), and its supernode address, empty
// unless the node is a supernode now.
func (e *Engine) Addrs() (peer, dhtAddr, supernode string) {
	peer = e.advertised()
	dhtAddr = net.JoinHostPort(netguard.Host(peer), strconv.Itoa(e.port))
	if e.sn != nil && e.sn.Active() {
		supernode = peer
	}
	return peer, dhtAddr, supernode
}

// advertised is the host:port other nodes should use for us.
func (e *Engine) advertised() string {
	host := netguard.Host(e.ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if !e.cfg.LoopbackOnly {
			host = outboundIP()
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(e.port))
}

// outboundIP guesses the address peers on the LAN/Internet see (no packet is
// sent: a UDP "connect" only picks a route).
func outboundIP() string {
	c, err := net.Dial("udp", "192.0.2.1:9") // TEST-NET-1, never routed
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// Run serves until ctx is cancelled, then saves state and releases
// everything. It may be called once.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	if e.runCtx != nil {
		e.mu.Unlock()
		return errors.New("engine: Run called twice")
	}
	e.runCtx = ctx
	e.mu.Unlock()
	e.applyQueue() // before anything starts: the queued wait
	e.mu.Lock()
	var starts []func()
	for _, t := range e.transfers {
		if start := e.startTransfer(t); start != nil {
			starts = append(starts, start)
		}
	}
	e.mu.Unlock()
	for _, start := range starts {
		start()
	}
	e.goRun(ctx, e.announceLoop)
	e.goRun(ctx, e.acceptLoop)
	e.goRun(ctx, e.utpAcceptLoop)
	e.goRun(ctx, e.dhtLoop)
	e.run6(ctx)
	e.goRun(ctx, e.flushLoop)
	e.goRun(ctx, e.queueLoop)
	e.goRun(ctx, e.sharesLoop)
	e.goRun(ctx, e.rootsLoop)
	if e.sn != nil {
		e.goRun(ctx, e.sn.Run)
		e.goRun(ctx, e.supernodeAnnounceLoop)
		e.goRun(ctx, e.dhtIndexLoop)
	}
	e.goRun(ctx, e.leaf.Run)
	e.goRun(ctx, e.reachLoop)
	e.goRun(ctx, e.releaseStartupMemory)
	if m := e.pm.Load(); m != nil {
		e.runMapper(ctx, m)
	}
	<-ctx.Done()
	e.ln.Close()
	if e.ln6 != nil {
		e.ln6.Close()
	}
	e.wg.Wait()
	e.waitSwarms()
	e.markAllActive()
	e.flush(context.Background())
	e.saveDHTNodes(context.Background())
	e.closeResources()
	close(e.stopped)
	return nil
}

// waitSwarms waits until every started swarm has stopped and closed its
// storage (each stops on its own when Run's context ends).
func (e *Engine) waitSwarms() {
	e.mu.Lock()
	var done []<-chan struct{}
	for _, t := range e.transfers {
		t.mu.Lock()
		if t.done != nil {
			done = append(done, t.done)
		}
		t.mu.Unlock()
	}
	e.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// Stopped is closed when Run has returned and state is saved.
func (e *Engine) Stopped() <-chan struct{} { return e.stopped }

// Changed returns a channel that is closed at the next event worth a new
// Snapshot without waiting for a poll: a download completing, a transfer
// held by the queue or let go from it, a new port-mapping status, or a new
// reachability verdict. Get the channel before taking the snapshot, then
// wait on it (and on a timer: progress is not announced).
func (e *Engine) Changed() <-chan struct{} {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()
	return e.changed
}

// announceChange closes the channel Changed returned and starts another.
func (e *Engine) announceChange() {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Engine) goRun(ctx context.Context, fn func(context.Context) error) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("engine component stopped", "err", err)
		}
	}()
}

func (e *Engine) closeResources() {
	if e.sn != nil {
		e.sn.Close()
	}
	closeStack(e.dht, e.utp, e.pc, e.ln)
	closeStack(e.dht6, e.utp6, e.pc6, e.ln6)
	if e.db != nil {
		e.db.Close()
	}
	e.lock.release()
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// closedErr is ErrClosed once Run's context has ended, so commands on a
// stopped (or stopping) engine say so instead of failing deep inside on a
// closed database or socket.
func (e *Engine) closedErr() error {
	e.mu.Lock()
	ctx := e.runCtx
	e.mu.Unlock()
	if ctx != nil && ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

var errBadPortMapping = errors.New(`engine: Config.PortMapping must be "", "on" or "off"`)

var errEmptyQuery = errors.New("engine: search: no words")
