package engine

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/internal/dhttest"
)

// TestDHTIndexAsksHolders: the supernode's routing table is full of dead
// nodes (sockets that never answer) nearer an infohash than the leaf, the
// one node holding its announce, as when short-lived nodes have come and
// gone. The supernode learns the infohash from the leaf's BEP 51 sample
// and must find its swarm by asking the leaf directly, then fetch the
// metadata from the seeder (a Shoal engine on no DHT at all, announced to
// the leaf alone) and index it.
func TestDHTIndexAsksHolders(t *testing.T) {
	sn := startDHTNode(t, Config{Supernode: true})
	_, snDHT, _ := sn.Addrs()
	leaf := startDHTNode(t, Config{Leaf: true, Bootstrap: []string{snDHT}})
	_, leafDHT, _ := leaf.Addrs()
	seeder := startDHTNode(t, Config{Bootstrap: []string{}})
	path := filepath.Join(t.TempDir(), "Wombat Burrow Survey.bin")
	if err := os.WriteFile(path, make([]byte, 96<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ih, err := seeder.ShareSync(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the leaf to join the supernode's table", 20*time.Second, func() bool { return sn.dht.NumNodes() > 0 })
	added := addDeadNodes(t, sn, ih, 8)
	seedAddr, _, _ := seeder.Addrs()
	_, port, _ := net.SplitHostPort(seedAddr)
	p, _ := strconv.Atoi(port)
	dhttest.NewPeer(t, net.IPv4(127, 0, 0, 1), leafDHT).Announce(ih, p, true)
	t.Logf("%d lying nodes in the supernode's table of %d", added, sn.dht.NumNodes())

	start := time.Now()
	waitUntil(t, "the supernode to index the leaf's sample", 90*time.Second, func() bool {
		st, _ := sn.DHTIndexStats()
		return st.Indexed >= 1
	})
	st, _ := sn.DHTIndexStats()
	t.Logf("indexed %v after the announce: %+v", time.Since(start).Round(time.Millisecond), st)
}

// addDeadNodes puts up to n lying nodes into e's routing table, with IDs
// that share a long prefix with ih: each answers every get_peers or
// find_node with eight new nodes nearer still that never answer (nothing
// listens at their addresses), as nodes full of stale contacts do. It
// returns how many the table took.
func addDeadNodes(t *testing.T, e *Engine, ih InfoHash, n int) int {
	t.Helper()
	before := e.dht.NumNodes()
	var next atomic.Uint32
	for i := range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		id := krpc.ID(ih)
		id[17] ^= byte(i + 1)
		go lie(c, id, &next)
		ni := krpc.NodeInfo{ID: id}
		ni.Addr.FromUDPAddr(c.LocalAddr().(*net.UDPAddr))
		e.dht.AddNode(ni)
	}
	return e.dht.NumNodes() - before
}

// lie answers the queries that come to c, as node id, with eight nodes
// nearer their target at addresses where nothing listens (127.0.1.x).
func lie(c *net.UDPConn, id krpc.ID, next *atomic.Uint32) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var q krpc.Msg
		if bencode.Unmarshal(buf[:n], &q) != nil || q.Y != "q" || q.A == nil {
			continue
		}
		target := q.A.InfoHash
		if q.Q == "find_node" {
			target = q.A.Target
		}
		r := krpc.Return{ID: id}
		for range 8 {
			k := next.Add(1)
			nid := krpc.ID(target)
			nid[18], nid[19] = byte(k>>8), byte(k)
			r.Nodes = append(r.Nodes, krpc.NodeInfo{ID: nid, Addr: krpc.NodeAddr{IP: net.IPv4(127, 0, 1, byte(k)).To4(), Port: 1024 + int(k)}})
		}
		b, _ := bencode.Marshal(krpc.Msg{T: q.T, Y: "r", R: &r})
		c.WriteToUDP(b, from)
	}
}
