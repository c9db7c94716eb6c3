package swarm

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
)

// natNode is a node whose ordinary dials to the addresses in blocked fail
// as a strict NAT makes them fail, and whose Puncher records each punch:
// the initiator connects (on loopback nothing is in the way), the other
// end only notes it.
type natNode struct {
	*node
	mu      sync.Mutex
	blocked map[string]bool
	// silent holds addresses whose dials go unanswered for that long
	// (a router that drops SYNs), then fail; hanging counts them.
	silent  map[string]time.Duration
	hanging int
	// slow holds addresses whose dials connect after that long (a
	// reachable peer on a slow path); slowHS those whose dials connect
	// at once but get the peer's handshake that late.
	slow, slowHS map[string]time.Duration
	punches      []string // "addr initiator" or "addr target"
	log          *syncBuffer
}

// syncBuffer is a log sink that tests may read while swarms write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), s)
}

func startNATNode(t *testing.T, ctx context.Context, cfg Config) *natNode {
	n := &natNode{blocked: map[string]bool{}, silent: map[string]time.Duration{},
		slow: map[string]time.Duration{}, slowHS: map[string]time.Duration{}, log: &syncBuffer{}}
	d := &transport.Dialer{Dial: loopback.Dial}
	cfg.Logger = slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.Connect = func(ctx context.Context, addr string, out wire.Handshake) (*transport.Conn, wire.Handshake, error) {
		n.mu.Lock()
		blocked, silent, slow, slowHS := n.blocked[addr], n.silent[addr], n.slow[addr], n.slowHS[addr]
		n.mu.Unlock()
		switch {
		case blocked:
			return nil, wire.Handshake{}, errors.New("connect: connection refused (strict NAT)")
		case silent > 0:
			n.hang(1)
			defer n.hang(-1)
			sleepCtx(ctx, silent)
			return nil, wire.Handshake{}, errors.New("connect: i/o timeout (strict NAT)")
		case slow > 0:
			sleepCtx(ctx, slow)
		case slowHS > 0:
			sd := &transport.Dialer{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := loopback.Dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &lateConn{Conn: c, delay: slowHS}, nil
			}}
			return sd.Connect(ctx, addr, out)
		}
		return d.Connect(ctx, addr, out)
	}
	cfg.Punch = func(ctx context.Context, addr string, out wire.Handshake, initiator bool) (*transport.Conn, wire.Handshake, error) {
		n.mu.Lock()
		role := " target"
		if initiator {
			role = " initiator"
		}
		n.punches = append(n.punches, addr+role)
		n.mu.Unlock()
		if !initiator {
			return nil, wire.Handshake{}, nil
		}
		return d.Connect(ctx, addr, out)
	}
	n.node = startNode(t, ctx, cfg)
	return n
}

// hang counts the dials in progress that go unanswered.
func (n *natNode) hang(d int) {
	n.mu.Lock()
	n.hanging += d
	n.mu.Unlock()
}

func (n *natNode) hangingDials() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hanging
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// lateConn is a connection whose first read waits delay: the peer's
// handshake comes that late.
type lateConn struct {
	net.Conn
	delay time.Duration
	once  sync.Once
}

func (c *lateConn) Read(b []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.delay) })
	return c.Conn.Read(b)
}

func (n *natNode) block(addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.blocked[a] = true
	}
}

func (n *natNode) punchLog() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.punches...)
}

// viaOf is the Via of the node's connection to addr, and whether there is one.
func viaOf(s *Swarm, addr string) (string, bool) {
	for _, p := range s.Stats().Peers {
		if p.Addr == addr {
			return p.Via, true
		}
	}
	return "", false
}

