package dhtindex

import (
	"fmt"
	"net"
	"testing"

	"github.com/anacrolix/dht/v2/krpc"
)

// fullStore holds peers for every infohash: every scrape query gets
// filters.
type fullStore struct{}

func (fullStore) ScrapeFilters([20]byte) (s, d krpc.ScrapeBloomFilter, ok bool) { return s, d, true }
func (fullStore) MarkSeed([20]byte, krpc.NodeAddr)                              {}
func (fullStore) SeedPeers([20]byte) map[string]bool                            { return nil }

// TestScrapeFloodBounded: scrape queries the library never answers (a
// flood from spoofed addresses) keep at most maxPendingScrapes answers
// waiting, and a write that answers none of them goes out unchanged.
func TestScrapeFloodBounded(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	conn, _ := NewResponder(ResponderConfig{}).Attach(pc, &ServerRef{}, fullStore{})
	sc := conn.(*scrapeConn)
	for i := range 10 * maxPendingScrapes {
		src := &net.UDPAddr{IP: net.IPv4(198, 51, 100, byte(i)), Port: 1000 + i}
		sc.expect(src, fmt.Sprint(i), [20]byte{1})
	}
	if n := len(sc.pending); n > maxPendingScrapes {
		t.Fatalf("%d scrape answers pending, at most %d", n, maxPendingScrapes)
	}
	if _, ok := sc.withFilters([]byte("d1:t1:x1:y1:re"), &net.UDPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 1}); ok {
		t.Fatal("a write to an address with no scrape pending was changed")
	}
}

// TestDropSeeds: noseed=1 leaves the seeds out of the values, but an
// answer whose values are all seeds stays whole (empty, it would carry
// neither values nor nodes).
func TestDropSeeds(t *testing.T) {
	a := krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 1).To4(), Port: 1}
	b := krpc.NodeAddr{IP: net.IPv4(198, 51, 100, 2).To4(), Port: 2}
	seeds := map[string]bool{a.String(): true}
	r := &krpc.Return{Values: []krpc.NodeAddr{a, b}}
	if !dropSeeds(r, seeds) || len(r.Values) != 1 || r.Values[0].String() != b.String() {
		t.Fatalf("values %v, want only %v", r.Values, b)
	}
	r = &krpc.Return{Values: []krpc.NodeAddr{a}}
	if dropSeeds(r, seeds) || len(r.Values) != 1 {
		t.Fatalf("all-seed answer changed to %v", r.Values)
	}
}
