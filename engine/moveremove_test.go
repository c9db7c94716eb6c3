package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestMoveWhileRemoving (issue 17): Move of a finished download and
// Remove with its files, at once, in either order. Once both have
// returned, the transfer is gone, its file is in neither folder, nothing
// holds it open, and a restart brings none of them back. Before Move and
// Remove were serialized (transfer.ops), Remove could delete in the old
// folder while Move carried the file to the new one, Move's restart gave
// the removed transfer a running swarm with its storage open, and Move's
// saved folder put the transfer's row back after Remove deleted it.
func TestMoveWhileRemoving(t *testing.T) {
	const rounds = 8
	a := enginetest.Start(t, enginetest.Config(t))
	bCfg := enginetest.Config(t)
	b := enginetest.Start(t, bCfg)
	src := t.TempDir()
	var ihs []engine.InfoHash
	var names []string
	for i := range rounds {
		name := fmt.Sprintf("race-%02d.bin", i)
		path := enginetest.RandomFile(t, src, name, 96<<10+i)
		ih, err := a.ShareSync(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		torrent := filepath.Join(t.TempDir(), name+".torrent")
		if err := a.SaveTorrent(ih, torrent); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Download(context.Background(), engine.DownloadRequest{Source: torrent, Peers: []string{a.PeerAddr()}}); err != nil {
			t.Fatal(err)
		}
		ihs, names = append(ihs, ih), append(names, name)
	}
	enginetest.WaitFor(t, "B completes every download", 60*time.Second, func() bool {
		for _, ih := range ihs {
			if tr, ok := enginetest.Transfer(b.Snapshot(), ih); !ok || !tr.Done() {
				return false
			}
		}
		return true
	})
	oldDir := b.DownloadDir()
	newDir := filepath.Join(t.TempDir(), "moved")
	for i, ih := range ihs {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.N(3000)) * time.Microsecond)
			if err := b.Move(ih, newDir); err != nil && !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("round %d: move: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.N(3000)) * time.Microsecond)
			if err := b.Remove(ih, true); err != nil {
				t.Errorf("round %d: remove: %v", i, err)
			}
		}()
		wg.Wait()
		if _, ok := enginetest.Transfer(b.Snapshot(), ih); ok {
			t.Errorf("round %d: the removed transfer is still listed", i)
		}
		for _, dir := range []string{oldDir, newDir} {
			if _, err := os.Stat(filepath.Join(dir, names[i])); !os.IsNotExist(err) {
				t.Errorf("round %d: removed with its files, yet %s is still in %s (%v)", i, names[i], dir, err)
			}
		}
		enginetest.WaitFor(t, "nothing holds "+names[i]+" open", 10*time.Second, func() bool {
			return len(openFilesNamed(t, oldDir, names[i]))+len(openFilesNamed(t, newDir, names[i])) == 0
		})
	}
	b.Stop()
	b = enginetest.Start(t, bCfg)
	for i, ih := range ihs {
		if tr, ok := enginetest.Transfer(b.Snapshot(), ih); ok {
			t.Errorf("round %d: after a restart the removed transfer is back: %+v", i, tr)
		}
	}
}

// openFilesNamed lists this process's open descriptors on dir/name (the
// seeder, in the same process, keeps its own copy open elsewhere).
func openFilesNamed(t *testing.T, dir, name string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	var open []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && target == filepath.Join(dir, name) {
			open = append(open, target)
		}
	}
	return open
}
