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
