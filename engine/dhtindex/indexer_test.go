package dhtindex

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
)

// memSink records what the indexer hands over.
type memSink struct {
	mu      sync.Mutex
	indexed map[[20]byte]Torrent
	swarm   map[[20]byte]Health
}

func newMemSink() *memSink {
	return &memSink{indexed: map[[20]byte]Torrent{}, swarm: map[[20]byte]Health{}}
}

func (m *memSink) Touch(_ context.Context, ih [20]byte, swarm Health) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.indexed[ih]
	if ok {
		m.swarm[ih] = swarm
	}
	return ok, nil
}

func (m *memSink) Index(_ context.Context, t Torrent, swarm Health) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.indexed[t.InfoHash], m.swarm[t.InfoHash] = t, swarm
	return nil
}

func (m *memSink) Expire(context.Context, time.Time) error { return nil }

func (m *memSink) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.indexed)
}

// TestCrawlPolite: an indexer crawls a loopback DHT of real servers that
// answer BEP 51; it takes in every node's samples, asks each node once per
// interval, and stays within its query budget.
func TestCrawlPolite(t *testing.T) {
	const nodes = 12
	boot := startServer(t, NewResponder(ResponderConfig{Source: hashes(0)}))
	bootAddr := dht.NewAddr(boot.Addr().(*net.UDPAddr))
	want := map[[20]byte]bool{}
	var servers []*dht.Server
	for i := range nodes {
		store := make(listSource, 5)
		for j := range store {
			store[j] = [20]byte{byte(i), byte(j), 0xCC}
			want[store[j]] = true
		}
		servers = append(servers, startServer(t, NewResponder(ResponderConfig{Source: store, Interval: time.Hour}), bootAddr))
	}
	// A settled DHT: every table holds every node.
	for _, s := range append(servers, boot) {
		for _, o := range append(servers, boot) {
			if o != s {
				ni := krpc.NodeInfo{ID: o.ID()}
				ni.Addr.FromUDPAddr(o.Addr().(*net.UDPAddr))
				s.AddNode(ni)
			}
		}
	}
	crawler := startServer(t, nil, bootAddr)
	if _, err := crawler.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	const rate = 4.0
	ix := NewIndexer(IndexerConfig{Crawl: ServerCrawler{crawler}, Sink: newMemSink(), CrawlRate: rate, IntakePerIP: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ix.Run(ctx); close(done) }()
	start := time.Now()
	deadline := time.After(20 * time.Second)
	for got := 0; got < len(want); {
		select {
		case <-deadline:
			t.Fatalf("took in %d of %d sampled infohashes; stats %+v", got, len(want), ix.Stats())
		case <-time.After(200 * time.Millisecond):
		}
		ix.in.mu.Lock()
		got = 0
		for ih := range want {
			if ix.in.pending[ih] != nil || !ix.in.recent[ih].at.IsZero() {
				got++
			}
		}
		ix.in.mu.Unlock()
	}
	time.Sleep(time.Second)
	cancel()
	<-done
	st := ix.Stats()
	elapsed := time.Since(start).Seconds()
	if budget := int64(rate*elapsed) + 2; st.SampleQueries > budget {
		t.Errorf("%d queries in %.1fs, over the budget of %d", st.SampleQueries, elapsed, budget)
	}
	// 13 nodes answer, each at most once (interval 1 h; the empty boot
	// node's 5 min default).
	if st.SampleQueries > nodes+1 || st.SampleAnswers < nodes {
		t.Errorf("%d queries, %d answers: want each of %d nodes asked once", st.SampleQueries, st.SampleAnswers, nodes+1)
	}
	t.Logf("stats %+v in %.1fs", st, elapsed)
}

// TestFloodWithoutPeers: a flood of announces for infohashes nobody has
// costs bounded memory and indexes nothing, and one IP gets only its cap.
func TestFloodWithoutPeers(t *testing.T) {
	sink := newMemSink()
	ix := NewIndexer(IndexerConfig{Sink: sink, Fetchers: 2, IntakePerIP: 50,
		FindPeers: func(context.Context, [20]byte, []string) Swarm { return Swarm{} },
		Dial: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return nil, fmt.Errorf("no peer at %s", addr)
		}})
	now := time.Now()
	// One IP sends 10,000: only 50 are taken in.
	taken := 0
	for i := range 10000 {
		if ix.in.offer([20]byte{1, byte(i >> 8), byte(i)}, "198.51.100.1", "198.51.100.1:6881", now) {
			taken++
		}
	}
	if taken != 50 {
		t.Fatalf("one IP got %d infohashes in, want its cap of 50", taken)
	}
	// 100,000 from 20,000 IPs: the queue and the IP table stay bounded.
	for i := range 100000 {
		ip := fmt.Sprintf("10.%d.%d.%d", i%20000/65536, i%20000/256%256, i%256)
		ix.in.offer([20]byte{2, byte(i >> 16), byte(i >> 8), byte(i)}, ip, ip+":1", now)
	}
	pending, _, ips := ix.in.sizes()
	if pending > maxPending || ips > maxIPs {
		t.Fatalf("pending %d (cap %d), IPs %d (cap %d)", pending, maxPending, ips, maxIPs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ix.Run(ctx)
	st := ix.Stats()
	if sink.count() != 0 || st.Indexed != 0 {
		t.Fatalf("indexed %d from a flood of fakes", sink.count())
	}
	if st.FetchFailed+st.NoPeers == 0 {
		t.Fatalf("nothing was looked at: %+v", st)
	}
	t.Logf("stats %+v", st)
}
