package engine

import (
	"net"
	"slices"
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
	ps.fresh = nil // the walk alone (TestPeerStoreSampleShowsNewFirst has the rest)
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

// TestPeerStoreSampleShowsNewFirst: an infohash announced after the walk
// went past its place is in the very next sample, not one walk later.
func TestPeerStoreSampleShowsNewFirst(t *testing.T) {
	ps := newPeerStore()
	add := func(b0, b19 byte) [20]byte {
		var ih peer_store.InfoHash
		ih[0], ih[19] = b0, b19
		ps.AddPeer(ih, krpc.NodeAddr{IP: []byte{127, 0, 0, 1}, Port: 6881})
		return ih
	}
	for i := range 100 {
		add(byte(i*2), byte(i))
	}
	for range 10 { // show the 100 (50 new ones, then the walk)
		ps.SampleInfohashes(20)
	}
	if len(ps.fresh) != 0 {
		t.Fatalf("%d infohashes still new after 10 samples of 20 from 100", len(ps.fresh))
	}
	late := add(1, 200) // sorts near the start: the walk is far past it
	s, total := ps.SampleInfohashes(20)
	if total != 101 || len(s) != 20 {
		t.Fatalf("sample of %d, total %d; want 20 of 101", len(s), total)
	}
	if !slices.Contains(s, [20]byte(late)) {
		t.Fatal("an infohash announced since the last sample is not in the next one")
	}
	seen := map[[20]byte]bool{}
	for _, ih := range s {
		if seen[ih] {
			t.Fatalf("%x twice in one sample", ih)
		}
		seen[ih] = true
	}
}

// TestPeerStoreOwnEntriesLead: the node's own entries (an active
// supernode under the supernode key) lead the get_peers answer and are
// neither stored nor sampled.
func TestPeerStoreOwnEntriesLead(t *testing.T) {
	s := newPeerStore()
	self := krpc.NodeAddr{IP: net.ParseIP("198.51.100.1").To4(), Port: 6881}
	other := krpc.NodeAddr{IP: net.ParseIP("198.51.100.2").To4(), Port: 6882}
	key := peer_store.InfoHash(supernodeKey)
	s.own = func(ih peer_store.InfoHash) []krpc.NodeAddr {
		if ih == key {
			return []krpc.NodeAddr{self}
		}
		return nil
	}
	s.AddPeer(key, other)
	got := s.GetPeers(key)
	if len(got) != 2 || got[0].String() != self.String() || got[1].String() != other.String() {
		t.Fatalf("GetPeers(supernode key) = %v, want [%v %v]", got, self, other)
	}
	if got := s.GetPeers(peer_store.InfoHash{1}); len(got) != 0 {
		t.Fatalf("GetPeers(other key) = %v, want none", got)
	}
	if _, total := s.SampleInfohashes(10); total != 1 {
		t.Fatalf("store holds %d infohashes, want 1 (own entries are not stored)", total)
	}
}
