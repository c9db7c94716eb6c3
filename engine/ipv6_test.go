package engine_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// dualStack is a loopback-only node listening on 127.0.0.1 and ::1.
func dualStack(t *testing.T, bootstrap ...string) (*enginetest.Node, engine.Config) {
	t.Helper()
	cfg := enginetest.Config(t, bootstrap...)
	cfg.Listen = ":0"
	n := enginetest.Start(t, cfg)
	peer6, dht6 := n.Addrs6()
	if host, _, _ := net.SplitHostPort(peer6); host != "::1" || dht6 != peer6 {
		t.Fatalf("IPv6 addresses %q, %q: want [::1]:PORT", peer6, dht6)
	}
	return n, cfg
}

// TestIPv6DHTBetweenShoals: three dual-stack nodes whose only bootstrap
// node is boot's IPv6 DHT address. A shares a file, B downloads it by
// infohash. B can learn of A only through the IPv6 DHT (BEP 32: A
// announces to boot, boot answers B's get_peers), and the peer it gets
// from there is A's IPv6 address, so the bytes come over [::1].
func TestIPv6DHTBetweenShoals(t *testing.T) {
	t.Parallel()
	const size = 3<<20 + 99
	boot, _ := dualStack(t)
	_, bootDHT6 := boot.Addrs6()
	a, _ := dualStack(t, bootDHT6)
	b, bCfg := dualStack(t, bootDHT6)
	src := enginetest.RandomFile(t, t.TempDir(), "Reef Soundings.wav", size)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Download(t.Context(), engine.DownloadRequest{Source: ih.String()}); err != nil {
		t.Fatal(err)
	}
	var from string
	enginetest.WaitFor(t, "B completes over IPv6", 60*time.Second, func() bool {
		tr, _ := enginetest.Transfer(b.Snapshot(), ih)
		for _, p := range tr.PeerDetails {
			if p.Downloaded > 0 {
				from = p.Addr
			}
		}
		return tr.Size == size && tr.Have == size
	})
	if !strings.HasPrefix(from, "[::1]:") {
		t.Errorf("B downloaded from %q, want A's IPv6 address", from)
	}
	if sha256File(t, filepath.Join(bCfg.DataDir, "downloads", filepath.Base(src))) != sha256File(t, src) {
		t.Fatal("B's copy differs")
	}
	if n := b.Snapshot().Net; n.DHTNodes6 == 0 || n.PeerAddr6 == "" {
		t.Errorf("net status %+v: want IPv6 addresses and IPv6 DHT nodes", n)
	}
}

// TestAnnounceIPv6Param: a dual-stack node tells an HTTP tracker it
// reaches over IPv4 its IPv6 address (BEP 7 "ipv6"), here ::1 on its
// IPv6 port; an IPv4-only node sends no "ipv6".
func TestAnnounceIPv6Param(t *testing.T) {
	t.Parallel()
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Write([]byte("d8:intervali1800e5:peers0:e"))
	}))
	defer srv.Close()
	announce := func(n *enginetest.Node, ih byte) url.Values {
		t.Helper()
		magnet := "magnet:?xt=urn:btih:" + strings.Repeat(fmt.Sprintf("%02x", ih), 20) + "&tr=" + url.QueryEscape(srv.URL+"/announce")
		if _, err := n.Download(t.Context(), engine.DownloadRequest{Source: magnet}); err != nil {
			t.Fatal(err)
		}
		select {
		case q := <-got:
			return q
		case <-time.After(30 * time.Second):
			t.Fatal("no announce within 30 s")
			return nil
		}
	}
	dual, _ := dualStack(t)
	peer6, _ := dual.Addrs6()
	q := announce(dual, 0xd6)
	if _, port, _ := net.SplitHostPort(peer6); q.Get("ipv6") != "::1" || q.Get("port") != port {
		t.Errorf("dual-stack node announced ipv6=%q port=%q, want ::1 and its IPv6 port %s", q.Get("ipv6"), q.Get("port"), port)
	}
	v4 := enginetest.Start(t, enginetest.Config(t))
	if q := announce(v4, 0x44); q.Has("ipv6") {
		t.Errorf("IPv4-only node sent ipv6=%q", q.Get("ipv6"))
	}
}
