package engine

import (
	"bufio"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"

	"github.com/shoalp2p/shoal/engine/dhtindex"
	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/internal/netguard"
)

func sha1Key(s string) [20]byte { return sha1.Sum([]byte(s)) }

// maxHandshakes bounds the incoming handshakes in progress at once; a
// connection beyond it is closed at once. Each costs a goroutine (three
// during MSE), a 4 KiB sniffing buffer and the MSE state, for at most
// transport.HandshakeTimeout.
const maxHandshakes = 128

// acceptLoop takes every inbound TCP connection and routes it: a plain or
// MSE-encrypted BitTorrent handshake goes to its swarm, Shoal's overlay
// magic to the search overlay.
func (e *Engine) acceptLoop(ctx context.Context) error { return e.acceptFrom(ctx, e.ln) }

// acceptFrom is acceptLoop on one listener (IPv4 or IPv6).
func (e *Engine) acceptFrom(ctx context.Context, ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if e.deadPunched(c) {
			continue
		}
		e.admit(ctx, c, e.handshakes)
	}
}

// admit serves an accepted connection (TCP or uTP) on its own goroutine
// if one of slots is free, and closes it otherwise. TCP and uTP have
// separate slots, so a flood of uTP SYNs cannot lock TCP peers out.
func (e *Engine) admit(ctx context.Context, c net.Conn, slots chan struct{}) {
	e.admitWatched(ctx, c, slots, nil)
}

// servedWatch is how a hole punch that handed its connection to the
// accept path (servePunched) learns how it fares there.
type servedWatch struct {
	// sniffed is called once the wait for the connection's first byte is
	// over, with heard set if the byte came (or a dialing hole punch took
	// the connection).
	sniffed func(heard bool)
	// failed is called, before the connection is closed, when its
	// handshake failed or no swarm took it.
	failed func(c net.Conn)
}

// admitWatched is admit, telling w (unless nil) how the connection fares.
// It reports whether the connection was taken.
func (e *Engine) admitWatched(ctx context.Context, c net.Conn, slots chan struct{}, w *servedWatch) bool {
	select {
	case slots <- struct{}{}:
	default:
		c.Close() // too many handshakes at once: a flood, or a stall
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.serveConn(ctx, c, slots, w)
	}()
	return true
}

// startUTP puts a uTP socket on the UDP socket, which the DHT then reads
// through it (one port, demultiplexed: see package transport).
func (e *Engine) startUTP() error {
	var err error
	e.utp, e.pc, err = e.utpOn(e.pc, "engine")
	return err
}

// utpOn puts a uTP socket on pc and returns it with the packet conn the
// DHT reads through it; on failure (errors prefixed with prefix) pc comes
// back as it was, for the caller to close. startUTP and startUTP6 share it.
func (e *Engine) utpOn(pc net.PacketConn, prefix string) (*transport.UTP, net.PacketConn, error) {
	u, err := transport.NewUTP(pc)
	if err != nil {
		return nil, pc, fmt.Errorf("%s: %w", prefix, err)
	}
	e.logUTPBuffers(u)
	return u, u.PacketConn(), nil
}

// logUTPBuffers says once what socket buffers the kernel granted a uTP
// socket, and how to get the asked ones when it granted less.
func (e *Engine) logUTPBuffers(u *transport.UTP) {
	b := u.Buffers()
	if b.Short() {
		e.log.Info("uTP socket buffers smaller than asked; raise the sysctls net.core.rmem_max and wmem_max to give uTP more",
			"recv", b.Recv, "send", b.Send, "asked_recv", transport.UDPRecvBuffer, "asked_send", transport.UDPSendBuffer)
		return
	}
	e.log.Debug("uTP socket buffers", "recv", b.Recv, "send", b.Send)
}

// utpAcceptLoop takes every incoming uTP connection, as acceptLoop does
// TCP, unless uTP is off.
func (e *Engine) utpAcceptLoop(ctx context.Context) error { return e.utpAcceptFrom(ctx, e.utp) }

