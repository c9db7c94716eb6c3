package choker

import "testing"

func TestTitForTatPrefersFastUploaders(t *testing.T) {
	c := New(2)
	peers := []Peer{
		{ID: 1, Interested: true, DownRate: 10, Credit: 1},
		{ID: 2, Interested: true, DownRate: 500, Credit: 1},
		{ID: 3, Interested: true, DownRate: 300, Credit: 1},
		{ID: 4, Interested: false, DownRate: 900, Credit: 1},
	}
	got := c.Round(peers, false)
	if !got[2] || !got[3] {
		t.Fatalf("unchoked %v, want the two fastest uploaders 2 and 3", got)
	}
	if got[4] {
		t.Fatal("uninterested peer unchoked")
	}
	if len(got) != 3 || !got[1] {
		t.Fatalf("unchoked %v, want peer 1 as the optimistic unchoke", got)
	}
}

func TestSeedRanksByUploadRate(t *testing.T) {
	c := New(1)
	peers := []Peer{
		{ID: 1, Interested: true, UpRate: 10, Credit: 1},
		{ID: 2, Interested: true, UpRate: 900, Credit: 1},
		{ID: 3, Interested: true, UpRate: 50, Credit: 1},
	}
	if got := c.Round(peers, true); !got[2] {
		t.Fatalf("seed unchoked %v, want peer 2 in the regular slot", got)
	}
}

// TestSeedTakesTurns: a seed's regular slots go round the interested
// peers, the longest waiting first, instead of staying with whoever
// downloads fastest.
func TestSeedTakesTurns(t *testing.T) {
	c := New(2)
	peers := []Peer{
		{ID: 1, Interested: true, UpRate: 900, Credit: 1},
		{ID: 2, Interested: true, UpRate: 800, Credit: 1},
		{ID: 3, Interested: true, UpRate: 10, Credit: 1},
		{ID: 4, Interested: true, UpRate: 5, Credit: 1},
		{ID: 5, Interested: true, UpRate: 1, Credit: 1},
		{ID: 6, Interested: true, UpRate: 0, Credit: 1},
	}
	served := map[uint64]int{}
	for round := 0; round < 6; round++ {
		got := c.Round(peers, true)
		if len(got) != 3 {
			t.Fatalf("round %d: seed unchoked %v, want 3 turns (2 regular slots and the optimistic one)", round, got)
		}
		if round == 0 && (!got[1] || !got[2] || !got[3]) {
			t.Fatalf("first round: seed unchoked %v, want the fastest, 1, 2 and 3, among equals", got)
		}
		if round == 1 && (got[1] || got[2] || got[3]) {
			t.Fatalf("second round: seed unchoked %v again, while 4 to 6 wait", got)
		}
		for id := range got {
			served[id]++
		}
	}
	for _, p := range peers {
		if served[p.ID] != 3 {
			t.Errorf("over 6 rounds of 3 turns, peer %d was unchoked %d times, want 3 like every other: %v", p.ID, served[p.ID], served)
		}
	}
}

// TestSlotGivenBetweenRoundsIsATurn: a peer given a free slot between
// rounds has had its turn; the seed serves one that waited instead.
func TestSlotGivenBetweenRoundsIsATurn(t *testing.T) {
	c := New(0)
	c.Slots = 0 // one turn a round
	one, two := Peer{ID: 1, Interested: true, Credit: 1}, Peer{ID: 2, Interested: true, Credit: 1}
	if got := c.Round([]Peer{one, two}, true); !got[1] {
		t.Fatalf("first round: seed unchoked %v, want peer 1 (first among equals)", got)
	}
	// Peer 3 connects and takes a free slot before the next round; listed
	// before peer 2, it would win the tie if its slot went unnoticed.
	one.Unchoked = true
	three := Peer{ID: 3, Interested: true, Credit: 1, Unchoked: true}
	if got := c.Round([]Peer{one, three, two}, true); !got[2] || len(got) != 1 {
		t.Fatalf("seed unchoked %v, want peer 2, the only one that has not had a turn", got)
	}
}

func TestFreeRiderRanksLast(t *testing.T) {
	c := New(1)
	peers := []Peer{
		{ID: 1, Interested: true, DownRate: 0, Credit: 0},
		{ID: 2, Interested: true, DownRate: 0, Credit: 2},
	}
	if got := c.Round(peers, false); !got[2] {
		t.Fatalf("unchoked %v, want the peer with credit in the regular slot", got)
	}
}

func TestOptimisticRotatesEveryThirdRound(t *testing.T) {
	c := New(0)
	c.Slots = 0
	var peers []Peer
	for i := uint64(1); i <= 20; i++ {
		peers = append(peers, Peer{ID: i, Interested: true, Credit: 1})
	}
	first := c.Round(peers, false)
	second := c.Round(peers, false)
	third := c.Round(peers, false)
	if len(first) != 1 || !equal(first, second) || !equal(second, third) {
		t.Fatalf("optimistic unchoke changed within its 30 s: %v %v %v", first, second, third)
	}
	changed := false
	for i := 0; i < 10 && !changed; i++ {
		next := c.Round(peers, false)
		c.Round(peers, false)
		c.Round(peers, false)
		changed = !equal(next, first)
	}
	if !changed {
		t.Fatal("optimistic unchoke never rotated")
	}
}

func equal(a, b map[uint64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
