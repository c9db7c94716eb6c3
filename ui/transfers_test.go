package ui

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// twoTransfers is a downloading and a paused transfer saved under dir.
func twoTransfers(dir string) engine.Snapshot {
	return engine.Snapshot{Transfers: []engine.TransferSnapshot{{
		InfoHash: hash(1), Name: "big-buck-bunny.mkv", Dir: dir, Size: 800 << 20, Have: 200 << 20,
		Wanted: 800 << 20, WantedHave: 200 << 20,
		State: engine.StateDownloading, DownRate: 2.5 * 1024 * 1024, UpRate: 300 * 1024,
		Peers: 5, Seeds: 2, SwarmPeers: 120, SwarmSeeds: 40, ETA: 4*time.Minute + 5*time.Second, Downloaded: 200 << 20, Uploaded: 100 << 20,
	}, {
		InfoHash: hash(2), Name: "sintel.webm", Dir: dir, Size: 100 << 20, Have: 50 << 20,
		Wanted: 100 << 20, WantedHave: 50 << 20,
		State: engine.StatePaused, SwarmPeers: -1, SwarmSeeds: -1,
	}}}
}

func TestTransfersRows(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	u.Refresh(twoTransfers(t.TempDir()))
	want := [][]string{
		{"big-buck-bunny.mkv", "", "800 MiB", "Downloading", "2.50 MiB/s", "300 KiB/s", "4m 05s", "2 (40)", "5 (120)", "0.50"},
		{"sintel.webm", "", "100 MiB", "Paused", "", "", "", "0", "0", "0.00"},
	}
	for i, row := range want {
		if got := u.transfers.grid.rows[i]; strings.Join(got, "|") != strings.Join(row, "|") {
			t.Errorf("row %d = %q\n want %q", i, got, row)
		}
	}
	if p := u.transfers.grid.progress; len(p) != 2 || p[0] != 0.25 || p[1] != 0.5 {
		t.Errorf("progress = %v", p)
	}
	bar := cells(u.transfers.grid)[widget.TableCellID{Row: 0, Col: trColProgress}].Objects[2].(*widget.ProgressBar)
	if !bar.Visible() || bar.Value != 0.25 {
		t.Errorf("progress bar visible=%v value=%v", bar.Visible(), bar.Value)
	}
}

func TestTransferActions(t *testing.T) {
	u, f := newTestUI(t)
	u.tabs.Select(u.transferItem)
	dir := t.TempDir()
	u.Refresh(twoTransfers(dir))
	if !u.transfers.pause.Disabled() || !u.transfers.remove.Disabled() {
		t.Fatal("actions enabled with nothing selected")
	}

	u.transfers.grid.table.Select(widget.TableCellID{Row: 0, Col: trColState})
	if u.transfers.pause.Disabled() || !u.transfers.resume.Disabled() {
		t.Fatalf("downloading row: pause disabled=%v resume disabled=%v",
			u.transfers.pause.Disabled(), u.transfers.resume.Disabled())
	}
	test.Tap(u.transfers.pause)
	settle(u)

	label := cells(u.transfers.grid)[widget.TableCellID{Row: 1, Col: trColName}].Objects[1].(*cellLabel)
	test.Tap(label) // selecting by tapping the row
	if u.transfers.resume.Disabled() {
		t.Fatal("resume disabled on the paused row")
	}
	test.Tap(u.transfers.resume)
	settle(u)
	f.lock(func() {
		if len(f.paused) != 1 || f.paused[0] != hash(1) || len(f.resumed) != 1 || f.resumed[0] != hash(2) {
			t.Errorf("paused %v resumed %v", f.paused, f.resumed)
		}
	})

	// Remove, first cancelled, then confirmed with the data.
	test.Tap(u.transfers.remove)
	test.Tap(u.transfers.removing.cancel)
	test.Tap(u.transfers.remove)
	test.Tap(u.transfers.removing.deleteData)
	test.Tap(u.transfers.removing.confirm)
	settle(u)
	f.lock(func() {
		if len(f.removed) != 1 || f.removed[0] != (removal{hash(2), true}) {
			t.Errorf("removed = %+v, want sintel with its data", f.removed)
		}
	})

	var opened []*url.URL
	u.openURL = func(l *url.URL) error { opened = append(opened, l); return nil }
	test.Tap(u.transfers.open)
	if len(opened) != 1 || opened[0].String() != "file://"+dir {
		t.Errorf("opened %v, want file://%s", opened, dir)
	}
}

func TestTransferRowSelectionFollowsReorder(t *testing.T) {
	u, _ := newTestUI(t)
	s := twoTransfers(t.TempDir())
	u.Refresh(s)
	u.transfers.grid.selectRow(1)
	s.Transfers = []engine.TransferSnapshot{s.Transfers[1], s.Transfers[0]}
	u.Refresh(s)
	if got, _ := u.transfers.selected(); got.InfoHash != hash(2) {
		t.Errorf("selection moved to %s", got.Name)
	}
	s.Transfers = s.Transfers[1:]
	u.Refresh(s)
	if _, ok := u.transfers.selected(); ok || !u.transfers.remove.Disabled() {
		t.Error("a removed transfer stays selected")
	}
}

