package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// udpTracker is an in-process BEP 15 tracker on a real 127.0.0.1 socket,
// written independently of the client's encoder.
type udpTracker struct {
	pc     net.PacketConn
	connID uint64

	mu        sync.Mutex
	drop      int    // drop this many incoming packets
	stray     bool   // send a wrong-transaction reply before each real one
	silent    bool   // never answer
	failMsg   string // answer announces with action 3
	peers     []byte
	connects  int
	announces int
	scrapes   int
	last      []byte // last announce request
}

// newUDPTracker starts a tracker; setup configures it before it serves.
func newUDPTracker(t *testing.T, setup ...func(*udpTracker)) *udpTracker {
	t.Helper()
	pc, err := netguard.Policy{LoopbackOnly: true}.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &udpTracker{pc: pc, connID: 0x1122334455667788,
		peers: []byte{127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 2, 0x1a, 0xe2}}
	for _, f := range setup {
		f(u)
	}
	t.Cleanup(func() { pc.Close() })
	go u.serve()
	return u
}

func (u *udpTracker) url() string { return "udp://" + u.pc.LocalAddr().String() + "/announce?k=v" }

func (u *udpTracker) serve() {
	buf := make([]byte, 2048)
	for {
		n, addr, err := u.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := u.handle(buf[:n]); reply != nil {
			u.mu.Lock()
			if u.stray {
				bogus := append([]byte(nil), reply...)
				bogus[7] ^= 0xff
				u.pc.WriteTo(bogus, addr)
			}
			u.mu.Unlock()
			u.pc.WriteTo(reply, addr)
		}
	}
}

func (u *udpTracker) handle(p []byte) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.drop > 0 {
		u.drop--
		return nil
	}
	if u.silent || len(p) < 16 {
		return nil
	}
	be := binary.BigEndian
	action, tx := be.Uint32(p[8:]), p[12:16]
	switch {
	case action == 0 && be.Uint64(p) == 0x41727101980:
		u.connects++
		return be.AppendUint64(append([]byte{0, 0, 0, 0}, tx...), u.connID)
	case action == 1 && len(p) >= 98:
		if be.Uint64(p) != u.connID {
			return append(append([]byte{0, 0, 0, 3}, tx...), "bad connection id"...)
		}
		u.announces++
		u.last = append([]byte(nil), p...)
		if u.failMsg != "" {
			return append(append([]byte{0, 0, 0, 3}, tx...), u.failMsg...)
		}
		r := append([]byte{0, 0, 0, 1}, tx...)
		r = be.AppendUint32(r, 1800) // interval
		r = be.AppendUint32(r, 3)    // leechers
		r = be.AppendUint32(r, 5)    // seeders
		return append(r, u.peers...)
	case action == 2 && be.Uint64(p) == u.connID:
		u.scrapes++
		return scrapeAnswer(tx, p[16:])
	}
	return nil
}

// scrapeAnswer answers a scrape of hashes with seeders = the hash's first
// byte, completed = 100 more, and 7 leechers.
func scrapeAnswer(tx, hashes []byte) []byte {
	r := append([]byte{0, 0, 0, 2}, tx...)
	for ; len(hashes) >= 20; hashes = hashes[20:] {
		r = binary.BigEndian.AppendUint32(r, uint32(hashes[0]))
		r = binary.BigEndian.AppendUint32(r, 100+uint32(hashes[0]))
		r = binary.BigEndian.AppendUint32(r, 7)
	}
	return r
}

func (u *udpTracker) counts() (connects, announces int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.connects, u.announces
}

