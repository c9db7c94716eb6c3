package engine

import (
	"net"
	"testing"

	"github.com/anacrolix/dht/v2/krpc"
)

// filterOf is a BEP 33 filter holding the IPv4 addresses 198.51.100.from
// to 198.51.100.to-1.
func filterOf(from, to int) *krpc.ScrapeBloomFilter {
	var f krpc.ScrapeBloomFilter
	for i := from; i < to; i++ {
		f.AddIp(net.IPv4(198, 51, 100, byte(i)).To4())
	}
	return &f
}

// TestDHTScrapeUnion: the filters of several holders are ORed, so an IP
// that two nodes hold counts once; seeds and downloaders stay apart; no
// answer (or an answer without filters, as anacrolix/dht gives) leaves
// the count unknown; an empty filter counts 0, not BEP 33's formula's 0.5
// rounded up.
func TestDHTScrapeUnion(t *testing.T) {
	var s dhtScrape
	if s.add(nil) || s.add(&krpc.Return{}) {
		t.Fatal("an answer without filters counted as a scrape")
	}
	if _, _, ok := s.counts(); ok {
		t.Fatal("counts known with no scrape answer")
	}
	var only dhtScrape // seeds only: the empty downloaders filter counts 0
	only.add(&krpc.Return{BFsd: filterOf(0, 1), BFpe: filterOf(0, 0)})
	if sd, dl, _ := only.counts(); sd != 1 || dl != 0 {
		t.Fatalf("one seed and an empty filter counted %d seeds, %d downloaders", sd, dl)
	}
	s.add(&krpc.Return{BFsd: filterOf(0, 20), BFpe: filterOf(100, 110)})
	s.add(&krpc.Return{BFsd: filterOf(10, 30)}) // 10 seeds in common with the first
	var v6 dhtScrape                            // another DHT server's lookup
	v6.add(&krpc.Return{BFpe: filterOf(105, 120)})
	s.merge(v6)
	seeds, downloaders, ok := s.counts()
	if !ok || s.answers != 3 {
		t.Fatalf("ok %v answers %d", ok, s.answers)
	}
	// The BEP 33 estimate is within a few percent at these sizes.
	if seeds < 28 || seeds > 32 || downloaders < 18 || downloaders > 22 {
		t.Fatalf("estimated %d seeds and %d downloaders, want about 30 and 20", seeds, downloaders)
	}
}

// TestHolderSetBounded: a lookup asks at most maxScrapeHolders nodes for
// filters, each once, and never a node without a port.
func TestHolderSetBounded(t *testing.T) {
	var h holderSet
	for i := range 3 * maxScrapeHolders {
		na := krpc.NodeAddr{IP: net.IPv4(198, 51, 100, byte(i%10)), Port: 6881}
		h.add(na)
		h.add(na)
	}
	h.add(krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 200)})
	if len(h.addrs) != maxScrapeHolders {
		t.Fatalf("%d holders, want %d", len(h.addrs), maxScrapeHolders)
	}
	seen := map[string]bool{}
	for _, na := range h.addrs {
		if seen[na.String()] || na.Port == 0 {
			t.Fatalf("holder %v twice or without a port", na)
		}
		seen[na.String()] = true
	}
}

// TestSeedMarksBounded: seed flags read from announces the server never
// stores (bad tokens) are bounded, and a stored peer takes its mark once.
func TestSeedMarksBounded(t *testing.T) {
	s := newPeerStore()
	for i := range 5 * maxSeedMarks {
		s.MarkSeed([20]byte{byte(i), byte(i >> 8)}, krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 1), Port: 1000 + i})
	}
	if len(s.seedMarks) > maxSeedMarks {
		t.Fatalf("%d seed marks kept, at most %d", len(s.seedMarks), maxSeedMarks)
	}
	ih, na := [20]byte{0xAA}, krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 2), Port: 6881}
	s.MarkSeed(ih, na)
	s.AddPeer(ih, na)
	s.AddPeer(ih, krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 3), Port: 6881})
	seeds, downloaders, ok := s.ScrapeFilters(ih)
	if !ok || estimate(&seeds) != 1 || estimate(&downloaders) != 1 {
		t.Fatalf("ok %v, %d seeds, %d downloaders; want 1 and 1", ok, estimate(&seeds), estimate(&downloaders))
	}
	s.AddPeer(ih, na) // announced again, without the flag: a downloader now
	seeds, downloaders, _ = s.ScrapeFilters(ih)
	if estimate(&seeds) != 0 || estimate(&downloaders) != 2 {
		t.Fatalf("%d seeds, %d downloaders after the re-announce; want 0 and 2", estimate(&seeds), estimate(&downloaders))
	}
}
