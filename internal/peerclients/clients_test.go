package peerclients

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// need skips the test when a client is not installed, unless
// SHOAL_REQUIRE_PEERS=1, and fails it on any other error.
func need(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1":
		t.Skip(err)
	default:
		t.Fatal(err)
	}
}

// content writes a random file and returns its path and bytes.
func content(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "Tidal Chart.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func loadTorrent(t *testing.T, path string) *metainfo.MetaInfo {
	t.Helper()
	mi, err := metainfo.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// TestMakers: both .torrent makers write a torrent of the file with the
// tracker, and Transmission loads the one it made under the same infohash.
func TestMakers(t *testing.T) {
	t.Parallel()
	src, _ := content(t, 700<<10+3)
	const tracker = "http://127.0.0.1:9/announce"
	for name, create := range map[string]func(src, out string, trackers ...string) error{
		"transmission-create": CreateTransmission, "mktorrent": CreateMktorrent} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "x.torrent")
			need(t, create(src, out, tracker))
			mi := loadTorrent(t, out)
			info, err := mi.UnmarshalInfo()
			if err != nil {
				t.Fatal(err)
			}
			if mi.Announce != tracker || info.Name != filepath.Base(src) || info.Length != 700<<10+3 {
				t.Errorf("%s wrote announce %q, name %q, length %d", name, mi.Announce, info.Name, info.Length)
			}
		})
	}
}

// TestClientsSwarm runs every launcher together: aria2 seeds a
// transmission-create torrent through opentracker, qBittorrent downloads it
// from aria2 (found through the tracker), Transmission seeds it too and
// reports the same infohash.
func TestClientsSwarm(t *testing.T) {
	t.Parallel()
	src, data := content(t, 3<<20+11)
	bare := filepath.Join(t.TempDir(), "bare.torrent")
	need(t, CreateTransmission(src, bare))
	ih := loadTorrent(t, bare).HashInfoBytes()
	tracker, err := StartOpentracker(t, ih)
	need(t, err)
	torrent := filepath.Join(t.TempDir(), "swarm.torrent")
	need(t, CreateTransmission(src, torrent, tracker.AnnounceURL))
	if got := loadTorrent(t, torrent).HashInfoBytes(); got != ih {
		t.Fatalf("with a tracker the infohash is %s, without %s", got, ih)
	}
	t.Run("transmission seeds", func(t *testing.T) {
		t.Parallel()
		tr, err := StartTransmission(t)
		need(t, err)
		got, err := tr.Seed(torrent, filepath.Dir(src), 30*time.Second)
		need(t, err)
		if got != ih {
			t.Errorf("transmission reports %x, want %s", got, ih)
		}
	})
	t.Run("aria2 seeds qbittorrent, a=b", func(t *testing.T) {
		t.Parallel()
		seeder, err := StartAria2Seeding(t, torrent, filepath.Dir(src), tracker, ih)
		need(t, err)
		out := t.TempDir()
		q, err := StartQbittorrent(t, torrent, out, false)
		need(t, err)
		need(t, PollFor(60*time.Second, "qbittorrent completes", q.Done))
		got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("qbittorrent's copy differs (%d bytes, err %v)", len(got), err)
		}
		seeder.Proc.Stop(StopGrace)
	})
}
