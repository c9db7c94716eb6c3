package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

func TestStartPullsSnapshotsUntilCancelled(t *testing.T) {
	u, f := newTestUI(t)
	f.setSnapshot(engine.Snapshot{Net: engine.NetStatus{DHTNodes: 42}, Ratio: engine.Ratio{Uploaded: 3, Downloaded: 2}})
	ctx, cancel := context.WithCancel(context.Background())
	u.Start(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for f.snapCalls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the ticker took fewer than 3 snapshots in 5 s")
		}
		time.Sleep(20 * time.Millisecond)
		settle(u) // the Fyne goroutine applies the snapshot: the next tick pulls one
	}
	cancel()
	u.poller.Wait()
	settle(u)
	if got := u.status.dht.Text; got != "DHT: 42 nodes" {
		t.Errorf("status shows %q after ticks", got)
	}
	if got := u.ratio.big.Text; got != "1.50" {
		t.Errorf("ratio shows %q after ticks", got)
	}
	if u.ctx.Err() == nil {
		t.Error("the UI context outlives Start's context")
	}
	n := f.snapCalls.Load()
	time.Sleep(2 * pollInterval)
	if f.snapCalls.Load() != n {
		t.Error("snapshots continue after the context ended")
	}
}

// bigSnapshot has n transfers in mid-download, as a busy node shows them.
func bigSnapshot(n int) engine.Snapshot {
	s := engine.Snapshot{Taken: time.Unix(1700000000, 0), Net: engine.NetStatus{DHTNodes: 300, Peers: 4 * n}}
	for i := range n {
		var h engine.InfoHash
		h[0], h[1] = byte(i), byte(i>>8)
		s.Transfers = append(s.Transfers, engine.TransferSnapshot{
			InfoHash: h, Name: fmt.Sprintf("transfer-%03d.iso", i), Dir: "/tmp", Size: 1 << 30, Have: int64(i) << 20,
			Wanted: 1 << 30, WantedHave: int64(i) << 20,
			State: engine.StateDownloading, DownRate: float64(i) * 1000, UpRate: 500, Peers: 4, Seeds: 1,
			ETA: time.Duration(i) * time.Minute, PeerDetails: []engine.PeerSnapshot{{Addr: "127.0.0.1:1"}},
		})
	}
	for i := range 20 {
		var h engine.InfoHash
		h[19] = byte(i)
		s.Library = append(s.Library, engine.LibraryItem{InfoHash: h, Name: fmt.Sprintf("share-%d", i), Size: 1 << 20})
	}
	return s
}

// clone deep-copies the slices, as every engine snapshot is a fresh copy.
func clone(s engine.Snapshot) engine.Snapshot {
	s.Transfers = append([]engine.TransferSnapshot(nil), s.Transfers...)
	s.Library = append([]engine.LibraryItem(nil), s.Library...)
	return s
}

func TestSteadyRefreshIsFree(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	s := bigSnapshot(200)
	u.Refresh(s)
	u.transfers.grid.selectRow(3) // its peers show too
	same := clone(s)
	before := u.transfers.grid.refreshes
	allocs := testing.AllocsPerRun(20, func() { u.Refresh(same) })
	if allocs != 0 {
		t.Errorf("an unchanged snapshot costs %v allocations, want 0", allocs)
	}
	if u.transfers.grid.refreshes != before {
		t.Errorf("an unchanged snapshot refreshed the table %d times", u.transfers.grid.refreshes-before)
	}

	// One changed rate redraws the table once and changes one cell.
	moved := clone(s)
	moved.Transfers[7].DownRate = 5 << 20
	u.Refresh(moved)
	if got := u.transfers.grid.refreshes - before; got != 1 {
		t.Errorf("one changed transfer refreshed the table %d times, want 1", got)
	}
	if got := u.transfers.grid.rows[7][trColDown]; got != "5.00 MiB/s" {
		t.Errorf("row 7 down = %q", got)
	}
}

func BenchmarkRefresh(b *testing.B) {
	u, _ := newTestUI(b)
	u.tabs.Select(u.transferItem)
	s := bigSnapshot(200)
	u.Refresh(s)
	b.Run("unchanged", func(b *testing.B) {
		a, c := clone(s), clone(s)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				u.Refresh(a)
			} else {
				u.Refresh(c)
			}
		}
	})
	b.Run("all-rates-change", func(b *testing.B) {
		b.ReportAllocs()
		next := clone(s)
		for i := 0; b.Loop(); i++ {
			for j := range next.Transfers {
				next.Transfers[j].DownRate = float64(i%50+1) * 100000
			}
			u.Refresh(next)
			next = clone(next)
		}
	})
}
