package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var (
	hashA = [20]byte{'A', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	hashB = [20]byte{'B', ' ', '+', '%', '&', 0, 0xff}
)

// scrapeFile bencodes one "files" entry.
func scrapeFile(h [20]byte, complete, downloaded, incomplete string) string {
	return "20:" + string(h[:]) + "d8:completei" + complete + "e10:downloadedi" + downloaded + "e10:incompletei" + incomplete + "ee"
}

// httpScrapeCases are the ParseHTTPScrape table and the fuzz seed corpus.
var httpScrapeCases = []struct {
	name    string
	body    string
	want    map[[20]byte]ScrapeResult
	wantErr error
}{
	{name: "two torrents", body: "d5:filesd" + scrapeFile(hashA, "5", "12", "3") + scrapeFile(hashB, "0", "0", "1") + "ee",
		want: map[[20]byte]ScrapeResult{hashA: {Seeders: 5, Leechers: 3, Completed: 12}, hashB: {Leechers: 1}}},
	{name: "no files", body: "d5:filesdee", want: map[[20]byte]ScrapeResult{}},
	{name: "files missing", body: "de", want: map[[20]byte]ScrapeResult{}},
	{name: "short key skipped, flags ignored", body: "d5:filesd3:abcd8:completei1eee5:flagsd20:min_request_intervali60eee",
		want: map[[20]byte]ScrapeResult{}},
	{name: "negative counts clamp", body: "d5:filesd" + scrapeFile(hashA, "-1", "-7", "-2") + "ee",
		want: map[[20]byte]ScrapeResult{hashA: {}}},
	{name: "failure reason", body: "d14:failure reason8:disallowe", wantErr: ErrTrackerFailure},
	{name: "files a list", body: "d5:filesleee", wantErr: ErrBadResponse},
	{name: "count a string", body: "d5:filesd" + "20:" + string(hashA[:]) + "d8:complete1:xeee", wantErr: ErrBadResponse},
	{name: "truncated", body: "d5:filesd20:" + string(hashA[:]), wantErr: ErrBadResponse},
	{name: "html", body: "<html>404</html>", wantErr: ErrBadResponse},
	{name: "empty", body: "", wantErr: ErrBadResponse},
}

func TestParseHTTPScrape(t *testing.T) {
	t.Parallel()
	for _, tc := range httpScrapeCases {
		got, err := ParseHTTPScrape([]byte(tc.body))
		if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// udpScrapeReply builds an action 2 reply with (seeders, completed,
// leechers) triples.
func udpScrapeReply(tx uint32, triples ...int32) string {
	b := udpHeader(actionScrape, tx)
	for _, v := range triples {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return string(b)
}

// udpScrapeCases are the ParseUDPScrape table and the fuzz seed corpus.
var udpScrapeCases = []struct {
	name    string
	pkt     string
	n       int
	want    []ScrapeResult
	wantErr error
}{
	{name: "two", pkt: udpScrapeReply(testTx, 5, 12, 3, 0, 0, 1), n: 2,
		want: []ScrapeResult{{Seeders: 5, Completed: 12, Leechers: 3}, {Leechers: 1}}},
	{name: "fewer than asked", pkt: udpScrapeReply(testTx, 1, 2, 3), n: 3, want: []ScrapeResult{{Seeders: 1, Completed: 2, Leechers: 3}}},
	{name: "none", pkt: udpScrapeReply(testTx), n: 1, want: []ScrapeResult{}},
	{name: "negative clamp", pkt: udpScrapeReply(testTx, -1, -1, -1), n: 1, want: []ScrapeResult{{}}},
	{name: "more than asked", pkt: udpScrapeReply(testTx, 1, 2, 3, 4, 5, 6), n: 1, wantErr: ErrBadResponse},
	{name: "partial entry", pkt: udpScrapeReply(testTx, 1, 2) + "\x00\x00", n: 1, wantErr: ErrBadResponse},
	{name: "error", pkt: string(udpHeader(actionError, testTx)) + "unknown torrent", n: 1, wantErr: ErrTrackerFailure},
	{name: "announce action", pkt: udpAnnounceReply(testTx, 1, 0, 0, ""), n: 1, wantErr: ErrBadResponse},
	{name: "wrong tx", pkt: udpScrapeReply(testTx+1, 1, 2, 3), n: 1, wantErr: ErrBadResponse},
	{name: "short", pkt: "\x00\x00\x00\x02", n: 1, wantErr: ErrBadResponse},
}

func TestParseUDPScrape(t *testing.T) {
	t.Parallel()
	for _, tc := range udpScrapeCases {
		got, err := ParseUDPScrape([]byte(tc.pkt), testTx, tc.n)
		if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestScrapeURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"http://t.test/announce", "http://t.test/scrape"},
		{"http://t.test:6969/x/announce.php?passkey=a%20b", "http://t.test:6969/x/scrape.php?passkey=a%20b"},
		{"https://t.test/announce?k=v#frag", "https://t.test/scrape?k=v"},
		{"udp://t.test:6969/announce", "udp://t.test:6969/announce"},
		{"http://t.test/a", ""},
		{"http://t.test/announce/x", ""},
		{"http://t.test/x%2Fannounce", ""},
		{"http://t.test/a%20b/announce", "http://t.test/a%20b/scrape"},
		{"http://t.test", ""},
		{"wss://t.test/announce", ""},
	}
	for _, tc := range cases {
		got, err := ScrapeURL(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("ScrapeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := ScrapeURL("http://t.test/a"); !errors.Is(err, ErrNoScrape) {
		t.Errorf("no convention: err = %v, want ErrNoScrape", err)
	}
}

// scrapeServer is an in-process HTTP scrape endpoint recording its queries.
type scrapeServer struct {
	mu      sync.Mutex
	paths   []string
	queries [][]string // info_hash values per request
}

func (s *scrapeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.queries = append(s.queries, r.URL.Query()["info_hash"])
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString("d5:filesd")
	for _, h := range r.URL.Query()["info_hash"] {
		var ih [20]byte
		copy(ih[:], h)
		b.WriteString(scrapeFile(ih, "1", "2", "3"))
	}
	b.WriteString("ee")
	w.Write([]byte(b.String()))
}

func TestHTTPScrapeBatches(t *testing.T) {
	t.Parallel()
	s := &scrapeServer{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	hashes := make([][20]byte, maxHTTPScrapeHashes+6)
	for i := range hashes {
		hashes[i] = [20]byte{byte(i), ' ', '+', 0xff}
	}
	got, err := loopbackClient().Scrape(context.Background(), srv.URL+"/announce", hashes...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(hashes) || got[hashes[69]] != (ScrapeResult{Seeders: 1, Completed: 2, Leechers: 3}) {
		t.Fatalf("got %d results, [69] = %+v", len(got), got[hashes[69]])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) != 2 || len(s.queries[0]) != maxHTTPScrapeHashes || len(s.queries[1]) != 6 {
		t.Errorf("batches %d, want 2 of %d and 6", len(s.queries), maxHTTPScrapeHashes)
	}
	if s.paths[0] != "/scrape" || s.queries[1][0] != string(hashes[maxHTTPScrapeHashes][:]) {
		t.Errorf("path %q, first hash of batch 2 %q", s.paths[0], s.queries[1][0])
	}
}

func TestHTTPScrapeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		status  int
		body    string
		wantErr error
	}{
		{"failure", 200, "d14:failure reason4:nopee", ErrTrackerFailure},
		{"404", 404, "not found", ErrHTTPStatus},
		{"garbage", 200, "li1ee", ErrBadResponse},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(&httpTracker{status: tc.status, body: tc.body})
		_, err := loopbackClient().Scrape(context.Background(), srv.URL+"/announce", hashA)
		srv.Close()
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	if _, err := loopbackClient().Scrape(context.Background(), "http://127.0.0.1:1/tracker", hashA); !errors.Is(err, ErrNoScrape) {
		t.Errorf("no scrape URL: err = %v", err)
	}
}

func TestUDPScrape(t *testing.T) {
	t.Parallel()
	u := newUDPTracker(t)
	hashes := make([][20]byte, maxUDPScrapeHashes+1)
	for i := range hashes {
		hashes[i] = [20]byte{byte(i), 7}
	}
	got, err := loopbackClient().Scrape(context.Background(), u.url(), hashes...)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hashes {
		want := ScrapeResult{Seeders: i, Completed: 100 + i, Leechers: 7}
		if got[h] != want {
			t.Fatalf("hash %d: %+v, want %+v", i, got[h], want)
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.connects != 1 || u.scrapes != 2 {
		t.Errorf("%d connects, %d scrapes; want 1 and 2 (one id, two batches)", u.connects, u.scrapes)
	}
}

func FuzzParseHTTPScrape(f *testing.F) {
	for _, tc := range httpScrapeCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseHTTPScrape(body)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTrackerFailure) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		// Each entry needs at least its 23-byte key.
		if len(got) > len(body)/23 {
			t.Fatalf("%d entries from %d bytes", len(got), len(body))
		}
		for _, r := range got {
			if r.Seeders < 0 || r.Leechers < 0 || r.Completed < 0 {
				t.Fatalf("negative count %+v", r)
			}
		}
	})
}

func FuzzParseUDPScrape(f *testing.F) {
	for _, tc := range udpScrapeCases {
		f.Add([]byte(tc.pkt), uint32(testTx), tc.n)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, tx uint32, n int) {
		got, err := ParseUDPScrape(pkt, tx, n)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTrackerFailure) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(pkt) < 8 || len(got) > n || len(got)*scrapeEntrySize != len(pkt)-8 {
			t.Fatalf("%d results from %d bytes for %d hashes", len(got), len(pkt), n)
		}
		for _, r := range got {
			if r.Seeders < 0 || r.Leechers < 0 || r.Completed < 0 {
				t.Fatalf("negative count %+v", r)
			}
		}
	})
}
