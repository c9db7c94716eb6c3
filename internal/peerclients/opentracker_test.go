package peerclients

import (
	"net/url"
	"testing"
	"time"
)

// TestScrapeHashWithSpace: an infohash holding byte 0x20 (written "+" by
// url.QueryEscape) is announced and then found by Scrape.
func TestScrapeHashWithSpace(t *testing.T) {
	ih := [20]byte{0x20, '+', 0xff, 'a', 0x20}
	tr, err := StartOpentracker(t, ih)
	need(t, err)
	q := "info_hash=" + percentEncode(ih[:]) + "&" + url.Values{"peer_id": {"-PC0001-spacespacesp"}, "port": {"6881"},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"started"}, "compact": {"1"}}.Encode()
	resp, err := loopbackHTTP().Get(tr.AnnounceURL + "?" + q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tr.WaitSeeders(ih, 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
