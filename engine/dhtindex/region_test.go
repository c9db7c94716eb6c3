package dhtindex

import (
	"context"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
)

// TestRegionSplit: with Region set, every ID belongs to exactly one
// supernode's part of the keyspace, each supernode's crawl targets lie in
// its own part, and due() offers only nodes of that part.
func TestRegionSplit(t *testing.T) {
	pos := make([][20]byte, 6)
	for i := range pos {
		rand.Read(pos[i][:])
	}
	for range 2000 {
		var id [20]byte
		rand.Read(id[:])
		owners := 0
		for _, p := range pos {
			if Owns(p, pos, id) {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("ID %x owned by %d supernodes, want exactly 1", id, owners)
		}
	}
	var nodes []krpc.NodeInfo
	for i := range 300 {
		n := krpc.NodeInfo{Addr: krpc.NodeAddr{IP: []byte{127, 0, 0, 1}, Port: 1000 + i}}
		rand.Read(n.ID[:])
		nodes = append(nodes, n)
	}
	asked := map[string]int{}
	for i, self := range pos {
		cs := newCrawlState(IndexerConfig{Crawl: fixedNodes{id: self, nodes: nodes}, CrawlRate: 1,
			Region: func() ([20]byte, [][20]byte) { return pos[i], pos }})
		for range 200 {
			if tg := cs.target(); !Owns(self, pos, tg) {
				t.Fatalf("supernode %d drew target %x outside its part", i, tg)
			}
		}
		for round := 0; ; round++ {
			due := cs.due(cs.target(), time.Now())
			if len(due) == 0 {
				break
			}
			for _, n := range due {
				if !Owns(self, pos, n.ID) {
					t.Fatalf("supernode %d offered node %x outside its part", i, n.ID)
				}
				asked[n.Addr.String()]++
			}
		}
	}
	if len(asked) != len(nodes) {
		t.Fatalf("%d of %d nodes asked by some supernode, want all", len(asked), len(nodes))
	}
	for a, n := range asked {
		if n != 1 {
			t.Fatalf("node %s asked by %d supernodes, want 1", a, n)
		}
	}
}

// fixedNodes is a Crawler with a fixed routing table and no network.
type fixedNodes struct {
	id    [20]byte
	nodes []krpc.NodeInfo
}

func (f fixedNodes) ID() [20]byte           { return f.id }
func (f fixedNodes) Nodes() []krpc.NodeInfo { return f.nodes }
func (f fixedNodes) SampleInfohashes(context.Context, *net.UDPAddr, [20]byte) (SampleAnswer, error) {
	return SampleAnswer{}, errNoSamples
}
