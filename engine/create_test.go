package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestCreateTorrentAndSeed: A makes a hybrid torrent of a folder with
// progress reported up to the total, writes it, and seeds it at once
// without hashing again; B downloads it from the .torrent file and gets
// the same bytes. A bad request fails with a clear error and writes
// nothing.
func TestCreateTorrentAndSeed(t *testing.T) {
	a := enginetest.Start(t, enginetest.Config(t))
	b := enginetest.Start(t, enginetest.Config(t))
	root := filepath.Join(t.TempDir(), "Holiday Album")
	enginetest.RandomFile(t, root, "day1/beach.jpg", 700<<10)
	enginetest.RandomFile(t, root, "day2/hills.jpg", 300<<10+17)
	save := filepath.Join(t.TempDir(), "album.torrent")
	var last [2]int64
	c, err := a.CreateTorrent(context.Background(), engine.CreateRequest{Path: root, Save: save,
		Trackers: []string{"http://127.0.0.1:1/announce"}, Comment: "two days", Seed: true},
		func(done, total int64) { last = [2]int64{done, total} })
	if err != nil {
		t.Fatal(err)
	}
	if last[0] != last[1] || last[1] != 1000<<10+17 || c.Size != last[1] || c.InfoHashV2 == "" || c.Name != "Holiday Album" {
		t.Fatalf("created %+v, last progress %v", c, last)
	}
	tr, ok := enginetest.Transfer(a.Snapshot(), c.InfoHash)
	if !ok || tr.Have != tr.Size || tr.State != engine.StateSeeding {
		t.Fatalf("A's transfer %+v (listed %v)", tr, ok)
	}
	ih, err := b.Download(context.Background(), engine.DownloadRequest{Source: save, Peers: []string{a.PeerAddr()}})
	if err != nil || ih != c.InfoHash {
		t.Fatalf("download %v: %v", ih, err)
	}
	enginetest.WaitFor(t, "B completes", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(b.Snapshot(), ih)
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
	want, _ := os.ReadFile(filepath.Join(root, "day2", "hills.jpg"))
	got, err := os.ReadFile(filepath.Join(b.DownloadDir(), "Holiday Album", "day2", "hills.jpg"))
	if err != nil || string(got) != string(want) {
		t.Fatalf("B's copy differs: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.torrent")
	for _, req := range []engine.CreateRequest{
		{Path: filepath.Join(root, "missing"), Save: bad},
		{Path: root, Save: bad, PieceLength: 100_000}, // not a power of two
		{Path: root},
	} {
		if _, err := a.CreateTorrent(context.Background(), req, nil); err == nil {
			t.Errorf("%+v: no error", req)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Fatalf("%+v left a file", req)
		}
	}
}
