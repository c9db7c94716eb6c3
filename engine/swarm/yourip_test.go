package swarm

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/engine/wire"
)

// TestIPVotes: an address counts only when at least two distinct public
// peers name it and it holds a majority; private, loopback and lab-LAN
// claims and voters are ignored, a voter's later claim replaces its
// earlier one, and votes expire.
func TestIPVotes(t *testing.T) {
	a := netip.MustParseAddr
	const us, liar = "203.0.113.12", "203.0.113.99"
	type vote struct{ voter, claimed string }
	cases := []struct {
		name  string
		votes []vote
		want  string // "" = no agreement
		n     int
	}{
		{"one peer is not enough", []vote{{"203.0.113.50", us}}, "", 0},
		{"the same peer twice is one vote", []vote{{"203.0.113.50", us}, {"203.0.113.50", us}}, "", 0},
		{"two peers agree", []vote{{"203.0.113.50", us}, {"203.0.113.51", us}}, us, 2},
		{"a tie is no majority", []vote{{"203.0.113.50", us}, {"203.0.113.51", us},
			{"203.0.113.52", liar}, {"203.0.113.53", liar}}, "", 0},
		{"majority over a liar", []vote{{"203.0.113.50", us}, {"203.0.113.51", us}, {"203.0.113.52", liar}}, us, 2},
		{"a changed claim replaces the old", []vote{{"203.0.113.50", liar}, {"203.0.113.51", us},
			{"203.0.113.50", us}}, us, 2},
		{"LAN, loopback and CGNAT voters and claims are ignored", []vote{{"198.18.2.20", us}, {"127.0.0.1", us},
			{"100.64.0.9", us}, {"203.0.113.50", "198.18.2.10"}, {"203.0.113.51", "127.0.0.1"}, {"203.0.113.52", us}}, "", 0},
		{"mapped IPv4 counts as IPv4", []vote{{"::ffff:203.0.113.50", "::ffff:" + us}, {"203.0.113.51", us}}, us, 2},
		{"IPv6 claims do not vote for IPv4", []vote{{"2001:db8::1", "2001:db8::9"}, {"203.0.113.51", us}}, "", 0},
	}
	for _, tc := range cases {
		v := NewIPVotes()
		for _, x := range tc.votes {
			v.Note(a(x.voter), a(x.claimed))
		}
		got, n, ok := v.Agreed(false)
		if tc.want == "" && ok || tc.want != "" && (!ok || got != a(tc.want) || n != tc.n) {
			t.Errorf("%s: Agreed = %v, %d, %v; want %q, %d", tc.name, got, n, ok, tc.want, tc.n)
		}
	}
}

func TestIPVotesExpireAndBound(t *testing.T) {
	now := time.Unix(1e9, 0)
	v := NewIPVotes()
	v.now = func() time.Time { return now }
	us := netip.MustParseAddr("203.0.113.12")
	v.Note(netip.MustParseAddr("203.0.113.50"), us)
	v.Note(netip.MustParseAddr("203.0.113.51"), us)
	if _, _, ok := v.Agreed(false); !ok {
		t.Fatal("two fresh votes do not agree")
	}
	now = now.Add(ipVoteTTL + time.Second)
	if _, _, ok := v.Agreed(false); ok || len(v.votes) != 0 {
		t.Fatalf("votes older than %v still count (%d kept)", ipVoteTTL, len(v.votes))
	}
	for i := 0; i < maxIPVoters+100; i++ {
		now = now.Add(time.Millisecond)
		v.Note(netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)}), us)
	}
	if len(v.votes) != maxIPVoters {
		t.Fatalf("%d voters kept, want at most %d", len(v.votes), maxIPVoters)
	}
	var nilBox *IPVotes
	nilBox.Note(netip.MustParseAddr("203.0.113.50"), us)
	if _, _, ok := nilBox.Agreed(false); ok {
		t.Fatal("a nil box agrees")
	}
}

// TestExtHandshakeVotes: the yourip of each peer's extension handshake
// reaches the node's ballot box, under the address the peer connected
// from.
func TestExtHandshakeVotes(t *testing.T) {
	v := NewIPVotes()
	s := &Swarm{cfg: Config{IPVotes: v}, cands: map[string]*candidate{}}
	hs, err := wire.ExtHandshake{M: map[string]int{}, YourIP: []byte{203, 0, 113, 12}, P: 6881}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"203.0.113.50", "203.0.113.51"} {
		if _, _, ok := v.Agreed(false); ok {
			t.Fatalf("agreed after %d handshakes", i)
		}
		if err := s.onExtHandshake(&peer{ip: ip}, hs); err != nil {
			t.Fatal(err)
		}
	}
	if got, n, ok := v.Agreed(false); !ok || got.String() != "203.0.113.12" || n != 2 {
		t.Fatalf("Agreed = %v, %d, %v after two peers said 203.0.113.12", got, n, ok)
	}
}