func TestUDPAnnounce(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t, func(u *udpTracker) { u.stray = true })
	req := Request{InfoHash: binaryHash, PeerID: [20]byte{'p', 'e', 'e', 'r'}, Port: 6881,
		Uploaded: 7, Downloaded: 8, Left: 9, Event: EventCompleted, Key: 0xcafe}
	got, err := loopbackClient().Announce(context.Background(), u.url(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Interval: 30 * time.Minute, Leechers: 3, Seeders: 5,
		Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("127.0.0.2:6882")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	u.mu.Lock()
	p := u.last
	u.mu.Unlock()
	be := binary.BigEndian
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"downloaded", be.Uint64(p[56:]), 8}, {"left", be.Uint64(p[64:]), 9}, {"uploaded", be.Uint64(p[72:]), 7},
		{"event", uint64(be.Uint32(p[80:])), 1}, {"ip", uint64(be.Uint32(p[84:])), 0},
		{"key", uint64(be.Uint32(p[88:])), 0xcafe}, {"num_want", uint64(be.Uint32(p[92:])), 0xffffffff},
		{"port", uint64(be.Uint16(p[96:])), 6881},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if string(p[16:36]) != string(binaryHash[:]) || string(p[36:56]) != string(req.PeerID[:]) {
		t.Errorf("info_hash/peer_id mismatch: %x %x", p[16:36], p[36:56])
	}
	if opts, want := string(p[98:]), "\x02\x0d/announce?k=v\x00"; opts != want {
		t.Errorf("BEP 41 options %q, want %q", opts, want)
	}
}

func TestUDPConnIDReuseAndExpiry(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t)
	c := loopbackClient()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	announce := func() {
		t.Helper()
		if _, err := c.Announce(context.Background(), u.url(), Request{}); err != nil {
			t.Fatal(err)
		}
	}
	announce()
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	announce()
	if cn, an := u.counts(); cn != 1 || an != 2 {
		t.Fatalf("within a minute: %d connects, %d announces; want 1, 2", cn, an)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	announce()
	if cn, an := u.counts(); cn != 2 || an != 3 {
		t.Fatalf("after expiry: %d connects, %d announces; want 2, 3", cn, an)
	}
}

func TestUDPRetryAfterDrop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		warm     bool // announce once first, so the connection id is cached
		drop     int
		wantConn int
		minTime  time.Duration
	}{
		{"connect dropped", false, 1, 1, 100 * time.Millisecond},
		{"connect dropped twice", false, 2, 1, 300 * time.Millisecond},
		{"announce dropped", true, 1, 0, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUDPTracker(t)
			c := loopbackClient()
			c.UDPRetryBase = 100 * time.Millisecond
			if tc.warm {
				if _, err := c.Announce(context.Background(), u.url(), Request{}); err != nil {
					t.Fatal(err)
				}
			}
			u.mu.Lock()
			u.drop, u.connects, u.announces = tc.drop, 0, 0
			u.mu.Unlock()
			start := time.Now()
			r, err := c.Announce(context.Background(), u.url(), Request{})
			if err != nil || len(r.Peers) != 2 {
				t.Fatalf("got %+v, %v", r, err)
			}
			if cn, an := u.counts(); cn != tc.wantConn || an != 1 {
				t.Errorf("%d connects, %d announces; want %d, 1", cn, an, tc.wantConn)
			}
			if d := time.Since(start); d < tc.minTime {
				t.Errorf("answered in %v, want >= %v (15*2^n schedule scaled)", d, tc.minTime)
			}
		})
	}
}

func TestUDPTrackerError(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t, func(u *udpTracker) { u.failMsg = "torrent not registered" })
	_, err := loopbackClient().Announce(context.Background(), u.url(), Request{})
	if !errors.Is(err, ErrTrackerFailure) {
		t.Fatalf("err = %v", err)
	}
	if want := "tracker: udp announce: tracker: failure: torrent not registered"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestUDPTimeoutBounded(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t, func(u *udpTracker) { u.silent = true })
	c := loopbackClient()
	c.UDPRetryBase = 50 * time.Millisecond
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := c.Announce(context.Background(), u.url(), Request{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("took %v, want about 300ms", d)
	}
}

func TestUDPCancel(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t, func(u *udpTracker) { u.silent = true })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := loopbackClient().Announce(ctx, u.url(), Request{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestUDPPortUnreachable(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	c := loopbackClient()
	c.Timeout = 2 * time.Second
	_, err = c.Announce(context.Background(), "udp://"+addr, Request{})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a prompt socket error", err)
	}
}
