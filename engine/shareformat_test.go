package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestShareFormatReason pins why Settings > Sharing offers v1 beside the
// hybrids Share makes by default: Transmission 3.00 and aria2 1.36
// cannot read any BEP 52 torrent, because BEP 52's "file tree" names every
// file's entry by an empty dictionary key, which both of their bencode
// decoders mishandle. A v1 torrent that differs only by one extra info key
// holding {"": 1} shows it is that key, not pad files or the v2 hashes:
// Transmission refuses it as corrupt, and aria2 (which re-encodes the info
// dictionary) computes another infohash for it. When this test fails, the
// clients read hybrids and the v1 choice's words should change.
func TestShareFormatReason(t *testing.T) {
	t.Parallel()
	needBins(t, "transmission-show", "aria2c")
	c := folderOfFiles(t, "Field Recordings")
	dir := t.TempDir()
	hybrid, err := storage.Create(context.Background(), c.root, storage.CreateOptions{Format: storage.Hybrid}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := storage.Create(context.Background(), c.root, storage.CreateOptions{Format: storage.V1Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mi   *metainfo.MetaInfo
		ok   bool // both clients read it with the right infohash
	}{
		{"v1 as Share makes it with the v1 setting", v1, true},
		{"hybrid as Share and shoal create make it by default", hybrid, false},
		{"v1 plus one empty dictionary key", withEmptyKey(t, v1), false},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".torrent")
		enginetest.WriteTorrent(t, tc.mi, path)
		want := engine.InfoHash(tc.mi.HashInfoBytes()).String()
		trOK, trOut := transmissionReads(t, path, want)
		ariaOK, ariaOut := aria2Reads(t, path, want)
		if trOK != tc.ok || ariaOK != tc.ok {
			t.Errorf("%s: Transmission reads it: %v, aria2 reads it with infohash %s: %v; want %v for both\ntransmission-show: %s\naria2c: %s",
				tc.name, trOK, want, ariaOK, tc.ok, trOut, ariaOut)
		}
	}
}

// withEmptyKey is mi with an extra info key "x" holding {"": 1}.
func withEmptyKey(t *testing.T, mi *metainfo.MetaInfo) *metainfo.MetaInfo {
	t.Helper()
	var info map[string]any
	if err := bencode.Unmarshal(mi.InfoBytes, &info); err != nil {
		t.Fatal(err)
	}
	info["x"] = map[string]any{"": 1}
	b, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return &metainfo.MetaInfo{InfoBytes: b}
}

// transmissionReads runs transmission-show (Transmission 3.00's parser) on
// a .torrent: whether it reads it with infohash want, and its output.
func transmissionReads(t *testing.T, path, want string) (bool, string) {
	t.Helper()
	bin, err := peerclients.Bin("transmission-show")
	need(t, err)
	out, err := exec.Command(bin, path).CombinedOutput()
	return err == nil && strings.Contains(string(out), "Hash: "+want), clipOut(out)
}

// aria2InfoHash is the infohash line of `aria2c --show-files`.
var aria2InfoHash = regexp.MustCompile(`Info Hash: ([0-9a-f]{40})`)

// aria2Reads runs `aria2c --show-files` on a .torrent: whether aria2 reads
// it with infohash want, and its output.
func aria2Reads(t *testing.T, path, want string) (bool, string) {
	t.Helper()
	bin, err := peerclients.Bin("aria2c")
	need(t, err)
	out, _ := exec.Command(bin, "--no-conf", "--show-files=true", path).CombinedOutput()
	m := aria2InfoHash.FindSubmatch(out)
	return m != nil && string(m[1]) == want, clipOut(out)
}

// clipOut is the first 300 bytes of a tool's output.
func clipOut(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// TestShareFormatDefault: Share makes a hybrid by default (v2 file tree,
// BEP 47 pad files, its piece layers in the saved .torrent), a v1 torrent
// with Settings.ShareFormat v1 and a v2-only one with v2 (keyed by its v2
// infohash cut to 20 bytes, with its piece layers). The Library row's
// magnet link names the v1 infohash of a v1 torrent, both of a hybrid and
// the v2 one alone of a v2-only torrent.
func TestShareFormatDefault(t *testing.T) {
	t.Parallel()
	c := folderOfFiles(t, "album")
	n := enginetest.Start(t, enginetest.Config(t))
	for _, format := range []engine.TorrentFormat{-1, engine.FormatV1, engine.FormatV2, engine.FormatHybrid} {
		if format >= 0 {
			setShareFormat(t, n, format)
		}
		ih, mi := shareSaved(t, n, c.root)
		info := mustInfo(t, mi)
		v2 := sha256.Sum256(mi.InfoBytes)
		var ok bool
		switch format {
		case engine.FormatV1:
			ok = !info.HasV2() && mi.PieceLayers == nil && ih == engine.InfoHash(mi.HashInfoBytes())
		case engine.FormatV2:
			ok = info.HasV2() && !info.HasV1() && len(mi.PieceLayers) > 0 && ih == engine.InfoHash(v2[:20])
		default: // hybrid, by default and when chosen
			ok = info.HasV2() && info.HasV1() && len(info.Files) > len(c.sums) && len(mi.PieceLayers) > 0 &&
				ih == engine.InfoHash(mi.HashInfoBytes())
		}
		btih := "xt=urn:btih:" + engine.InfoHash(mi.HashInfoBytes()).String()
		btmh := "xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
		link := libraryMagnet(t, n, ih)
		wantBtih, wantBtmh := format != engine.FormatV2, format != engine.FormatV1
		hasBtih, hasBtmh := strings.Contains(link, "urn:btih:"), strings.Contains(link, "urn:btmh:")
		if hasBtih != wantBtih || hasBtmh != wantBtmh || wantBtih && !strings.Contains(link, btih) || wantBtmh && !strings.Contains(link, btmh) {
			t.Errorf("format %v (-1: default): magnet link %s; want btih %v (%s), btmh %v (%s)", format, link, wantBtih, btih, wantBtmh, btmh)
		}
		if !ok {
			t.Errorf("share with format %v (-1: default): v1 %v, v2 %v, %d v1 files for %d, %d piece layers, infohash %s (v1 %s, v2 cut %x)",
				format, info.HasV1(), info.HasV2(), len(info.Files), len(c.sums), len(mi.PieceLayers), ih,
				engine.InfoHash(mi.HashInfoBytes()), v2[:20])
		}
		if err := n.Remove(ih, false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShareFormatQbittorrent: qBittorrent-nox (libtorrent 2.0) downloads
// a hybrid share and a v2-only share from the Shoal sharing it, from the
// saved .torrent and from the magnet link its Library row copies; bytes
// compared. The v2-only share is served after its Shoal restarted,
// and its saved .torrent still carries its piece layers: they are kept in
// the data folder and loaded with the item.
func TestShareFormatQbittorrent(t *testing.T) {
	needBins(t, "qbittorrent-nox")
	for _, format := range []engine.TorrentFormat{engine.FormatHybrid, engine.FormatV2} {
		for _, magnet := range []bool{false, true} {
			name := format.String() + map[bool]string{false: ", torrent file", true: ", magnet link"}[magnet]
			t.Run(name, func(t *testing.T) { qbittorrentGetsShare(t, format, magnet) })
		}
	}
}

// qbittorrentGetsShare shares a folder in the given format and has
// qBittorrent-nox download it from Shoal, by .torrent or btmh magnet.
func qbittorrentGetsShare(t *testing.T, format engine.TorrentFormat, magnet bool) {
	c := folderOfFiles(t, "album")
	cfg := enginetest.Config(t)
	n := enginetest.Start(t, cfg)
	setShareFormat(t, n, format)
	ih, mi := shareSaved(t, n, c.root)
	if len(mi.PieceLayers) == 0 {
		t.Fatalf("the %v share's .torrent has no piece layers", format)
	}
	if format == engine.FormatV2 {
		n.Stop()
		n = enginetest.Start(t, cfg)
		if again := savedTorrent(t, n, ih); len(again.PieceLayers) != len(mi.PieceLayers) {
			t.Fatalf("after a restart the v2 share has %d piece layers, before %d", len(again.PieceLayers), len(mi.PieceLayers))
		}
	}
	torrent := filepath.Join(t.TempDir(), "share.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	dir := t.TempDir()
	src := torrent
	if magnet { // the Library row's link: btih and btmh for a hybrid, btmh for v2
		src = libraryMagnet(t, n, ih)
	}
	q := startQbittorrent(t, src, dir, false)
	var id [20]byte // qBittorrent's name for it
	need(t, peerclients.PollFor(60*time.Second, "qbittorrent lists the torrent", func() (bool, error) {
		list, err := q.Torrents()
		if q.Proc.Exited() {
			return false, err
		}
		if len(list) != 1 {
			return false, nil
		}
		_, err = hex.Decode(id[:], []byte(list[0].Hash))
		return err == nil, err
	}))
	need(t, q.AddPeers(id, n.PeerAddr()))
	need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
	q.Proc.Stop(15 * time.Second) // flush its write cache
	c.checkCopy(t, dir)
}

// libraryMagnet is the magnet link of the Library row of ih.
func libraryMagnet(t *testing.T, n *enginetest.Node, ih engine.InfoHash) string {
	t.Helper()
	for _, it := range n.Snapshot().Library {
		if it.InfoHash == ih {
			return it.Magnet
		}
	}
	t.Fatalf("%s is not in the library", ih)
	return ""
}

// shareSaved shares root from n and returns its infohash and the
// .torrent Shoal saves for it.
func shareSaved(t *testing.T, n *enginetest.Node, root string) (engine.InfoHash, *metainfo.MetaInfo) {
	t.Helper()
	ih, err := n.ShareSync(context.Background(), root, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ih, savedTorrent(t, n, ih)
}

// savedTorrent is the .torrent Shoal saves for ih, parsed.
func savedTorrent(t *testing.T, n *enginetest.Node, ih engine.InfoHash) *metainfo.MetaInfo {
	t.Helper()
	b, err := n.TorrentFile(ih)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// mustInfo is mi's info dictionary.
func mustInfo(t *testing.T, mi *metainfo.MetaInfo) *metainfo.Info {
	t.Helper()
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	return &info
}

// TestTransferMagnetLink: a Shoal that downloaded a v2-only share by the
// magnet link its Library row gives (btmh alone) shows the same kind of
// link for the transfer, and a hybrid share's download shows both
// infohashes: what "Copy magnet link" on a transfer copies. Either way
// the transfer's size and file count are its files', padding left out.
func TestTransferMagnetLink(t *testing.T) {
	t.Parallel()
	for _, format := range []engine.TorrentFormat{engine.FormatV2, engine.FormatHybrid} {
		c := folderOfFiles(t, "album")
		cfg := enginetest.Config(t)
		cfg.ShareFormat = &format
		a := enginetest.Start(t, cfg)
		ih, err := a.ShareSync(context.Background(), c.root, nil)
		if err != nil {
			t.Fatal(err)
		}
		link := libraryMagnet(t, a, ih)
		b := enginetest.Start(t, enginetest.Config(t))
		got, err := b.Download(context.Background(), engine.DownloadRequest{Source: link, Peers: []string{a.PeerAddr()}, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		// Its size is the files' (padding left out: 6 MiB of piece space
		// for these 5.3 MiB as v2, more as a hybrid, was shown before).
		waitShoalComplete(t, b, got, c.size, shoalTimeout)
		tr, _ := enginetest.Transfer(b.Snapshot(), got)
		if tr.Files != len(c.sums) {
			t.Errorf("%v: the transfer shows %d files, want %d (padding left out)", format, tr.Files, len(c.sums))
		}
		for _, xt := range strings.Split(link, "&") {
			if strings.HasPrefix(xt, "magnet:?xt=") || strings.HasPrefix(xt, "xt=") {
				if !strings.Contains(tr.Magnet, strings.TrimPrefix(xt, "magnet:?")) {
					t.Errorf("%v: the transfer's magnet link %s lacks %s of the share's %s", format, tr.Magnet, xt, link)
				}
			}
		}
		if strings.Count(tr.Magnet, "xt=") != strings.Count(link, "xt=") {
			t.Errorf("%v: the transfer's magnet link %s, the share's %s", format, tr.Magnet, link)
		}
	}
}