// utpAcceptFrom is utpAcceptLoop on one uTP socket (IPv4 or IPv6).
func (e *Engine) utpAcceptFrom(ctx context.Context, u *transport.UTP) error {
	stop := context.AfterFunc(ctx, func() { u.Close() })
	defer stop()
	for {
		c, err := u.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("engine: accept uTP: %w", err)
		}
		if e.currentUTPMode() == transport.UTPOff || e.policy.CheckHostPort(c.RemoteAddr().String()) != nil {
			c.Close()
			continue
		}
		e.admit(ctx, c, e.utpHandshakes)
	}
}

// dialUTP opens an outgoing uTP connection if the address policy allows.
func (e *Engine) dialUTP(ctx context.Context, addr string) (net.Conn, error) {
	if err := e.policy.CheckHostPort(addr); err != nil {
		return nil, err
	}
	u := e.utpFor(addr)
	if u == nil {
		return nil, errors.New("engine: no uTP socket")
	}
	return u.Dial(ctx, addr)
}

// currentUTPMode is the current uTP setting.
func (e *Engine) currentUTPMode() transport.UTPMode {
	return transport.UTPMode(e.utpMode.Load())
}

// bufConn is a net.Conn whose reads go through the buffer used to sniff it.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// serveConn runs the handshake of an accepted connection holding a slot
// of slots, frees the slot, then serves the connection, telling w
// (unless nil) how it fares (admitWatched).
func (e *Engine) serveConn(ctx context.Context, c net.Conn, slots chan struct{}, w *servedWatch) {
	// Stopping ends the wait for the first byte at once (the sniff below
	// only has the handshake deadline): a peer that sends nothing, as
	// after a botched hole punch, must not hold up the exit for it.
	stopSniff := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stopSniff()
	e.noteInbound(c.RemoteAddr())
	release := sync.OnceFunc(func() { <-slots })
	defer release()
	pc := e.punchIn.add(c)
	defer e.punchIn.remove(pc)
	if pc != nil && pc.state.Load() == pendingClaimed {
		release()
		if w != nil { // a dialing punch took it: not ours to judge
			w.sniffed(true)
		}
		e.punchIn.deliver(pc, c)
		return
	}
	br := bufio.NewReaderSize(c, 4<<10)
	c.SetReadDeadline(time.Now().Add(transport.HandshakeTimeout))
	magic := overlayMagic(br)
	if w != nil {
		w.sniffed(br.Buffered() > 0 || (pc != nil && pc.state.Load() == pendingClaimed))
	}
	if !pc.serve() { // a hole punch that dials claimed it (punchin.go)
		release()
		e.punchIn.deliver(pc, &bufConn{Conn: c, r: br})
		return
	}
	if magic {
		release()
		c.SetReadDeadline(time.Time{})
		if e.sn == nil { // not a supernode: answer probes and dial-backs only
			e.dialback.ServeConn(ctx, &bufConn{Conn: c, r: br}, e.advertised())
			return
		}
		e.sn.ServeConn(ctx, &bufConn{Conn: c, r: br})
		return
	}
	in, err := e.receiver.Receive(ctx, c, br, transport.HandshakeTimeout)
	release()
	if err != nil {
		e.logRefused(c, err)
		w.fail(c)
		c.Close()
		return
	}
	t := e.transferNamed(InfoHash(in.InfoHash))
	if t == nil || e.activeSwarm(t) == nil { // a library item that waits: its swarm is made now
		w.fail(c)
		c.Close()
		return
	}
	if err := t.swarm().AcceptConnAs(in.Conn, in.Reserved, in.InfoHash); err != nil {
		w.fail(c) // the swarm has closed it
	}
}

// fail calls w.failed (w may be nil).
func (w *servedWatch) fail(c net.Conn) {
	if w != nil && w.failed != nil {
		w.failed(c)
	}
}

