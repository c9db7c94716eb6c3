package peerclients

import (
	"crypto/rand"
	"crypto/sha1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// TestTransmissionStateSeedsUnchecked: a daemon started on the state
// WriteTransmissionState wrote seeds its torrent at once, as checked and
// complete, without checking it: the file on disk was replaced by other
// bytes of the same size before the daemon started, and it still reports
// the torrent seeding and every byte valid (a check would find none).
func TestTransmissionStateSeedsUnchecked(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	src, _ := content(t, size)
	torrent := filepath.Join(t.TempDir(), "x.torrent")
	need(t, CreateTransmission(src, torrent))
	mi := loadTorrent(t, torrent)
	other := make([]byte, size)
	rand.Read(other)
	if err := os.WriteFile(src, other, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := bencode.Marshal(mi)
	if err != nil {
		t.Fatal(err)
	}
	ih := [20]byte(sha1.Sum(mi.InfoBytes))
	cfgDir := t.TempDir()
	time.Sleep(1100 * time.Millisecond) // the check time is after the file's mtime
	if err := WriteTransmissionState(cfgDir, []TransmissionItem{{Metainfo: raw, InfoHash: ih,
		Name: filepath.Base(src), Files: 1, Dir: filepath.Dir(src)}}); err != nil {
		t.Fatal(err)
	}
	tr, err := StartTransmissionWith(t, TransmissionOptions{Encryption: 1, CfgDir: cfgDir})
	need(t, err)
	defer tr.Proc.Stop(10 * time.Second)
	var got TransmissionTorrent
	if err := PollFor(30*time.Second, "the torrent listed", func() (bool, error) {
		got, err = tr.Get(ih)
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got.Status != TransmissionSeeding || got.HaveValid != size {
		t.Fatalf("transmission reports %+v, want seeding with all %d bytes valid, unchecked", got, size)
	}
}
