package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/internal/peerclients"
)

// needPeer skips a test whose real client is missing, unless
// SHOAL_REQUIRE_PEERS=1 (make test), which fails it.
func needPeer(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1":
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	default:
		t.Fatal(err)
	}
}

// TestDHTIndexSearchGet: a real aria2 seeds a trackerless torrent into a
// loopback DHT of two Shoal daemons (a supernode and a leaf), announcing it
// only over the DHT. The supernode indexes it (BEP 51 / announce_peer, then
// BEP 9 from aria2, checked against the infohash), and a fresh `shoal
// search` for a word of its name finds it with source "dht" and a swarm
// size; `shoal get` of its magnet downloads the same bytes from aria2.
func TestDHTIndexSearchGet(t *testing.T) {
	_, err := peerclients.Bin("aria2c")
	needPeer(t, err)
	_, err = peerclients.Bin("mktorrent")
	needPeer(t, err)
	sn := startDaemonLogged(t, "--bootstrap", "none", "--supernode", "--log-level", "debug")
	leaf := startDaemonLogged(t, "--bootstrap", sn.ready.DHTAddr, "--leaf", "--log-level", "debug")

	seedDir := t.TempDir()
	name := "Quokka Lighthouse Footage.bin"
	data := make([]byte, 2<<20+333)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(seedDir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "quokka.torrent")
	needPeer(t, peerclients.CreateMktorrent(filepath.Join(seedDir, name), torrent))
	mi, err := metainfo.LoadFromFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	ih := mi.HashInfoBytes().HexString()
	aria, err := peerclients.StartAria2DHTSeeding(t, torrent, seedDir, leaf.ready.DHTAddr)
	needPeer(t, err)

	common := []string{"--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", leaf.ready.DHTAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var hit jsonHit
	start := time.Now()
	for hit.InfoHash == "" && time.Since(start) < 150*time.Second {
		out, _, err := shoal(ctx, append(append([]string{"search", "--data", t.TempDir(), "--json", "--timeout", "4s"}, common...), "lighthouse")...)
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var h jsonHit
			if json.Unmarshal([]byte(line), &h) == nil && h.InfoHash == ih {
				hit = h
			}
		}
	}
	if hit.InfoHash == "" {
		t.Errorf("the supernode's log about the DHT index:\n%s", strings.Join(sn.log.Lines(60, "DHT", "metadata", "sample"), "\n"))
		t.Errorf("the leaf's log about the DHT:\n%s", strings.Join(leaf.log.Lines(30, "DHT", "announce", "sample"), "\n"))
		t.Errorf("aria2's announces:\n%s", strings.Join(aria.LogLines("announce_peer", 30), "\n"))
		t.Fatalf("no hit for %s within %v; aria2's log ends:\n%s", ih, time.Since(start), aria.LogTail(3000))
	}
	t.Logf("found after %v: %+v", time.Since(start).Round(time.Millisecond), hit)
	if hit.Source != "dht" || hit.Swarm < 1 || hit.Size != int64(len(data)) || hit.Name != name {
		t.Fatalf("hit %+v: want source dht, a swarm, size %d and name %q", hit, len(data), name)
	}

	out := t.TempDir()
	stdout, stderr, err := shoal(ctx, append(append([]string{"get", "--quiet", "--data", t.TempDir(), "--out", out, "--timeout", "90s"}, common...), hit.Magnet)...)
	if err != nil {
		t.Fatalf("get: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, name))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("downloaded file differs or is missing: %v", err)
	}
}