func TestActionErrorsShowADialog(t *testing.T) {
	u, f := newTestUI(t)
	u.Refresh(twoTransfers("/nonexistent/shoal-test"))
	u.transfers.grid.selectRow(0)
	f.setFail(errBoom)
	test.Tap(u.transfers.pause)
	settle(u)
	assertDialog(t, u, "Could not pause big-buck-bunny.mkv")

	test.Tap(u.transfers.open) // the folder does not exist
	assertDialog(t, u, "Could not open the folder of big-buck-bunny.mkv")
}

// assertDialog checks that the top overlay shows text.
func assertDialog(t *testing.T, u *UI, text string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog; want one saying %q", text)
	}
	if m := test.RenderObjectToMarkup(top); !strings.Contains(m, text) {
		t.Errorf("dialog does not say %q:\n%s", text, m)
	}
	u.win.Canvas().Overlays().Remove(top)
}

func TestStatusBar(t *testing.T) {
	u, _ := newTestUI(t)
	cases := []struct {
		net  engine.NetStatus
		want string
	}{
		{engine.NetStatus{DHTNodes: 1, Peers: 3}, "DHT: 1 node|Peers: 3|Supernode: not linked|↓ 0 B/s   ↑ 0 B/s"},
		{engine.NetStatus{DHTNodes: 120, Supernodes: []string{"127.0.0.1:7000", "127.0.0.1:7001"}, DownRate: 2048, UpRate: 1.5e6},
			"DHT: 120 nodes|Peers: 0|Supernode: 127.0.0.1:7000 (+1)|↓ 2.00 KiB/s   ↑ 1.43 MiB/s"},
		{engine.NetStatus{IsSupernode: true, Leaves: 12}, "DHT: 0 nodes|Peers: 0|Supernode: 12 leaves|↓ 0 B/s   ↑ 0 B/s"},
	}
	for _, c := range cases {
		u.Refresh(engine.Snapshot{Net: c.net})
		b := u.status
		got := fmt.Sprintf("%s|%s|%s|%s", b.dht.Text, b.peers.Text, b.super.Text, b.rates.Text)
		if got != c.want {
			t.Errorf("status = %q, want %q", got, c.want)
		}
	}
}

func TestPeersOfTheSelectedTransfer(t *testing.T) {
	u, _ := newTestUI(t)
	u.win.Resize(fyne.NewSize(1000, 1000)) // every peer row on screen
	u.tabs.Select(u.transferItem)
	s := twoTransfers(t.TempDir())
	s.Transfers[0].PeerDetails = []engine.PeerSnapshot{
		{Addr: "127.0.0.1:6881", Client: "qBittorrent 4.5", Network: "utp", Encryption: "rc4", Progress: 1, DownRate: 1 << 20, Downloaded: 3 << 20,
			Uploaded: 512 << 10, GaveAllTime: 40 << 30, TookAllTime: 700 << 20},
		{Addr: "127.0.0.1:6882", Client: "Shoal 0.1", Network: "tcp", Encryption: "obfuscated", Progress: 0.5, Uploaded: 4 << 20, TookAllTime: 4 << 20, Choked: true, ChokingUs: true,
			Note: "choked: not among the fastest uploaders"},
		{Addr: "127.0.0.1:6883", Client: "Shoal 0.1", Choked: true, Banned: true, Note: "sent 2 bad pieces"},
		{Addr: "127.0.0.1:6884", Client: "Transmission 4.0", Network: "tcp", Encryption: "none", Progress: 1, Choked: true, GaveAllTime: 1 << 30},
		{Addr: "127.0.0.1:6885", Client: "aria2", Progress: 0.25, ChokingUs: true, GaveAllTime: 900, Note: "snubbed: no data for 30s"},
	}
	s.Transfers[0].Banned = []engine.BannedPeer{{Key: engine.PeerKeyFromIP("198.18.0.9"), Reason: "piece 7 failed its hash"},
		{Key: engine.PeerKeyFromID([20]byte([]byte("-SH010-abcdefghijklm"))), Reason: "piece 3 failed its hash"}}
	u.Refresh(s)
	if got := u.transfers.peers.grid.rows; len(got) != 0 {
		t.Fatalf("peers shown with nothing selected: %q", got)
	}
	u.transfers.grid.selectRow(0)
	// Address|Client|Link|Has|Down|Up|Gave us, Took (this link)|Choking|Why
	want := []string{
		"127.0.0.1:6881|qBittorrent 4.5|uTP, RC4||1.00 MiB/s||3.00 MiB|512 KiB|no|",
		"127.0.0.1:6882|Shoal 0.1|TCP, MSE||||0 B|4.00 MiB|both|choked: not among the fastest uploaders",
		"127.0.0.1:6883|Shoal 0.1|||||0 B|0 B|we do|banned: sent 2 bad pieces",
		"127.0.0.1:6884|Transmission 4.0|TCP||||0 B|0 B|we do|seed: wants nothing",
		"127.0.0.1:6885|aria2|||||0 B|0 B|it does|snubbed: no data for 30s",
		"198.18.0.9||||||||banned|banned: piece 7 failed its hash",
		"peer 2d53483031302d61…||||||||banned|banned: piece 3 failed its hash",
	}
	rows := u.transfers.peers.grid.rows
	if len(rows) != len(want) {
		t.Fatalf("peer rows = %q", rows)
	}
	for i, w := range want {
		if got := strings.Join(rows[i], "|"); got != w {
			t.Errorf("peer row %d = %q\n want %q", i, got, w)
		}
	}
	if got := u.transfers.peers.title.Text; got != `Peers of "big-buck-bunny.mkv": 5 connected, 2 banned` {
		t.Errorf("title %q", got)
	}
	c := cells(u.transfers.peers.grid)
	if bar := c[widget.TableCellID{Row: 0, Col: peerColProgress}].Objects[2]; !bar.Visible() {
		t.Error("a connected peer's progress bar is hidden")
	}
	if bar := c[widget.TableCellID{Row: 5, Col: peerColProgress}].Objects[2]; bar.Visible() {
		t.Error("a banned peer shows a progress bar")
	}
	u.transfers.peers.grid.selectRow(1)
	if got := u.transfers.peers.detail.Text; got != "127.0.0.1:6882 (Shoal 0.1) over TCP, handshake encrypted, data not: "+
		"choked: not among the fastest uploaders; over all time it gave us 0 B and took 4.00 MiB" {
		t.Errorf("detail of the selected peer %q", got)
	}
	// A peer leaves while the transfer's own row stays the same.
	next := clone(s)
	next.Transfers[0].PeerDetails = next.Transfers[0].PeerDetails[:1]
	u.Refresh(next)
	if n := len(u.transfers.peers.grid.rows); n != 3 {
		t.Errorf("%d peer rows after two left, want 1 peer and 2 bans", n)
	}
	if got := u.transfers.peers.detail.Text; !strings.HasPrefix(got, "Select a peer") {
		t.Errorf("detail %q after the selected peer left", got)
	}
	u.transfers.grid.selectRow(1)
	if n := len(u.transfers.peers.grid.rows); n != 0 {
		t.Errorf("%d peer rows for a transfer without peers", n)
	}
}

