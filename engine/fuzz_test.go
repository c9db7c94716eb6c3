package engine_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// fuzzEngine is one running engine shared by every input of a fuzz target,
// with a download folder that must end every input empty.
type fuzzEngine struct {
	node   *enginetest.Node
	parent string // holds only dl
	dl     string
}

func startFuzzEngine(f *testing.F) *fuzzEngine {
	fe := &fuzzEngine{node: enginetest.Start(f, enginetest.Config(f)), parent: f.TempDir()}
	fe.dl = filepath.Join(fe.parent, "dl")
	if err := os.Mkdir(fe.dl, 0o755); err != nil {
		f.Fatal(err)
	}
	// Relative sources resolve in an empty folder.
	f.Chdir(f.TempDir())
	return fe
}

// download runs one source and checks the invariants: no panic (implicit),
// an error that says it comes from the engine, no transfer or file left
// behind once an accepted source is removed again.
func (fe *fuzzEngine) download(t *testing.T, src string) {
	ih, err := fe.node.Download(context.Background(), engine.DownloadRequest{Source: src, Dir: fe.dl})
	if err == nil {
		if rerr := fe.node.Remove(ih, true); rerr != nil {
			t.Fatalf("remove accepted source %q: %v", clip(src), rerr)
		}
	} else if !strings.HasPrefix(err.Error(), "engine: ") {
		t.Errorf("error %q lacks the engine: prefix", clip(err.Error()))
	}
	if n := len(fe.node.Snapshot().Transfers); n != 0 {
		t.Fatalf("%d transfers left after source %q (err %v)", n, clip(src), err)
	}
	for _, dir := range []string{fe.parent, fe.dl} {
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range entries {
			if dir != fe.parent || e.Name() != "dl" {
				t.Fatalf("source %q (err %v) left %s in %s", clip(src), err, e.Name(), dir)
			}
		}
	}
}

// FuzzDownloadSource gives arbitrary Source strings (magnet links, paths,
// infohashes) to one running engine. Seeds are the hostile table cases plus
// sources the engine accepts.
func FuzzDownloadSource(f *testing.F) {
	fe := startFuzzEngine(f)
	torrents := f.TempDir()
	for _, tc := range hostileCases() {
		f.Add(tc.source(f, torrents, fe.parent))
	}
	f.Add(strings.Repeat("ab", 20))
	f.Add(" " + strings.Repeat("CD", 20) + "\n")
	f.Add("magnet:?xt=urn:btih:" + strings.Repeat("ef", 20) + "&dn=name&x.pe=127.0.0.1:1")
	f.Add("magnet:?xt=urn:btih:CIMQAN4XUSU4JQFHAB3IHFK6L7HYGWQZ&tr=udp%3A%2F%2F127.0.0.1%3A1")
	f.Add(fileSource(f, torrents, "good", torrentBytes(singleInfo("good.bin", 2*hostilePieceLen))))
	f.Fuzz(func(t *testing.T, src string) {
		fe.download(t, src)
	})
}

// FuzzTorrentFile writes arbitrary bytes to a .torrent file and downloads
// it on one running engine. Seeds are the hostile table cases' files plus
// torrents the engine accepts.
func FuzzTorrentFile(f *testing.F) {
	fe := startFuzzEngine(f)
	seeds := f.TempDir()
	for _, tc := range hostileCases() {
		p := tc.source(f, seeds, fe.parent)
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, info := range acceptedInfos() {
		f.Add(torrentBytes(info))
	}
	torrents := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(torrents, "fuzz.torrent")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fe.download(t, p)
	})
}

// acceptedInfos are info dictionaries the engine takes, including ones whose
// names storage has to sanitize.
func acceptedInfos() []map[string]any {
	return []map[string]any{
		singleInfo("good.bin", 2*hostilePieceLen),
		multiInfo("album", []string{"disc 1", "track.ogg"}, []string{"cover.jpg"}),
		with(multiInfo("album", []string{"x"}), "files", []any{
			map[string]any{"length": hostilePieceLen, "path": []string{"a.bin"}},
			map[string]any{"length": 0, "path": []string{"empty.txt"}}}),
		with(multiInfo("what?", []string{"x"}), "files", []any{
			map[string]any{"length": hostilePieceLen, "path": []string{"a.bin"}},
			map[string]any{"length": 0, "path": []string{"empty.txt"}}}),
		with(multiInfo("CON", []string{"x"}), "files", []any{
			map[string]any{"length": hostilePieceLen, "path": []string{"a.bin"}},
			map[string]any{"length": 0, "path": []string{"sub", "empty.txt"}}}),
	}
}

// FuzzPeerStream sends arbitrary bytes to one running supernode engine's TCP
// port: after a valid handshake for a torrent it seeds (which%3 == 0) or
// for a magnet download still waiting for metadata (1), or raw with no
// handshake (2: the first byte routes it to the search overlay or the
// handshake reader). The engine must not panic or lock up, and must keep
// accepting peers. Seeds are TestCorruptPeers' streams.
func FuzzPeerStream(f *testing.F) {
	cfg := enginetest.Config(f)
	cfg.Supernode = true
	node := enginetest.Start(f, cfg)
	ctx := context.Background()
	src := enginetest.RandomFile(f, f.TempDir(), "fuzzed.bin", 200<<10+1)
	seedIH, err := node.ShareSync(ctx, src, nil)
	if err != nil {
		f.Fatal(err)
	}
	magnetIH := engine.InfoHash(sha1.Sum([]byte("FuzzPeerStream magnet")))
	if _, err := node.Download(ctx, engine.DownloadRequest{Source: magnetIH.String(), Dir: f.TempDir()}); err != nil {
		f.Fatal(err)
	}
	for _, tc := range corruptPeerCases() {
		for which := range uint8(3) {
			f.Add(which, tc.stream)
		}
	}
	f.Add(uint8(2), []byte("\x13BitTorrent protocol\x00\x00\x00\x00\x00\x10\x00\x05"+strings.Repeat("x", 20)))
	f.Add(uint8(2), []byte("{\"type\":\"query\",\"words\":[\"x\"]}\n"))
	f.Fuzz(func(t *testing.T, which uint8, stream []byte) {
		var c net.Conn
		switch which % 3 {
		case 0, 1:
			ih := seedIH
			if which%3 == 1 {
				ih = magnetIH
			}
			var br *bufio.Reader
			c, br = dialPeer(t, node.PeerAddr(), ih)
			go io.Copy(io.Discard, br)
		default:
			var err error
			if c, err = net.DialTimeout("tcp", node.PeerAddr(), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, c)
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		c.Write(stream) // the engine may hang up half-way
		c.Close()
		done := make(chan struct{})
		go func() { node.Snapshot(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("engine did not answer Snapshot within 5s")
		}
	})
}