// overlayMagic reports whether a connection opens with the overlay's
// magic (which never starts with 19, a BitTorrent handshake's first byte).
func overlayMagic(br *bufio.Reader) bool {
	first, err := br.Peek(1)
	if err != nil || first[0] == 19 {
		return false
	}
	b, err := br.Peek(len(overlay.Magic))
	return err == nil && string(b) == overlay.Magic
}

// logRefused logs why an incoming handshake failed: at Info for a plain
// peer that "require" turned away (the user chose that and may wonder),
// at Debug for the rest (scanners, timeouts, unknown torrents).
func (e *Engine) logRefused(c net.Conn, err error) {
	if errors.Is(err, transport.ErrPlainPeer) {
		e.log.Info("plain peer refused: encryption is required", "peer", c.RemoteAddr().String(), "err", err)
		return
	}
	e.log.Debug("incoming handshake failed", "peer", c.RemoteAddr().String(), "err", err)
}

// encryptionMode is the current Settings.Encryption.
func (e *Engine) encryptionMode() transport.Encryption {
	return transport.Encryption(e.encryption.Load())
}

// infoHashes lists every transfer's infohash: the SKEYs an MSE peer may use.
func (e *Engine) infoHashes() [][20]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([][20]byte, 0, len(e.transfers)+len(e.aliases))
	for ih := range e.transfers {
		out = append(out, ih)
	}
	for alt := range e.aliases {
		out = append(out, alt)
	}
	return out
}

// startDHT runs a Mainline DHT node (BEP 5) on the UDP socket.
func (e *Engine) startDHT() error {
	for _, h := range e.cfg.Bootstrap {
		if err := e.policy.CheckHostPort(h); err != nil {
			return fmt.Errorf("engine: bootstrap node %s: %w", h, err)
		}
	}
	cfg, ref := e.dhtConfig(e.pc, e.bootstrapNodes, net.IPv4(127, 0, 0, 1))
	if e.pc6 != nil { // IPv6 nodes go to the IPv6 server (BEP 32)
		cfg.DefaultWant = []krpc.Want{krpc.WantNodes}
	}
	var err error
	e.dht, err = e.startDHTServer(cfg, ref, "DHT")
	return err
}

// startDHTServer starts a DHT server made by dhtConfig (what names it in
// the error), ties ref to it and gives it the saved nodes of its address
// family. startDHT and startDHT6 share it.
func (e *Engine) startDHTServer(cfg *dht.ServerConfig, ref *dhtindex.ServerRef, what string) (*dht.Server, error) {
	s, err := dht.NewServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("engine: start %s: %w", what, err)
	}
	ref.Set(s)
	e.loadDHTNodesInto(s)
	return s, nil
}

// DHT query pacing of one node (its servers together): the library's
// default rate, but the library's default limiter is one for the whole
// process, so that every engine and DHT node of a process (a simulation,
// a test) would share one budget and crawl along at a fraction of it.
const (
	dhtSendRate  = 250 // queries per second
	dhtSendBurst = 25
)

func newDHTSendLimiter() *rate.Limiter { return rate.NewLimiter(dhtSendRate, dhtSendBurst) }

// dhtConfig is a DHT server's configuration on conn, with its own peer
// store and BEP 51 answers; loopback is its public IP under
// --loopback-only. The caller sets ref once the server exists.
func (e *Engine) dhtConfig(conn net.PacketConn, starting dht.StartingNodesGetter, loopback net.IP) (*dht.ServerConfig, *dhtindex.ServerRef) {
	cfg := dht.NewDefaultServerConfig()
	cfg.Conn = conn
	cfg.NoSecurity = true
	cfg.Passive = e.cfg.DHTReadOnly // BEP 43
	cfg.StartingNodes = starting
	ps := newPeerStore()
	ps.own = e.ownDHTEntries
	cfg.PeerStore = ps
	ref := &dhtindex.ServerRef{}
	cfg.Conn, cfg.OnQuery = e.bep51(ps).Attach(conn, ref, ps)
	if e.cfg.DHTReadOnly { // BEP 43: not even BEP 51 or BEP 33 answers
		cfg.OnQuery = func(*krpc.Msg, net.Addr) bool { return false }
	}
	cfg.Logger = alog.Default.FilterLevel(alog.Critical)
	if e.dhtSend == nil {
		e.dhtSend = newDHTSendLimiter()
	}
	cfg.SendLimiter = e.dhtSend
	if e.cfg.LoopbackOnly {
		cfg.PublicIP = loopback
	}
	return cfg, ref
}