// TestHolePunchThroughRelay: a seeder and a leecher that cannot dial each
// other, both connected to a relay that has none of the pieces, meet
// through a BEP 55 rendezvous: the leecher learns the seeder by PEX, its
// dial fails, it asks the relay, both ends get connect, exactly one
// dials, and the file arrives whole. Both ends name the relay.
func TestHolePunchThroughRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 1<<20+777, 64<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	relay := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	seed := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
	leech := startNATNode(t, ctx, Config{InfoHash: ih, Dir: t.TempDir()})
	seed.block(leech.addr)
	leech.block(seed.addr)
	relay.s.SetSkipped(map[int]bool{0: true}) // it has no piece and fetches none
	seed.s.AddPeers(relay.addr)
	leech.s.AddPeers(relay.addr)
	waitFor(t, "the leecher's download through the punched connection", 30*time.Second, func() bool {
		return leech.s.Complete()
	})
	if !bytes.Equal(readAll(t, filepath.Join(leech.s.cfg.Dir, mustInfo(t, info).Name)), readAll(t, path)) {
		t.Fatal("the leecher's file differs from the seeder's")
	}
	var initiators []*natNode
	for _, n := range []*natNode{seed, leech} {
		for _, p := range n.punchLog() {
			if strings.HasSuffix(p, " initiator") {
				initiators = append(initiators, n)
			}
		}
	}
	if len(initiators) != 1 {
		t.Fatalf("punches: seeder %v, leecher %v; want exactly one initiator", seed.punchLog(), leech.punchLog())
	}
	// The initiator dialled the other's listen address and names the
	// relay. (On loopback it dials from any port, so the other end sees an
	// address it was not told of; the engine dials from its listen port.)
	other := seed
	if initiators[0] == seed {
		other = leech
	}
	if via, ok := viaOf(initiators[0].s, other.addr); !ok || via != relay.addr {
		t.Errorf("initiator's connection to %s: via %q (connected %v), want %q", other.addr, via, ok, relay.addr)
	}
}

// TestRelayRefusals: a relay answers a rendezvous it cannot serve with the
// BEP 55 error code that says why, and answers at most relayBurst of them
// at once from one peer.
func TestRelayRefusals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, info := makeContent(t, 64<<10, 16<<10)
	ih := infoHash(info)
	relay := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	asker := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	asker.s.AddPeers(relay.addr)
	waitFor(t, "the relay's extension handshake", 10*time.Second, func() bool {
		asker.s.mu.Lock()
		defer asker.s.mu.Unlock()
		for _, p := range asker.s.peers {
			return p.holepunchID() != 0
		}
		return false
	})
	ask := func(target string) {
		asker.s.mu.Lock()
		defer asker.s.mu.Unlock()
		for _, p := range asker.s.peers {
			p.sendHolepunch(wire.Holepunch{Type: wire.HolepunchRendezvous, Addr: mustAddrPort(t, target)})
		}
	}
	ask("127.0.0.1:1")
	waitFor(t, "not connected", 5*time.Second, func() bool {
		return asker.log.count(wire.HolepunchNotConnected.String()) == 1
	})
	ask(relay.addr)
	waitFor(t, "no self", 5*time.Second, func() bool { return asker.log.count(wire.HolepunchNoSelf.String()) == 1 })
	for range 4 {
		ask("127.0.0.1:2")
	}
	// The first of the four takes the burst's last token and is refused;
	// wait for that refusal, then give any refusal past the burst the same
	// time to come.
	refused := func() int { return asker.log.count("hole punch relay refused") }
	waitFor(t, "the refusal within the relay's burst", 5*time.Second, func() bool { return refused() >= relayBurst })
	time.Sleep(500 * time.Millisecond)
	if n := refused(); n != relayBurst {
		t.Errorf("%d refusals for %d rendezvous in a row, want %d (the relay's burst)", n, 6, relayBurst)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestConnectFloodBounded: a peer that sends connect after connect makes
// us punch only within its budget (relayBurst at once), not once per
// message.
func TestConnectFloodBounded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, info := makeContent(t, 64<<10, 16<<10)
	ih := infoHash(info)
	flooder := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	victim := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	victim.s.AddPeers(flooder.addr)
	waitFor(t, "the victim's extension handshake", 10*time.Second, func() bool {
		flooder.s.mu.Lock()
		defer flooder.s.mu.Unlock()
		for _, p := range flooder.s.peers {
			return p.holepunchID() != 0
		}
		return false
	})
	flooder.s.mu.Lock()
	for _, p := range flooder.s.peers {
		for i := range 10 {
			p.sendHolepunch(wire.Holepunch{Type: wire.HolepunchConnect, Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i))})
		}
	}
	flooder.s.mu.Unlock()
	// Wait for the punches the budget allows, then give any punch past it
	// the same time to come.
	waitFor(t, "the punches within the budget", 5*time.Second, func() bool { return len(victim.punchLog()) >= relayBurst })
	time.Sleep(500 * time.Millisecond)
	if got := victim.punchLog(); len(got) != relayBurst {
		t.Errorf("10 connects in a row made %d punches (%v), want %d", len(got), got, relayBurst)
	}
}