// TestPEXFlagsUse: what we say of each peer in added.f, and what we do
// with a PEX peer's flags: while seeding, a seed is not added.
func TestPEXFlagsUse(t *testing.T) {
	s := &Swarm{cands: map[string]*candidate{}, seeding: true}
	seed, leech := netip.MustParseAddrPort("203.0.113.50:1"), netip.MustParseAddrPort("203.0.113.51:2")
	s.pexCandidate(seed, wire.PEXSeed|wire.PEXReachable)
	s.pexCandidate(leech, wire.PEXReachable)
	if _, ok := s.cands[seed.String()]; ok {
		t.Error("a seed named by PEX is a candidate while we seed")
	}
	if c, ok := s.cands[leech.String()]; !ok || !c.nextTry.IsZero() {
		t.Errorf("a reachable leecher named by PEX: candidate %+v, %v; want one to dial now", c, ok)
	}
	p := &peer{encryption: "rc4", network: "utp", outgoing: true, theirExt: map[string]int{wire.ExtHolepunchName: 4}}
	if f := s.pexFlags(p); f != wire.PEXEncryption|wire.PEXUTP|wire.PEXHolepunch|wire.PEXReachable {
		t.Errorf("flags of an outgoing encrypted uTP peer with ut_holepunch = %#x", f)
	}
	if f := s.pexFlags(&peer{encryption: "none", network: "tcp"}); f != 0 {
		t.Errorf("flags of an incoming plain TCP peer = %#x, want 0", f)
	}
}

// TestOwnAddrDropped: our own address (listen port on a peer's yourip for
// us, on the IP the votes agree on, or on a local interface's IP) is no
// PEX candidate and no punch target; the same IP on another port is.
func TestOwnAddrDropped(t *testing.T) {
	v := NewIPVotes()
	v.Note(netip.MustParseAddr("203.0.113.50"), netip.MustParseAddr("203.0.113.77"))
	v.Note(netip.MustParseAddr("203.0.113.51"), netip.MustParseAddr("203.0.113.77"))
	var punched atomic.Int32
	s := &Swarm{
		cfg: Config{ListenPort: 6881, IPVotes: v, Punch: func(context.Context, string, wire.Handshake, bool) (*transport.Conn, wire.Handshake, error) {
			punched.Add(1)
			return nil, wire.Handshake{}, errors.New("test punch")
		}, Logger: slog.New(slog.DiscardHandler)},
		cands:   map[string]*candidate{},
		punches: map[string]*punch{},
		runCtx:  context.Background(),
	}
	relay := &peer{addr: "198.51.100.9:1", yourIP: netip.MustParseAddr("203.0.113.12")}
	s.peers = map[uint64]*peer{1: relay}
	own := []string{"203.0.113.12:6881", "203.0.113.77:6881", "127.0.0.1:6881"}
	for _, a := range own {
		ap := netip.MustParseAddrPort(a)
		s.pexCandidate(ap, wire.PEXHolepunch)
		if _, ok := s.cands[a]; ok {
			t.Errorf("our own address %s became a PEX candidate", a)
		}
		s.onConnect(relay, ap)
		if s.punches[a] != nil {
			t.Errorf("a connect toward our own address %s started a punch", a)
		}
	}
	other := netip.MustParseAddrPort("203.0.113.12:6882")
	s.pexCandidate(other, 0)
	if _, ok := s.cands[other.String()]; !ok {
		t.Error("a peer on our IP but another port is no PEX candidate")
	}
	s.onConnect(relay, other)
	if s.punches[other.String()] == nil {
		t.Error("a connect toward another peer started no punch")
	}
	s.wg.Wait()
	if n := punched.Load(); n != 1 {
		t.Errorf("%d punches ran, want 1", n)
	}
}

// TestMappedAddrIsOwn: the router's mapped external address (UPnP,
// NAT-PMP or PCP), known before any peer tells us our IP, is ours: no
// PEX candidate, no tracker or DHT candidate, no punch target. The same
// IP on another port is another peer (behind the same router).
func TestMappedAddrIsOwn(t *testing.T) {
	var mapped atomic.Pointer[netip.AddrPort]
	var extPort atomic.Int32
	ext := netip.MustParseAddrPort("198.51.100.7:40000")
	mapped.Store(&ext)
	extPort.Store(40000)
	var punched atomic.Int32
	stopped, cancel := context.WithCancel(context.Background())
	cancel() // the swarm's loop does not start on AddPeers
	s := &Swarm{
		cfg: Config{ListenPort: 6881, ExternalPort: &extPort, MappedAddr: &mapped,
			Punch: func(context.Context, string, wire.Handshake, bool) (*transport.Conn, wire.Handshake, error) {
				punched.Add(1)
				return nil, wire.Handshake{}, errors.New("test punch")
			}, Logger: slog.New(slog.DiscardHandler)},
		cands:   map[string]*candidate{},
		punches: map[string]*punch{},
		runCtx:  stopped,
	}
	relay := &peer{addr: "203.0.113.9:1"} // it sent no yourip
	s.peers = map[uint64]*peer{1: relay}
	for _, a := range []string{"198.51.100.7:40000", "198.51.100.7:6881"} {
		ap := netip.MustParseAddrPort(a)
		s.pexCandidate(ap, wire.PEXHolepunch)
		s.AddPeers(a)
		if _, ok := s.cands[a]; ok {
			t.Errorf("our mapped address %s became a candidate", a)
		}
		s.onConnect(relay, ap)
		if s.punches[a] != nil {
			t.Errorf("a connect toward our mapped address %s started a punch", a)
		}
	}
	other := "198.51.100.7:40001"
	s.AddPeers(other)
	if _, ok := s.cands[other]; !ok {
		t.Error("a peer behind our router on another port is no candidate")
	}
	mapped.Store(nil) // the mapping is gone: that address may be someone else's now
	s.AddPeers(ext.String())
	if _, ok := s.cands[ext.String()]; !ok {
		t.Error("with no mapping, the old mapped address is still taken as ours")
	}
	s.wg.Wait()
	if n := punched.Load(); n != 0 {
		t.Errorf("%d punches ran, want 0", n)
	}
}
