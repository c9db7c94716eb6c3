// Package dhttest is a hand-made Mainline DHT client (BEP 5 KRPC over
// UDP) for tests: it sends queries a test spells out itself, such as
// announce_peer with BEP 33's seed flag or get_peers with scrape=1, from
// its own loopback IP.
package dhttest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"
)

// Peer is a hand-made DHT client on its own loopback IP (127.0.0.x:
// Linux answers the whole 127/8), so that the peers it announces count
// apart in BEP 33's filters of IPs.
type Peer struct {
	t    testing.TB
	conn *net.UDPConn
	to   *net.UDPAddr
	n    int
}

// NewPeer opens a client on ip that talks to the DHT node at to
// (host:port). It closes when the test ends.
func NewPeer(t testing.TB, ip net.IP, to string) *Peer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatalf("listen on %v: %v", ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	ua, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		t.Fatal(err)
	}
	return &Peer{t: t, conn: conn, to: ua}
}

// Ask sends query q with arguments a (the node ID is added) and returns
// the answer, failing the test after 10 s without one.
func (p *Peer) Ask(q string, a map[string]any) krpc.Msg {
	p.t.Helper()
	p.n++
	tid := fmt.Sprintf("t%d", p.n)
	id := make([]byte, 20)
	copy(id, p.conn.LocalAddr().String())
	a["id"] = string(id)
	b, err := bencode.Marshal(map[string]any{"t": tid, "y": "q", "q": q, "a": a})
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDP(b, p.to); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 4096)
	p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("%s: no answer: %v", q, err)
		}
		var m krpc.Msg
		if err := bencode.Unmarshal(buf[:n], &m); err != nil {
			p.t.Fatalf("%s: answer %q does not decode: %v", q, buf[:n], err)
		}
		if m.T == tid {
			return m
		}
	}
}

// Announce announces ih at port (a get_peers for the token, then
// announce_peer), with BEP 33's seed flag if seed.
func (p *Peer) Announce(ih [20]byte, port int, seed bool) {
	p.t.Helper()
	r := p.Ask("get_peers", map[string]any{"info_hash": string(ih[:])})
	if r.R == nil || r.R.Token == nil {
		p.t.Fatalf("get_peers answer without token: %+v", r)
	}
	a := map[string]any{"info_hash": string(ih[:]), "port": port, "token": *r.R.Token}
	if seed {
		a["seed"] = 1
	}
	if r := p.Ask("announce_peer", a); r.Y != "r" {
		p.t.Fatalf("announce_peer refused: %+v", r)
	}
}
