package dhtindex

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	"github.com/anacrolix/torrent/bencode"
)

// listSource is a fixed store of infohashes.
type listSource [][20]byte

func (l listSource) SampleInfohashes(max int) ([][20]byte, int) {
	return slices.Clone(l[:min(len(l), max)]), len(l)
}

func hashes(n int) listSource {
	out := make(listSource, n)
	for i := range out {
		out[i][0], out[i][1] = byte(i>>8), byte(i)
		out[i][19] = 0xAB
	}
	return out
}

func TestReply(t *testing.T) {
	nodes := []krpc.NodeInfo{
		{ID: [20]byte{0x80}, Addr: krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 1}},
		{ID: [20]byte{0x01}, Addr: krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 2}},
		{ID: [20]byte{0x02}, Addr: krpc.NodeAddr{IP: net.IPv6loopback, Port: 3}},
	}
	v4src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	v6src := &net.UDPAddr{IP: net.IPv6loopback, Port: 9}
	q := func(want ...krpc.Want) krpc.Msg {
		return krpc.Msg{T: "xy", Y: "q", Q: "sample_infohashes", A: &krpc.MsgArgs{Target: [20]byte{0x01}, Want: want}}
	}
	for _, tc := range []struct {
		name          string
		store         listSource
		q             krpc.Msg
		src           net.Addr
		err           bool
		samples, num  int
		nodes, nodes6 int
		interval      int64 // seconds; 0 means 30 (small stores, and big ones walked fast)
	}{
		{name: "no arguments", q: krpc.Msg{T: "xy", Y: "q", Q: "sample_infohashes"}, src: v4src, err: true},
		{name: "empty store", q: q(), src: v4src, nodes: 2},
		{name: "small store", store: hashes(3), q: q(), src: v4src, samples: 3, num: 3, nodes: 2},
		{name: "big store", store: hashes(500), q: q(), src: v4src, samples: MaxSamples, num: 500, nodes: 2},
		// 24 infohashes walked 20 at a time within the 60 s interval.
		{name: "medium store", store: hashes(24), q: q(), src: v4src, samples: MaxSamples, num: 24, nodes: 2, interval: 50},
		{name: "over IPv6", store: hashes(1), q: q(), src: v6src, samples: 1, num: 1, nodes6: 1},
		{name: "want both", store: hashes(1), q: q(krpc.WantNodes, krpc.WantNodes6), src: v4src, samples: 1, num: 1, nodes: 2, nodes6: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewResponder(ResponderConfig{Source: tc.store, Interval: time.Minute})
			b, err := r.Reply([20]byte{0xEE}, nodes, tc.q, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			var m krpc.Msg
			if err := bencode.Unmarshal(b, &m); err != nil {
				t.Fatalf("answer %q does not decode: %v", b, err)
			}
			if m.T != "xy" {
				t.Fatalf("transaction %q", m.T)
			}
			if tc.err {
				if m.Y != "e" || m.E == nil {
					t.Fatalf("want an error, got %+v", m)
				}
				return
			}
			if m.Y != "r" || m.R == nil || m.R.Samples == nil || m.R.Num == nil || m.R.Interval == nil {
				t.Fatalf("incomplete answer %+v", m)
			}
			if got := len(*m.R.Samples); got != tc.samples {
				t.Errorf("samples: %d, want %d", got, tc.samples)
			}
			wantInterval := tc.interval
			if wantInterval == 0 {
				wantInterval = 30
			}
			if *m.R.Num != int64(tc.num) || *m.R.Interval != wantInterval {
				t.Errorf("num %d interval %d, want %d and %d", *m.R.Num, *m.R.Interval, tc.num, wantInterval)
			}
			if len(m.R.Nodes) != tc.nodes || len(m.R.Nodes6) != tc.nodes6 {
				t.Errorf("nodes %d nodes6 %d, want %d and %d", len(m.R.Nodes), len(m.R.Nodes6), tc.nodes, tc.nodes6)
			}
			if tc.nodes > 0 && m.R.Nodes[0].ID != [20]byte{0x01} {
				t.Errorf("first node %x is not the closest to the target", m.R.Nodes[0].ID)
			}
		})
	}
}

// startServer runs a real DHT server on loopback with the responder's hook.
func startServer(t *testing.T, r *Responder, boot ...dht.Addr) *dht.Server {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := dht.NewDefaultServerConfig()
	cfg.Conn = pc
	cfg.NoSecurity = true
	cfg.PublicIP = net.IPv4(127, 0, 0, 1)
	cfg.PeerStore = &peer_store.InMemory{}
	cfg.StartingNodes = func() ([]dht.Addr, error) { return boot, nil }
	ref := &ServerRef{}
	if r != nil {
		cfg.OnQuery = r.Hook(pc, ref)
	}
	s, err := dht.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref.Set(s)
	t.Cleanup(s.Close)
	return s
}

// rawQuery sends one hand-made KRPC datagram to addr and returns the
// decoded answer.
func rawQuery(t *testing.T, addr net.Addr, datagram string) krpc.Msg {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteTo([]byte(datagram), addr); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer to %q: %v", datagram, err)
	}
	var m krpc.Msg
	if err := bencode.Unmarshal(buf[:n], &m); err != nil {
		t.Fatalf("answer %q: %v", buf[:n], err)
	}
	return m
}

