package dhtindex

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
)

// TestCrawlDiscoversNodes: a crawl that knows one node, whose answers name
// no others, learns the rest of its part of the keyspace by find_node
// while nothing it knows is due, and samples them. Without discover it
// samples that one node only.
func TestCrawlDiscoversNodes(t *testing.T) {
	var nodes []krpc.NodeInfo
	for i := range 24 {
		var id [20]byte
		id[0], id[19] = byte(i*10), byte(i)
		nodes = append(nodes, krpc.NodeInfo{ID: id, Addr: krpc.NodeAddr{IP: net.IPv4(198, 51, 100, byte(1+i)), Port: 6881}})
	}
	f := &findingCrawler{known: nodes[:1], all: nodes, asked: map[string]bool{}}
	cs := newCrawlState(IndexerConfig{Crawl: f, CrawlRate: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
	defer cancel()
	cs.run(ctx, newIntake(1000))
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked) < 9 {
		t.Fatalf("sampled %d of %d nodes in 4.5 s (find_node asked %d times), want at least 9", len(f.asked), len(nodes), f.finds)
	}
	t.Logf("sampled %d of %d nodes; find_node asked %d times", len(f.asked), len(nodes), f.finds)
}

// findingCrawler knows a few nodes; sample answers name no nodes and ask
// for an hour's wait; find_node answers name the next 8 of all.
type findingCrawler struct {
	known []krpc.NodeInfo
	all   []krpc.NodeInfo

	mu    sync.Mutex
	asked map[string]bool
	finds int
}

func (f *findingCrawler) ID() [20]byte           { return [20]byte{0xff} }
func (f *findingCrawler) Nodes() []krpc.NodeInfo { return f.known }

func (f *findingCrawler) SampleInfohashes(_ context.Context, to *net.UDPAddr, _ [20]byte) (SampleAnswer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked[to.String()] = true
	return SampleAnswer{Samples: [][20]byte{}, Interval: time.Hour}, nil
}

func (f *findingCrawler) FindNodes(context.Context, *net.UDPAddr, [20]byte) ([]krpc.NodeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := (1 + 8*f.finds) % len(f.all)
	f.finds++
	var out []krpc.NodeInfo
	for i := range 8 {
		out = append(out, f.all[(start+i)%len(f.all)])
	}
	return out, nil
}
