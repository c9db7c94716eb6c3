package tracker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
)

func loopbackClient() *Client {
	return &Client{Dial: netguard.Policy{LoopbackOnly: true}.Dial, UserAgent: "Shoal/test", Timeout: 5 * time.Second}
}

// binaryHash exercises every escaping class: unreserved, reserved, NUL, high bytes.
var binaryHash = [20]byte{'a', 'Z', '0', '-', '.', '_', '~', ' ', '+', '%', '&', '=', '/', '?', 0, 0x7f, 0x80, 0xff, '#', ':'}

func TestEscapeBinary(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []byte
		want string
	}{
		{binaryHash[:], "aZ0-._~%20%2B%25%26%3D%2F%3F%00%7F%80%FF%23%3A"},
		{[]byte{}, ""},
		{[]byte("ABCxyz789"), "ABCxyz789"},
	}
	for _, tc := range cases {
		got := escapeBinary(tc.in)
		if got != tc.want {
			t.Errorf("escapeBinary(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := url.QueryUnescape(got)
		if err != nil || back != string(tc.in) {
			t.Errorf("round trip of %q: %q, %v", tc.in, back, err)
		}
	}
}

// httpTracker is an in-process HTTP tracker recording what it receives.
type httpTracker struct {
	mu     sync.Mutex
	query  url.Values
	rawQ   string
	ua     string
	status int
	body   string
}

func (h *httpTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.query, h.rawQ, h.ua = r.URL.Query(), r.URL.RawQuery, r.UserAgent()
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
	w.Write([]byte(h.body))
}

func TestHTTPAnnounceQuery(t *testing.T) {
	t.Parallel()
	h := &httpTracker{body: "d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req := Request{InfoHash: binaryHash, PeerID: [20]byte{'-', 'S', 'H', '0', '0', '0', '1', '-', 0xde, 0xad},
		Port: 6881, Uploaded: 1, Downloaded: 22, Left: 333, Event: EventStarted, NumWant: 50, Key: 0xbeef, TrackerID: "t 1"}
	resp, err := loopbackClient().Announce(context.Background(), srv.URL+"/announce?passkey=s%20k#frag", req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 || resp.Peers[0] != ap("127.0.0.1:6881") || resp.Interval != 30*time.Minute {
		t.Fatalf("response %+v", resp)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	want := map[string]string{
		"info_hash": string(binaryHash[:]), "peer_id": string(req.PeerID[:]), "port": "6881",
		"uploaded": "1", "downloaded": "22", "left": "333", "compact": "1", "event": "started",
		"numwant": "50", "key": "0000beef", "trackerid": "t 1", "passkey": "s k",
	}
	for k, v := range want {
		if got := h.query[k]; len(got) != 1 || got[0] != v {
			t.Errorf("query %s = %q, want %q", k, got, v)
		}
	}
	if len(h.query) != len(want) {
		t.Errorf("query has %d keys, want %d: %v", len(h.query), len(want), h.query)
	}
	if !strings.HasPrefix(h.rawQ, "passkey=s%20k&info_hash="+escapeBinary(binaryHash[:])+"&") {
		t.Errorf("raw query %q", h.rawQ)
	}
	if h.ua != "Shoal/test" {
		t.Errorf("User-Agent %q", h.ua)
	}
}

func TestHTTPAnnounceOptionalParamsOmitted(t *testing.T) {
	t.Parallel()
	h := &httpTracker{body: "d8:intervali5e5:peers0:e"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if _, err := loopbackClient().Announce(context.Background(), srv.URL, Request{Port: 1}); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range []string{"event", "numwant", "key", "trackerid", "ipv6"} {
		if h.query.Has(k) {
			t.Errorf("%s sent: %q", k, h.query.Get(k))
		}
	}
}

// TestHTTPAnnounceIPv6 checks BEP 7's "ipv6" parameter: the bare address
// on the announce's port, the endpoint form on another port, and nothing
// for an IPv4 (or IPv4-mapped) address.
func TestHTTPAnnounceIPv6(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr, want string
	}{
		{"[2001:db8::7]:6881", "2001:db8::7"},
		{"[2001:db8::7]:0", "2001:db8::7"},
		{"[2001:db8::7]:7000", "[2001:db8::7]:7000"},
		{"127.0.0.1:6881", ""},
		{"[::ffff:127.0.0.1]:6881", ""},
	}
	for _, tc := range cases {
		h := &httpTracker{body: "d8:intervali5e5:peers0:e"}
		srv := httptest.NewServer(h)
		_, err := loopbackClient().Announce(context.Background(), srv.URL, Request{Port: 6881, IPv6: ap(tc.addr)})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		got, sent := h.query.Get("ipv6"), h.query.Has("ipv6")
		h.mu.Unlock()
		if got != tc.want || sent != (tc.want != "") {
			t.Errorf("IPv6 %s: ipv6=%q (sent %v), want %q", tc.addr, got, sent, tc.want)
		}
	}
}

func TestHTTPAnnounceResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		status  int
		body    string
		want    Response
		wantErr error
		wantMsg string
	}{
		{name: "dict peers", body: "d8:intervali60e5:peersld2:ip9:127.0.0.24:porti9000eeee",
			want: Response{Interval: time.Minute, Peers: []netip.AddrPort{ap("127.0.0.2:9000")}}},
		{name: "failure reason", body: "d14:failure reason9:forbiddene", wantErr: ErrTrackerFailure},
		{name: "failure with 403", status: 403, body: "d14:failure reason9:forbiddene", wantErr: ErrTrackerFailure},
		{name: "404 html", status: 404, body: "<h1>nope</h1>", wantErr: ErrHTTPStatus},
		{name: "garbage", body: "hello", wantErr: ErrBadResponse},
		// Valid bencode, but over the cap: must be refused before decoding.
		{name: "too large", body: "d5:peers1048578:" + strings.Repeat("\x7f\x00\x00\x01\x00\x01", 174763) + "e",
			wantErr: ErrBadResponse, wantMsg: "exceeds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(&httpTracker{status: tc.status, body: tc.body})
			defer srv.Close()
			got, err := loopbackClient().Announce(context.Background(), srv.URL+"/announce", Request{})
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantMsg)
			}
			if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHTTPSAnnounce(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(&httpTracker{body: "d8:intervali7e5:peers0:e"})
	defer srv.Close()
	c := loopbackClient()
	c.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	got, err := c.Announce(context.Background(), srv.URL, Request{})
	if err != nil || got.Interval != 7*time.Second {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestHTTPAnnounceTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := loopbackClient()
	c.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := c.Announce(context.Background(), srv.URL, Request{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestAnnounceRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		client  *Client
		url     string
		req     Request
		wantErr error
	}{
		{"scheme", loopbackClient(), "wss://127.0.0.1:1/announce", Request{}, ErrUnsupportedScheme},
		{"no dialer", &Client{}, "udp://127.0.0.1:1", Request{}, ErrNoDialer},
		{"bad event", loopbackClient(), "udp://127.0.0.1:1", Request{Event: "paused"}, ErrInvalidRequest},
		{"no host", loopbackClient(), "http:///announce", Request{}, ErrInvalidRequest},
		{"udp no port", loopbackClient(), "udp://127.0.0.1/announce", Request{}, ErrInvalidRequest},
		{"bad url", loopbackClient(), "http://[::1", Request{}, ErrInvalidRequest},
		{"http not loopback", loopbackClient(), "http://192.0.2.1/announce", Request{}, netguard.ErrNotLoopback},
		{"udp not loopback", loopbackClient(), "udp://192.0.2.1:6969", Request{}, netguard.ErrNotLoopback},
		{"udp host name", loopbackClient(), "udp://tracker.invalid:6969", Request{}, netguard.ErrNotLoopback},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.client.Announce(context.Background(), tc.url, tc.req)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}
