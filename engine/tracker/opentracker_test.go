package tracker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shoalp2p/shoal/internal/peerclients"
)

// startOpentracker runs the real opentracker on 127.0.0.1 (TCP and UDP on
// one port) with hashes whitelisted, and returns the port.
func startOpentracker(t *testing.T, hashes ...[20]byte) int {
	t.Helper()
	tr, err := peerclients.StartOpentracker(t, hashes...)
	if errors.Is(err, peerclients.ErrNotInstalled) {
		t.Skipf("%v; skipping real-tracker test", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tr.Port
}

func TestOpentracker(t *testing.T) {
	hashHTTP := [20]byte{0x5a, 0x01}
	hashUDP := [20]byte{0x5a, 0x02}
	port := startOpentracker(t, hashHTTP, hashUDP)
	cases := []struct {
		name     string
		url      string
		hash     [20]byte
		unlisted error
	}{
		{"http", fmt.Sprintf("http://127.0.0.1:%d/announce", port), hashHTTP, ErrTrackerFailure},
		{"udp", fmt.Sprintf("udp://127.0.0.1:%d/announce", port), hashUDP, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seeder, leecher := loopbackClient(), loopbackClient()
			ctx := context.Background()
			first := Request{InfoHash: tc.hash, PeerID: [20]byte{'A'}, Port: 40001, Event: EventStarted, Key: 1}
			if _, err := seeder.Announce(ctx, tc.url, first); err != nil {
				t.Fatalf("first announce: %v", err)
			}
			second := Request{InfoHash: tc.hash, PeerID: [20]byte{'B'}, Port: 40002, Left: 1000, Event: EventStarted, Key: 2}
			r, err := leecher.Announce(ctx, tc.url, second)
			if err != nil {
				t.Fatalf("second announce: %v", err)
			}
			if !slices.Contains(r.Peers, ap("127.0.0.1:40001")) {
				t.Errorf("second client's peers %v lack the first (127.0.0.1:40001)", r.Peers)
			}
			if r.Seeders != 1 || r.Leechers != 1 || r.Interval <= 0 {
				t.Errorf("response %+v: want 1 seeder, 1 leecher, an interval", r)
			}
			checkScrape(t, leecher, tc.url, tc.hash, ScrapeResult{Seeders: 1, Leechers: 1})
			done := second
			done.Left, done.Downloaded, done.Event = 0, 1000, EventCompleted
			if _, err := leecher.Announce(ctx, tc.url, done); err != nil {
				t.Fatalf("completed announce: %v", err)
			}
			checkScrape(t, leecher, tc.url, tc.hash, ScrapeResult{Seeders: 2, Completed: 1})
			for _, stop := range []Request{first, done} {
				stop.Event = EventStopped
				if _, err := leecher.Announce(ctx, tc.url, stop); err != nil {
					t.Fatalf("stopped announce: %v", err)
				}
			}
			checkScrape(t, leecher, tc.url, tc.hash, ScrapeResult{Completed: 1})
			// Not whitelisted: HTTP gets a failure reason; opentracker's UDP
			// side answers with a bare 8-byte action 1 header instead.
			unlisted := second
			unlisted.InfoHash = [20]byte{0xee}
			if _, err := leecher.Announce(ctx, tc.url, unlisted); !errors.Is(err, tc.unlisted) {
				t.Errorf("non-whitelisted hash: err = %v, want %v", err, tc.unlisted)
			}
		})
	}
}

// checkScrape scrapes hash through url and compares the counts.
func checkScrape(t *testing.T, c *Client, url string, hash [20]byte, want ScrapeResult) {
	t.Helper()
	got, err := c.Scrape(context.Background(), url, hash)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	if got[hash] != want {
		t.Errorf("scrape %+v, want %+v", got[hash], want)
	}
}
