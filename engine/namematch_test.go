package engine

import (
	"slices"
	"testing"
)

// TestNameMatch grades names against a query's words.
func TestNameMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query, name string
		want        int
	}{
		{"blue whale", "Blue Whale Song (1970).flac", matchPhrase},
		{"blue whale", "Whale of a Blue Day", matchWhole},
		{"blue whale", "Bluest Whales", matchPrefix},
		{"blue whale", "Blue Skies", matchNone},
		{"", "anything", matchNone},
		{"whale 1970", "whale.song.1970.mkv", matchWhole},
		{"Ærø", "ærø færge", matchPhrase}, // one whole word is its own phrase
		{"færg", "ærø færge", matchPrefix},
	} {
		if got := nameMatch(nameWords(tc.query), tc.name); got != tc.want {
			t.Errorf("nameMatch(%q, %q) = %d, want %d", tc.query, tc.name, got, tc.want)
		}
	}
}

// TestRankNameMatch: among live hits the better name match ranks first,
// even against a healthier swarm; a dead hit ranks below every live one
// however well its name matches; an empty query ranks by health alone.
func TestRankNameMatch(t *testing.T) {
	t.Parallel()
	e := &Engine{banned: map[PeerKey]string{}}
	hits := []Hit{
		{InfoHash: [20]byte{1}, Name: "Bluest Whales Compilation", DHT: true, Swarm: 50},
		{InfoHash: [20]byte{2}, Name: "Whale of a Blue Day", DHT: true, Swarm: 20},
		{InfoHash: [20]byte{3}, Name: "Blue Whale Song", DHT: true, Swarm: 3},
		{InfoHash: [20]byte{4}, Name: "Blue Whale Song (dead)", DHT: true},
		{InfoHash: [20]byte{5}, Name: "Blue Whale Song (remaster)", DHT: true, Swarm: 9},
	}
	names := func(hs []Hit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Name)
		}
		return out
	}
	ranked := slices.Clone(hits)
	e.RankHits("blue whale", ranked)
	want := []string{"Blue Whale Song (remaster)", "Blue Whale Song", "Whale of a Blue Day", "Bluest Whales Compilation", "Blue Whale Song (dead)"}
	if got := names(ranked); !slices.Equal(got, want) {
		t.Fatalf("ranked %q, want %q", got, want)
	}
	byHealth := slices.Clone(hits)
	e.RankHits("", byHealth)
	want = []string{"Bluest Whales Compilation", "Whale of a Blue Day", "Blue Whale Song (remaster)", "Blue Whale Song", "Blue Whale Song (dead)"}
	if got := names(byHealth); !slices.Equal(got, want) {
		t.Fatalf("ranked with no query %q, want %q", got, want)
	}
}
