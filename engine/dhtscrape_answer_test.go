package engine_test

import (
	"fmt"
	"math"
	"net"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// krpcPeer is a hand-made DHT client on its own loopback IP (127.0.0.x:
// Linux answers the whole 127/8), so that the peers it announces count
// apart in BEP 33's filters of IPs.
type krpcPeer struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	n    int
}

func newKRPCPeer(t *testing.T, ip net.IP, to string) *krpcPeer {
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
	return &krpcPeer{t: t, conn: conn, to: ua}
}

// ask sends query q with arguments a and returns the answer.
func (p *krpcPeer) ask(q string, a map[string]any) krpc.Msg {
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

// announce announces ih at port, with BEP 33's seed flag if seed.
func (p *krpcPeer) announce(ih [20]byte, port int, seed bool) {
	p.t.Helper()
	r := p.ask("get_peers", map[string]any{"info_hash": string(ih[:])})
	if r.R == nil || r.R.Token == nil {
		p.t.Fatalf("get_peers answer without token: %+v", r)
	}
	a := map[string]any{"info_hash": string(ih[:]), "port": port, "token": *r.R.Token}
	if seed {
		a["seed"] = 1
	}
	if r := p.ask("announce_peer", a); r.Y != "r" {
		p.t.Fatalf("announce_peer refused: %+v", r)
	}
}

// TestDHTScrapeAnswer: a Shoal DHT node answers BEP 33. Nine peers on
// nine loopback IPs announce one torrent to it, six with the seed flag. A
// get_peers with scrape=1 is answered with the library's token and two
// filters that estimate 6 seeds and 3 downloaders (values left out); a
// plain get_peers is answered as before (values, no filters); a torrent
// with no peers gets no filters. Without BEP 33 answers the node sent no
// filters at all.
func TestDHTScrapeAnswer(t *testing.T) {
	node, err := engine.StartDHTNode(engine.DHTNodeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	ih := [20]byte{0x33, 0x33, 1}
	for i := range 9 {
		p := newKRPCPeer(t, net.IPv4(127, 0, 0, byte(20+i)), node.Addr())
		p.announce(ih, 6881+i, i < 6)
	}
	asker := newKRPCPeer(t, net.IPv4(127, 0, 0, 50), node.Addr())
	// The library stores an announced peer on a goroutine of its own.
	var r krpc.Msg
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = asker.ask("get_peers", map[string]any{"info_hash": string(ih[:]), "scrape": 1})
		if r.R != nil && r.R.BFsd != nil && math.Round(r.R.BFsd.EstimateCount())+math.Round(r.R.BFpe.EstimateCount()) >= 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape filters counting 9 peers in the answer: %+v", r.R)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.R.Token == nil || *r.R.Token == "" {
		t.Fatal("scrape answer without the library's token")
	}
	if len(r.R.Values) != 0 {
		t.Fatalf("scrape answer carries %d values", len(r.R.Values))
	}
	seeds, downloaders := math.Round(r.R.BFsd.EstimateCount()), math.Round(r.R.BFpe.EstimateCount())
	if seeds != 6 || downloaders != 3 {
		t.Fatalf("filters estimate %v seeds and %v downloaders, want 6 and 3", seeds, downloaders)
	}
	plain := asker.ask("get_peers", map[string]any{"info_hash": string(ih[:])})
	if plain.R == nil || len(plain.R.Values) != 9 || plain.R.BFsd != nil || plain.R.BFpe != nil {
		t.Fatalf("plain get_peers answer changed: %+v", plain.R)
	}
	none := asker.ask("get_peers", map[string]any{"info_hash": string(make([]byte, 20)), "scrape": 1})
	if none.R == nil || none.R.BFsd != nil || none.R.BFpe != nil || none.R.Token == nil {
		t.Fatalf("scrape of a torrent without peers: %+v", none.R)
	}
}

// TestDHTScrapeAnswerLibtorrent: a python3-libtorrent seeder announces a
// trackerless torrent into a loopback DHT made of one Shoal node, with
// BEP 33's seed flag; the Shoal node's scrape answer then counts it as a
// seed (on loopback every peer has the one IP, so the count is 1).
// libtorrent 2.0's Python binding cannot send a scrape query itself (it
// has no dht_direct_request), so the query is hand-made.
func TestDHTScrapeAnswerLibtorrent(t *testing.T) {
	needBins(t, "mktorrent")
	boot := enginetest.Start(t, enginetest.Config(t))
	seedDir := t.TempDir()
	src := enginetest.RandomFile(t, seedDir, "Numbat Burrow Survey.bin", 128<<10)
	torrent, ih := mktorrent(t, src)
	_, err := peerclients.StartLibtorrentDHTSeeding(t, torrent, seedDir, boot.DHTAddr())
	need(t, err)
	asker := newKRPCPeer(t, net.IPv4(127, 0, 0, 51), boot.DHTAddr())
	var r krpc.Msg
	enginetest.WaitFor(t, "libtorrent's announce to count as a seed", 120*time.Second, func() bool {
		r = asker.ask("get_peers", map[string]any{"info_hash": string(ih[:]), "scrape": 1})
		return r.R != nil && r.R.BFsd != nil && math.Round(r.R.BFsd.EstimateCount()) == 1
	})
	// An empty filter estimates 0.5 by BEP 33's formula: look at its bits.
	if *r.R.BFpe != (krpc.ScrapeBloomFilter{}) {
		t.Fatalf("the libtorrent seeder counted as a downloader too (estimate %.2f)", r.R.BFpe.EstimateCount())
	}
}
