package engine

import (
	"testing"

	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
)

// TestPeerStoreSampleWalks: successive BEP 51 samples walk the store, so
// that ceil(total/max) of them show every infohash once, and the walk wraps
// around.
func TestPeerStoreSampleWalks(t *testing.T) {
	ps := newPeerStore()
	for i := range 50 {
		var ih peer_store.InfoHash
		ih[0], ih[19] = byte(i*5), byte(i)
		ps.AddPeer(ih, krpc.NodeAddr{IP: []byte{127, 0, 0, 1}, Port: 6881})
	}
	seen := map[[20]byte]int{}
	for range 3 {
		s, total := ps.SampleInfohashes(20)
		if total != 50 {
			t.Fatalf("total %d, want 50", total)
		}
		for _, ih := range s {
			seen[ih]++
		}
	}
	if len(seen) != 50 {
		t.Fatalf("3 samples of 20 showed %d distinct infohashes of 50", len(seen))
	}
	for ih, n := range seen {
		if n > 2 {
			t.Fatalf("%x shown %d times", ih, n)
		}
	}
	s, _ := ps.SampleInfohashes(20)
	if len(s) != 20 {
		t.Fatalf("after wrapping: %d samples, want 20", len(s))
	}
}