// TestEarlyRendezvous: two peers behind routers that drop unsolicited
// packets (their dials to each other go unanswered for 30 s) meet
// through the relay while those dials still hang: the rendezvous is
// asked once a dial has gone earlyRendezvous unanswered, not when it
// fails.
func TestEarlyRendezvous(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 256<<10, 64<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	relay := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	seed := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
	leech := startNATNode(t, ctx, Config{InfoHash: ih, Dir: t.TempDir()})
	seed.silent[leech.addr] = 30 * time.Second
	leech.silent[seed.addr] = 30 * time.Second
	relay.s.SetSkipped(map[int]bool{0: true})
	seed.s.AddPeers(relay.addr)
	leech.s.AddPeers(relay.addr)
	waitFor(t, "a dial between the NATed peers", 20*time.Second, func() bool {
		return leech.hangingDials()+seed.hangingDials() > 0
	})
	waitFor(t, "the download through the punched connection", 20*time.Second, leech.s.Complete)
	if leech.hangingDials()+seed.hangingDials() == 0 {
		t.Fatal("the download ended after the unanswered dials gave up: the rendezvous waited for them")
	}
	if leech.log.count("hole punch rendezvous asked")+seed.log.count("hole punch rendezvous asked") == 0 {
		t.Fatal("neither peer asked for a rendezvous")
	}
}

// TestNoRendezvousForSlowHandshake: a dial whose connection opens at once
// but whose handshake comes back late (6 s) is a reachable peer: nobody
// asks for a rendezvous, and the dialled connection carries the file.
func TestNoRendezvousForSlowHandshake(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 256<<10, 64<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	relay := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	seed := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
	leech := startNATNode(t, ctx, Config{InfoHash: ih, Dir: t.TempDir()})
	seed.slowHS[leech.addr] = 6 * time.Second
	leech.slowHS[seed.addr] = 6 * time.Second
	relay.s.SetSkipped(map[int]bool{0: true})
	seed.s.AddPeers(relay.addr)
	leech.s.AddPeers(relay.addr)
	waitFor(t, "the download", 40*time.Second, leech.s.Complete)
	for name, n := range map[string]*natNode{"seeder": seed, "leecher": leech} {
		if c := n.log.count("hole punch rendezvous asked"); c != 0 {
			t.Errorf("the %s asked for %d rendezvous with a peer that answered\n%s", name, c, n.log.b.String())
		}
		if p := n.punchLog(); len(p) != 0 {
			t.Errorf("the %s punched %v", name, p)
		}
	}
}

// TestLateDialBesidePunch: a reachable peer whose connect takes 6 s (a
// slow path) gets a rendezvous after earlyRendezvous; the punched
// connection forms first, then the dialled ones complete. Both ends keep
// exactly one connection to each other, the same one, and the file
// arrives.
func TestLateDialBesidePunch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 1<<20, 64<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	relay := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: t.TempDir()})
	seed := startNATNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)})
	leech := startNATNode(t, ctx, Config{InfoHash: ih, Dir: t.TempDir()})
	seed.slow[leech.addr] = 6 * time.Second
	leech.slow[seed.addr] = 6 * time.Second
	relay.s.SetSkipped(map[int]bool{0: true})
	seed.s.AddPeers(relay.addr)
	leech.s.AddPeers(relay.addr)
	waitFor(t, "a punch", 30*time.Second, func() bool { return len(leech.punchLog())+len(seed.punchLog()) > 0 })
	// The slow dials end 6 s after they began, 3 s after the punch.
	time.Sleep(8 * time.Second)
	waitFor(t, "the download", 30*time.Second, leech.s.Complete)
	a, b := linksTo(leech.s, seed.s.cfg.PeerID), linksTo(seed.s, leech.s.cfg.PeerID)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("leecher holds %d connections to the seeder, seeder %d to the leecher; want 1 and 1", len(a), len(b))
	}
	if a[0] == b[0] {
		t.Errorf("both ends see the connection as %s: want one outgoing, one incoming", a[0])
	}
}

// linksTo lists the directions of s's live connections to the peer id.
func linksTo(s *Swarm, id [20]byte) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.peers {
		if p.peerID == id && !p.dead {
			out = append(out, map[bool]string{true: "outgoing", false: "incoming"}[p.outgoing])
		}
	}
	return out
}

// TestRendezvousGap: after a first rendezvous with an address another may
// be asked 15 s later (a punch that failed under load usually forms the
// second time), then after 30 s, then once a minute at most.
func TestRendezvousGap(t *testing.T) {
	for asks, want := range map[int]time.Duration{1: 15 * time.Second, 2: 30 * time.Second, 3: time.Minute, 4: time.Minute, 9: time.Minute} {
		if got := (rendezvousSent{asks: asks}).gap(); got != want {
			t.Errorf("gap after %d asks in a row: %v, want %v", asks, got, want)
		}
	}
}