// bootstrapNodes resolves the configured bootstrap list. Under a
// restricted address policy (loopback-only, --allow-net) the default is
// none, and every address must be allowed.
func (e *Engine) bootstrapNodes() ([]dht.Addr, error) {
	all, err := e.bootstrapAll()
	if e.pc6 != nil {
		all = ofFamily(all, false) // the IPv6 ones are the IPv6 server's
	}
	return all, err
}

// bootstrapAll resolves the whole bootstrap list, both families.
func (e *Engine) bootstrapAll() ([]dht.Addr, error) {
	hosts := e.cfg.Bootstrap
	if hosts == nil {
		if e.policy.Restricted() {
			return nil, nil
		}
		return dht.GlobalBootstrapAddrs("udp")
	}
	var out []dht.Addr
	for _, h := range hosts {
		if err := e.policy.CheckHostPort(h); err != nil {
			return nil, err
		}
		ua, err := net.ResolveUDPAddr("udp", h)
		if err != nil {
			continue
		}
		out = append(out, dht.NewAddr(ua))
	}
	return out, nil
}

// loadDHTNodesInto gives s the saved nodes of its address family.
func (e *Engine) loadDHTNodesInto(s *dht.Server) {
	ua, _ := s.Addr().(*net.UDPAddr)
	v6 := ua != nil && ua.IP.To4() == nil
	nodes, err := e.db.DHTNodes(context.Background())
	if err != nil {
		e.log.Warn("load DHT nodes", "err", err)
		return
	}
	for _, n := range nodes {
		ua, err := net.ResolveUDPAddr("udp", n.Addr)
		if err != nil || e.policy.CheckAddr(ua) != nil || (ua.IP.To4() == nil) != v6 {
			continue
		}
		ni := krpc.NodeInfo{ID: n.ID}
		ni.Addr.FromUDPAddr(ua)
		s.AddNode(ni)
	}
}

func (e *Engine) saveDHTNodes(ctx context.Context) {
	var nodes []state.DHTNode
	for _, s := range e.dhtServers() {
		for _, n := range s.Nodes() {
			nodes = append(nodes, state.DHTNode{ID: n.ID, Addr: n.Addr.String()})
		}
	}
	if len(nodes) == 0 {
		return
	}
	if err := e.db.SaveDHTNodes(ctx, nodes); err != nil {
		e.log.Warn("save DHT nodes", "err", err)
	}
}

// dhtLoop bootstraps, then keeps the routing table saved.
func (e *Engine) dhtLoop(ctx context.Context) error { return e.keepDHT(ctx, e.dht) }

// keepDHT bootstraps one DHT server, then bootstraps it again while it
// knows few nodes, and saves the routing tables every minute.
func (e *Engine) keepDHT(ctx context.Context, s *dht.Server) error {
	if _, err := s.BootstrapContext(ctx); err != nil && ctx.Err() == nil {
		e.log.Info("DHT bootstrap", "err", err)
	}
	e.noteDHTNodes()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	// A node with no bootstrap (a lone supernode, --bootstrap none) learns
	// its first nodes when they query it. Until it knows one, look every
	// 2 s, backing off to a minute, so the announces waiting for nodes
	// (noteDHTNodes) start within seconds rather than at the next tick.
	wait := 2 * time.Second
	firstNodes := time.NewTimer(wait)
	defer firstNodes.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-firstNodes.C:
			if !e.dhtHasNodes() {
				wait = min(2*wait, time.Minute)
				firstNodes.Reset(wait)
				continue
			}
			e.noteDHTNodes()
		case <-tick.C:
			if s.Stats().GoodNodes < 8 {
				s.BootstrapContext(ctx)
			}
			e.noteDHTNodes()
			e.saveDHTNodes(ctx)
		}
	}
}