func TestSelectionOfANewDownloadWaitsForItsRow(t *testing.T) {
	u, _ := newTestUI(t)
	s := twoTransfers(t.TempDir())
	u.transfers.grid.selectKey(hash(2).String()) // Download returned before any snapshot had it
	u.Refresh(engine.Snapshot{Transfers: s.Transfers[:1]})
	u.Refresh(s)
	if got, ok := u.transfers.selected(); !ok || got.InfoHash != hash(2) {
		t.Errorf("selected %v %v, want the new transfer", got.Name, ok)
	}
}

// TestPeerColumnsFitAt1000px checks the peers table at the default window
// width: every title line fits its column, and the Why column keeps at
// least its minimum width without scrolling sideways.
func TestPeerColumnsFitAt1000px(t *testing.T) {
	u, _ := newTestUI(t)
	u.tabs.Select(u.transferItem)
	s := twoTransfers(t.TempDir())
	s.Transfers[0].PeerDetails = []engine.PeerSnapshot{{Addr: "127.0.0.1:51413", Client: "Transmission 3.00",
		Downloaded: 1023 << 20, GaveAllTime: 1023 << 30, Note: "choked: not among the fastest uploaders"}}
	u.Refresh(s)
	u.transfers.grid.selectRow(0)
	g := u.transfers.peers.grid
	u.win.Resize(fyne.NewSize(1000, 650))
	for _, c := range g.cols {
		for _, line := range strings.Split(c.title, "\n") {
			if w := textWidth(line, true); w > c.width {
				t.Errorf("title line %q needs %.0f px, column %q is %.0f", line, w, c.title, c.width)
			}
		}
	}
	why, ok := cells(g)[widget.TableCellID{Row: 0, Col: peerColWhy}]
	if !ok {
		t.Fatal("the Why cell is not drawn")
	}
	right := why.Position().X + why.Size().Width
	if why.Size().Width < g.cols[peerColWhy].width || right > g.width-theme.ScrollBarSize() {
		t.Errorf("Why cell %v wide ending at %.0f in a %.0f px table", why.Size().Width, right, g.width)
	}
	if tr, ok := cells(u.transfers.grid)[widget.TableCellID{Row: 0, Col: trColName}]; !ok {
		t.Error("no transfer cell drawn")
	} else if tr.Size().Height != why.Size().Height {
		t.Errorf("peer rows are %v tall, transfer rows %v: the two-line header made rows taller", why.Size().Height, tr.Size().Height)
	}
	if g.width < 950 {
		t.Errorf("peers table %.0f px wide in a 1000 px window", g.width)
	}
}