// TestSampleInfohashesOverUDP sends a hand-made BEP 51 query to a real
// anacrolix/dht server carrying the hook, and checks every field of the
// answer; the server's other queries still work on the same socket.
func TestSampleInfohashesOverUDP(t *testing.T) {
	store := hashes(5)
	r := NewResponder(ResponderConfig{Source: store})
	other := startServer(t, nil)
	s := startServer(t, r, dht.NewAddr(other.Addr().(*net.UDPAddr)))
	if _, err := s.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	id := "abcdefghij0123456789"
	m := rawQuery(t, s.Addr(), "d1:ad2:id20:"+id+"6:target20:"+id+"e1:q17:sample_infohashes1:t2:aa1:y1:qe")
	if m.Y != "r" || m.T != "aa" || m.R == nil {
		t.Fatalf("answer %+v", m)
	}
	if m.R.ID != s.ID() {
		t.Errorf("answer ID %x, want the server's %x", m.R.ID, s.ID())
	}
	if m.R.Samples == nil || !slices.Equal([][20]byte(*m.R.Samples), [][20]byte(store)) {
		t.Errorf("samples %x, want %x", m.R.Samples, store)
	}
	if m.R.Num == nil || *m.R.Num != 5 || m.R.Interval == nil || *m.R.Interval != int64(SmallStoreInterval/time.Second) {
		t.Errorf("num %v interval %v", m.R.Num, m.R.Interval)
	}
	if !slices.ContainsFunc(m.R.Nodes, func(n krpc.NodeInfo) bool { return n.ID == other.ID() }) {
		t.Errorf("nodes %v do not include the other server %x", m.R.Nodes, other.ID())
	}
	// A ping on the same socket is still the library's.
	p := rawQuery(t, s.Addr(), "d1:ad2:id20:"+id+"e1:q4:ping1:t2:bb1:y1:qe")
	if p.Y != "r" || p.T != "bb" || p.R == nil || p.R.ID != s.ID() {
		t.Fatalf("ping answer %+v", p)
	}
	// Without arguments: a protocol error, not silence.
	e := rawQuery(t, s.Addr(), "d1:q17:sample_infohashes1:t2:cc1:y1:qe")
	if e.Y != "e" || e.T != "cc" {
		t.Fatalf("answer to a query without arguments: %+v", e)
	}
}

// TestObserve checks that get_peers and announce_peer reach Observe with
// the infohash, sender and announced port.
func TestObserve(t *testing.T) {
	got := make(chan Query, 10)
	r := NewResponder(ResponderConfig{Observe: func(q Query) {
		select {
		case got <- q:
		default:
		}
	}})
	s := startServer(t, r)
	ih := "IIIIIIIIIIIIIIIIIIII"
	id := "abcdefghij0123456789"
	gp := rawQuery(t, s.Addr(), "d1:ad2:id20:"+id+"9:info_hash20:"+ih+"e1:q9:get_peers1:t2:aa1:y1:qe")
	if gp.R == nil || gp.R.Token == nil {
		t.Fatalf("get_peers answer %+v", gp)
	}
	tok := *gp.R.Token
	rawQuery(t, s.Addr(), "d1:ad2:id20:"+id+"9:info_hash20:"+ih+"4:porti6881e5:token"+
		itoa(len(tok))+":"+tok+"e1:q13:announce_peer1:t2:bb1:y1:qe")
	var qs []Query
	for len(qs) < 2 {
		select {
		case q := <-got:
			qs = append(qs, q)
		case <-time.After(5 * time.Second):
			t.Fatalf("observed only %+v", qs)
		}
	}
	if qs[0].Method != "get_peers" || qs[0].InfoHash != [20]byte([]byte(ih)) || qs[0].Peer != "" {
		t.Errorf("first observed %+v", qs[0])
	}
	if qs[1].Method != "announce_peer" || qs[1].Peer != "127.0.0.1:6881" || !qs[1].From.IsLoopback() {
		t.Errorf("second observed %+v", qs[1])
	}
}

func itoa(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

// blockingSource holds every draw until release is closed.
type blockingSource struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingSource) SampleInfohashes(max int) ([][20]byte, int) {
	b.entered <- struct{}{}
	<-b.release
	return hashes(3)[:min(3, max)], 3
}

// TestResponderDrawsWithoutLock: the store is asked with the Responder's
// lock released, so a slow store does not hold up Redraw (or another
// answer's bookkeeping) behind it.
func TestResponderDrawsWithoutLock(t *testing.T) {
	src := &blockingSource{entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := NewResponder(ResponderConfig{Source: src})
	q := krpc.Msg{T: "xy", Y: "q", Q: "sample_infohashes", A: &krpc.MsgArgs{Target: [20]byte{1}}}
	answered := make(chan error, 1)
	go func() {
		_, err := r.Reply([20]byte{0xEE}, nil, q, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
		answered <- err
	}()
	<-src.entered // the draw is in the store now
	redrawn := make(chan struct{})
	go func() {
		r.Redraw()
		close(redrawn)
	}()
	select {
	case <-redrawn:
	case <-time.After(10 * time.Second):
		close(src.release)
		t.Fatal("Redraw waited for the store's draw: the lock is held across the call into the store")
	}
	close(src.release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}