// dhtCanAsk reports whether a DHT traversal has somewhere to start: a
// bootstrap list, or a node in a routing table. A node with neither
// (--bootstrap none, or loopback-only without one, before anyone has
// contacted it) skips its DHT announces until it has nodes.
func (e *Engine) dhtCanAsk() bool {
	noBootstrap := len(e.cfg.Bootstrap) == 0 && (e.cfg.Bootstrap != nil || e.policy.Restricted())
	return !noBootstrap || e.dhtHasNodes()
}

// dhtHasNodes reports whether a DHT server knows any node to ask.
func (e *Engine) dhtHasNodes() bool {
	for _, s := range e.dhtServers() {
		if s.NumNodes() > 0 {
			return true
		}
	}
	return false
}

// noteDHTNodes has the announcer run the DHT announces it skipped for want
// of nodes, now that the DHT may have some.
func (e *Engine) noteDHTNodes() {
	if e.dhtHasNodes() {
		e.ann.dhtUp()
		select {
		case e.dhtNodes <- struct{}{}:
		default:
		}
	}
}

// dhtPeers runs one get_peers traversal on each DHT server (IPv4 and
// IPv6 at once), announcing us if port > 0, and returns the distinct
// peers found.
func (e *Engine) dhtPeers(ctx context.Context, ih [20]byte, port int) []string {
	return e.dhtLookup(ctx, ih, port, 0, false).peers
}

// dhtSwarm is what a lookup learned of a torrent's swarm: its peers and,
// when nodes holding it support BEP 33, the scrape of its size.
type dhtSwarm struct {
	peers  []string
	scrape dhtScrape
	// What the traversals did, summed over the servers: nodes in their
	// routing tables at the start, and nodes queried.
	tableNodes, queried int
}

