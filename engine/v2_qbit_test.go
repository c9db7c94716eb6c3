package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/torrentfile"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// v2Torrent makes a .torrent of c in format with 64 KiB pieces, and
// returns it with the infohash Shoal knows the swarm by.
func v2Torrent(t *testing.T, c content, format storage.Format) (*metainfo.MetaInfo, string, engine.InfoHash) {
	t.Helper()
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 64 << 10, Format: format}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "shoal.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	info, err := torrentfile.ParseInfo(mi.InfoBytes)
	if err != nil {
		t.Fatal(err)
	}
	return mi, torrent, engine.InfoHash(torrentfile.SwarmHash(mi.InfoBytes, info))
}

// TestQbittorrentV2 moves v2-only and hybrid torrents both ways between
// Shoal and qBittorrent-nox (libtorrent 2.0), bytes compared: qBittorrent
// seeds a v2-only torrent to Shoal from the .torrent file and from a btmh
// magnet link (piece layers from qBittorrent by BEP 52 hash requests),
// Shoal seeds it to qBittorrent from the .torrent and from a btmh magnet
// link (the info and piece layers from Shoal), and a folder whose hybrid torrent carries
// BEP 47 pad files goes each way.
func TestQbittorrentV2(t *testing.T) {
	needBins(t, "qbittorrent-nox")
	cases := []struct {
		name   string
		format storage.Format
		magnet bool
	}{
		{"v2-only", storage.V2Only, false},
		{"v2-only by btmh magnet", storage.V2Only, true},
		{"hybrid with pad files", storage.Hybrid, false},
		{"hybrid by btmh magnet", storage.Hybrid, true}, // its other name: the v2 infohash cut to 20 bytes
	}
	for _, tc := range cases {
		t.Run("qBittorrent seeds Shoal, "+tc.name, func(t *testing.T) {
			c := folderOfFiles(t, "album")
			mi, torrent, ih := v2Torrent(t, c, tc.format)
			q := startQbittorrent(t, torrent, filepath.Dir(c.root), true)
			need(t, peerclients.PollFor(60*time.Second, "qbittorrent seeds", q.Done))
			src := torrent
			if tc.magnet {
				v2 := sha256.Sum256(mi.InfoBytes)
				src = "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:]) + "&dn=album"
			}
			if tc.magnet {
				v2 := sha256.Sum256(mi.InfoBytes)
				ih = engine.InfoHash(v2[:20]) // a btmh link names it so
			}
			n := enginetest.Start(t, enginetest.Config(t))
			dir := t.TempDir()
			got, err := n.Download(context.Background(), engine.DownloadRequest{Source: src, Peers: []string{q.PeerAddr}, Dir: dir})
			if err != nil || got != ih {
				t.Fatalf("download: %v (infohash %s, want %s)", err, got, ih)
			}
			waitAll(t, n, ih, shoalTimeout) // v2 sizes count the pad files
			c.checkCopy(t, dir)
		})
		t.Run("Shoal seeds qBittorrent, "+tc.name, func(t *testing.T) {
			c := folderOfFiles(t, "album")
			mi, torrent, ih := v2Torrent(t, c, tc.format)
			n := enginetest.Start(t, enginetest.Config(t))
			if _, err := n.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)}); err != nil {
				t.Fatal(err)
			}
			waitAll(t, n, ih, 60*time.Second)
			dir := t.TempDir()
			if tc.magnet { // the info by BEP 9 and the piece layers by BEP 52 hash requests, from Shoal
				v2 := sha256.Sum256(mi.InfoBytes)
				q := startQbittorrent(t, "magnet:?xt=urn:btmh:1220"+hex.EncodeToString(v2[:])+"&dn=album", dir, false)
				var id [20]byte // qBittorrent's name for it: the cut v2 infohash, all it knows
				need(t, peerclients.PollFor(60*time.Second, "qbittorrent lists the magnet", func() (bool, error) {
					list, err := q.Torrents()
					if q.Proc.Exited() {
						return false, err
					}
					if len(list) != 1 { // a Web API still starting is no error
						return false, nil
					}
					_, err = hex.Decode(id[:], []byte(list[0].Hash))
					return err == nil, err
				}))
				start := time.Now()
				need(t, q.AddPeers(id, n.PeerAddr()))
				need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
				t.Logf("qBittorrent completed %d bytes by btmh magnet in %v", c.size, time.Since(start).Round(time.Millisecond))
				q.Proc.Stop(15 * time.Second)
				c.checkCopy(t, dir)
				return
			}
			q := startQbittorrent(t, torrent, dir, false)
			need(t, peerclients.PollFor(60*time.Second, "qbittorrent loads the torrent", q.Loaded))
			start := time.Now()
			if err := n.AddPeers(ih, q.PeerAddr); err != nil {
				t.Fatal(err)
			}
			need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
			t.Logf("qBittorrent completed %d bytes in %v", c.size, time.Since(start).Round(time.Millisecond))
			q.Proc.Stop(15 * time.Second) // flush its write cache
			c.checkCopy(t, dir)
		})
	}
}
