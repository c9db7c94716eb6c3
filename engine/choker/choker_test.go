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