// dhtLookup is dhtPeers, but with settle > 0 each traversal returns
// settle after it first found peers, without waiting for its slowest
// queries: what the DHT indexer needs (peers to fetch metadata from, and
// a swarm size), soon. With scrape, the nodes that answered with peers are
// asked for their BEP 33 filters afterwards.
func (e *Engine) dhtLookup(ctx context.Context, ih [20]byte, port int, settle time.Duration, scrape bool) dhtSwarm {
	servers := e.dhtServers()
	found := make([]dhtSwarm, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		p := port
		if s == e.dht6 && port > 0 {
			p = e.port // a router's IPv4 port mapping means nothing on IPv6
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i].tableNodes = s.NumNodes()
			peers, holders, queried := dhtPeersStats(ctx, s, ih, p, settle)
			found[i].peers, found[i].queried = peers, queried
			if scrape {
				found[i].scrape = scrapeHolders(ctx, s, ih, holders)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	var out dhtSwarm
	for _, f := range found {
		out.scrape.merge(f.scrape)
		out.tableNodes, out.queried = out.tableNodes+f.tableNodes, out.queried+f.queried
		for _, a := range f.peers {
			if !seen[a] {
				seen[a] = true
				out.peers = append(out.peers, a)
			}
		}
	}
	return out
}

// dhtPeersOn is one server's get_peers traversal (announcing port, if
// any), ending when the traversal does, after 15 s, or (settle > 0) settle
// after the first peers arrived. It returns the peers and the first few
// nodes that answered with peers (the swarm's holders).
func dhtPeersOn(ctx context.Context, s *dht.Server, ih [20]byte, port int, settle time.Duration) ([]string, []krpc.NodeAddr) {
	peers, holders, _ := dhtPeersStats(ctx, s, ih, port, settle)
	return peers, holders
}

// dhtPeersStats is dhtPeersOn, also returning how many nodes the
// traversal queried (NumContacted: Announce.TraversalStats copies its
// counters without atomics, a data race while the traversal runs).
func dhtPeersStats(ctx context.Context, s *dht.Server, ih [20]byte, port int, settle time.Duration) ([]string, []krpc.NodeAddr, int) {
	var opts []dht.AnnounceOpt
	if port > 0 {
		opts = append(opts, dht.AnnouncePeer(dht.AnnouncePeerOpts{Port: port}))
	}
	a, err := s.AnnounceTraversal(ih, opts...)
	if err != nil {
		return nil, nil, 0
	}
	defer a.Close()
	seen := map[string]bool{}
	var out []string
	var holders holderSet
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	var settled <-chan time.Time
	for {
		select {
		case v, ok := <-a.Peers:
			if !ok {
				return out, holders.addrs, int(a.NumContacted())
			}
			if len(v.Peers) > 0 {
				holders.add(v.NodeInfo.Addr)
			}
			for _, p := range v.Peers {
				addr := net.JoinHostPort(p.IP.String(), strconv.Itoa(p.Port))
				if !seen[addr] && p.Port != 0 {
					seen[addr] = true
					out = append(out, addr)
				}
			}
			if settle > 0 && len(out) > 0 && settled == nil {
				settled = time.After(settle)
			}
		case <-settled:
			return out, holders.addrs, int(a.NumContacted())
		case <-timeout.C:
			return out, holders.addrs, int(a.NumContacted())
		case <-ctx.Done():
			return out, holders.addrs, int(a.NumContacted())
		}
	}
}

// startOverlay creates the search leaf and, unless the node is a leaf for
// good (Config.Leaf), its supernode: active from the start with
// Config.Supernode, otherwise started as a leaf that promotes itself when
// the overlay needs more supernodes and steps down when it has too few
// leaves (overlay.Promotion).
func (e *Engine) startOverlay() error {
	if e.cfg.Supernode && e.cfg.Leaf {
		return errors.New("engine: Config.Supernode and Config.Leaf both set")
	}
	e.dialback = e.newDialBack()
	if !e.cfg.Leaf {
		sn, err := overlay.NewSupernode(overlay.SupernodeConfig{
			Addr:      e.advertised(),
			IndexPath: filepath.Join(e.cfg.DataDir, "index.db"),
			Dial:      e.policy.Dial,
			Finder:    finder{e},
			Auto:      !e.cfg.Supernode,
			Promotion: overlay.Promotion{Reachable: e.knownReachable},
			DialBack:  e.dialback,
			Logger:    e.log.With("part", "supernode"),
		})
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		e.sn = sn
	}
	e.leaf = overlay.NewLeaf(overlay.LeafConfig{
		PeerAddr: e.advertised(),
		Dial:     e.policy.Dial,
		Finder:   finder{e},
		Local:    e.sn,
		Logger:   e.log.With("part", "leaf"),
	})
	return nil
}

// finder locates supernodes through the DHT key and the SQLite cache, and
// keeps the supernodes the overlay links to in that cache.
type finder struct{ e *Engine }

// FindSupernodes implements overlay.Finder.
func (f finder) FindSupernodes(ctx context.Context) ([]string, error) {
	e := f.e
	var found []string
	if e.dhtCanAsk() { // else a traversal could only fail (every few seconds while unlinked)
		found = e.dhtPeers(ctx, supernodeKey, 0)
	}
	if len(found) > 0 {
		if err := e.db.SaveSupernodes(ctx, found); err != nil && ctx.Err() == nil {
			e.log.Warn("cache supernodes", "err", err)
		}
	}
	cached, err := e.db.Supernodes(ctx, 32)
	if err != nil {
		return found, nil
	}
	seen := map[string]bool{}
	for _, a := range found {
		seen[a] = true
	}
	for _, a := range cached {
		if !seen[a] && e.policy.CheckHostPort(a) == nil {
			found = append(found, a)
		}
	}
	return found, nil
}

// RememberSupernodes implements overlay.SupernodeCache.
func (f finder) RememberSupernodes(ctx context.Context, addrs []string) {
	var ok []string
	for _, a := range addrs {
		if a != "" && f.e.policy.CheckHostPort(a) == nil {
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		return
	}
	if err := f.e.db.SaveSupernodes(ctx, ok); err != nil && ctx.Err() == nil {
		f.e.log.Warn("cache supernodes", "err", err)
	}
}

// ownDHTEntries is what our DHT node answers for itself to get_peers on
// ih: while we are an active supernode, our address under the supernode
// key. A leaf that bootstraps from a supernode's DHT node (or meets it in
// any traversal) then finds it at once; announce_peer stores our entry
// only at the nodes closest to the key, which in a small DHT may be the
// very leaf looking for it, and a traversal never asks itself.
func (e *Engine) ownDHTEntries(ih peer_store.InfoHash) []krpc.NodeAddr {
	if ih != peer_store.InfoHash(supernodeKey) || e.sn == nil || !e.sn.Active() {
		return nil
	}
	ap, err := netip.ParseAddrPort(e.supernodeDHTAddr())
	if err != nil || ap.Addr().IsUnspecified() {
		return nil
	}
	return []krpc.NodeAddr{{IP: ap.Addr().AsSlice(), Port: int(ap.Port())}}
}

// supernodeDHTAddr is the address others should dial for our supernode:
// the router's mapping, else the address our peers agree we have, else
// the address we listen on, each with the port we announce.
func (e *Engine) supernodeDHTAddr() string {
	if st, on := e.mapStatus(); on && st.External.IsValid() {
		return st.External.String()
	}
	if addr, _ := e.externalFromPeers(); addr != "" {
		return addr
	}
	return net.JoinHostPort(netguard.Host(e.advertised()), strconv.Itoa(e.announcePort()))
}

// supernodeAnnounceLoop publishes this node under the DHT key while it is
// a supernode (more often at first, then every five minutes). With no DHT
// node to ask it waits, without polling, for the DHT to find some.
func (e *Engine) supernodeAnnounceLoop(ctx context.Context) error {
	delay := time.Second
	for {
		changed := e.sn.RoleChanged()
		if !e.sn.Active() || !e.dhtCanAsk() {
			if !e.sn.Active() {
				delay = time.Second
			}
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
			case <-e.dhtNodes:
			}
			continue
		}
		e.dhtPeers(ctx, supernodeKey, e.announcePort())
		if len(e.dht.Nodes()) > 0 {
			delay = min(delay*2, 5*time.Minute)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-time.After(delay):
		}
	}
}

// deadPunched resets c, a connection our listener accepted, and reports
// true if it is dead one way: it comes from a hole punch target whose SYN
// met our listener, not a connecting socket, after our router had seen
// our refused attempt (punchIn.deadOneWay). Our reset is what frees the
// tuple: the router's entry, stuck in SYN_SENT2, takes a reset that
// answers the far end's last packet (its ACK), goes to CLOSE, and our
// next attempt's SYN then opens a fresh entry (seen with conntrack -E on
// the lab's routers: SYN_SENT, SYN_SENT2, CLOSE, then a new SYN_SENT
// that reached ESTABLISHED). The far end's connection gets the reset too,
// and it punches on (dialPunched, openHole). Served instead, the
// connection carried the far end's bytes only, until one end gave up on
// it, and the entry let no new attempt through.
func (e *Engine) deadPunched(c net.Conn) bool {
	ra, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return false
	}
	if !e.punchIn.deadOneWay(ra.AddrPort()) {
		return false
	}
	e.log.Debug("hole punch: the far end's SYN met our listener after our attempt was refused; reset (its answer is dead one way through our router)", "peer", ra.String())
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
	return true
}
