package swarm

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
)

// dialLeecher connects a hand-written leecher to addr: it handshakes with
// peer ID id, then discards whatever the other side sends. Messages are
// sent with the returned func.
func dialLeecher(t *testing.T, addr string, ih [20]byte, id [20]byte) (send func(wire.Message)) {
	t.Helper()
	c, err := loopback.Dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := wire.WriteHandshake(c, wire.Handshake{Reserved: wire.DefaultReserved(), InfoHash: ih, PeerID: id}); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, c)
	return func(m wire.Message) {
		if _, err := c.Write(wire.AppendMessage(nil, m)); err != nil {
			t.Errorf("raw leecher: %v", err)
		}
	}
}

// TestLostInterestGivesUpTheSlot: a peer that loses interest while unchoked
// is choked, so its slot goes to someone else and it does not come back
// as one more upload than the slots allow. Before, peers whose interest came
// and went (common while a leecher has few pieces) ended up all unchoked,
// and our upload was spread over every one of them: each got every piece
// at the same time as the others, and had nothing to trade with them.
func TestLostInterestGivesUpTheSlot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, info := makeContent(t, 1<<20, 64<<10)
	ih := infoHash(info)
	const slots, leechers = 2, 7
	seed := startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(16), UploadSlots: slots})
	sends := map[[20]byte]func(wire.Message){}
	for i := range leechers {
		var id [20]byte
		copy(id[:], fmt.Sprintf("-RW0001-rawleech%04d", i))
		sends[id] = dialLeecher(t, seed.addr, ih, id)
		sends[id](wire.Message{ID: wire.Interested})
	}
	// unchoked returns the raw leechers the seed unchokes and how many of
	// them it sees as interested; ready is whether it sees all of them,
	// all interested.
	unchoked := func() (ids [][20]byte, interested int, ready bool) {
		st := seed.s.Stats()
		all := 0
		for _, p := range st.Peers {
			if p.Interested {
				all++
			}
			if !p.Choked {
				ids = append(ids, p.PeerID)
				if p.Interested {
					interested++
				}
			}
		}
		return ids, interested, all == leechers
	}
	waitFor(t, "the slots to fill", 10*time.Second, func() bool {
		_, n, ready := unchoked()
		return ready && n == slots+1
	})
	for round := range 4 {
		ids, _, _ := unchoked()
		for _, id := range ids {
			sends[id](wire.Message{ID: wire.NotInterested})
		}
		waitFor(t, "the seed to see the lost interest", 10*time.Second, func() bool {
			for _, p := range seed.s.Stats().Peers {
				if slices.Contains(ids, p.PeerID) && p.Interested {
					return false
				}
			}
			return true
		})
		// The same message handler chokes them and refills the slots, so
		// both show as soon as the lost interest does.
		now, n, _ := unchoked()
		for _, id := range now {
			if slices.Contains(ids, id) {
				t.Fatalf("round %d: a peer that lost interest is still unchoked", round)
			}
		}
		if n != slots+1 {
			t.Fatalf("round %d: %d interested peers unchoked after others lost interest, want the %d slots refilled", round, n, slots+1)
		}
		for _, id := range ids {
			sends[id](wire.Message{ID: wire.Interested})
		}
		waitFor(t, "the interest to come back", 10*time.Second, func() bool {
			_, _, ready := unchoked()
			return ready
		})
		if ids, n, _ := unchoked(); n > slots+1 || len(ids) > slots+1 {
			t.Fatalf("round %d: %d peers unchoked, %d of them interested; at most %d slots (%d regular, 1 optimistic)",
				round, len(ids), n, slots+1, slots)
		}
	}
}
