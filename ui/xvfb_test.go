package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/shoalp2p/shoal/engine"
)

// realApp is the GLFW app TestMain runs when SHOAL_XVFB=1; nil otherwise.
var realApp fyne.App

// TestMain hands the main goroutine to the GLFW driver when SHOAL_XVFB=1
// (GLFW must run on the main OS thread) and runs the tests beside it.
// Otherwise the tests run as usual on Fyne's test driver.
func TestMain(m *testing.M) {
	if os.Getenv("SHOAL_XVFB") != "1" {
		os.Exit(m.Run())
	}
	// Mesa's default llvmpipe reads the front buffer back as zeros under
	// Xvfb, so Capture would be black; softpipe reads it correctly.
	if os.Getenv("GALLIUM_DRIVER") == "" {
		_ = os.Setenv("GALLIUM_DRIVER", "softpipe")
	}
	realApp = app.NewWithID("io.github.shoalp2p.shoal")
	code := make(chan int, 1)
	go func() {
		code <- m.Run()
		fyne.Do(realApp.Quit)
	}()
	realApp.Run()
	os.Exit(<-code)
}

// TestScreenshotXvfb shows the real window with a busy fake node and
// captures each tab to $SHOAL_SCREENSHOT_DIR (default the temp dir), the
// Transfers tab as shoal-main.png. Run it with
//
//	SHOAL_XVFB=1 xvfb-run -a -s "-screen 0 1280x800x24" go test -run TestScreenshotXvfb ./ui
func TestScreenshotXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	fyne.SetCurrentApp(realApp) // other tests may have installed a test app
	dir := os.Getenv("SHOAL_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	f := newFake()
	f.settings.RatioTarget = 2 // the gauges show a target mark
	f.setSnapshot(demoSnapshot(time.Now()))
	var u *UI
	fyne.DoAndWait(func() {
		u = New(realApp, f)
		u.win.Show()
	})
	u.SetEventWaiter(GLFWWaiter()) // as the app does: the loop parks while idle
	ctx, cancel := context.WithCancel(context.Background())
	u.Start(ctx)
	defer func() {
		cancel()
		u.poller.Wait()
		settleSearch(u)
		fyne.DoAndWait(u.win.Hide)
	}()
	runDemoSearch(t, u, f)
	shots := []struct {
		name string
		tab  *fyneTab
	}{
		{"shoal-search.png", &fyneTab{u, 0}}, {"shoal-library.png", &fyneTab{u, 2}},
		{"shoal-ratio.png", &fyneTab{u, 3}}, {"shoal-settings.png", &fyneTab{u, 4}}, {"shoal-main.png", &fyneTab{u, 1}},
	}
	for _, s := range shots {
		img := s.tab.capture(t, 900)
		path := filepath.Join(dir, s.name)
		writePNG(t, path, img)
		if n := distinctColours(img); n < 8 {
			t.Errorf("%s has %d distinct colours: blank window?", path, n)
		}
		t.Logf("wrote %s (%v)", path, img.Bounds().Size())
	}
	menuShot(t, u, filepath.Join(dir, "shoal-transfers-menu.png"))
}

// menuShot sorts the Transfers tab by download rate and captures it with
// a row's right-click menu open.
func menuShot(t *testing.T, u *UI, path string) {
	t.Helper()
	g := u.transfers.grid
	fyne.DoAndWait(func() {
		u.tabs.SelectIndex(1)
		g.sortBy(trColDown)
	})
	time.Sleep(700 * time.Millisecond)
	fyne.DoAndWait(func() {
		c := u.win.Canvas()
		at := fyne.CurrentApp().Driver().AbsolutePositionForObject(g.table)
		g.showMenu(1, at.Add(fyne.NewPos(120, 90)), c)
	})
	time.Sleep(1500 * time.Millisecond)
	var img image.Image
	var names []string
	fyne.DoAndWait(func() {
		img = u.win.Canvas().Capture()
		for _, r := range g.rows {
			names = append(names, r[trColName])
		}
		u.win.Canvas().Overlays().Top().Hide()
	})
	if len(names) < 2 || names[0] != "ubuntu-24.04-desktop-amd64.iso" || names[1] != "Big Buck Bunny (2008) 1080p" {
		t.Errorf("sorted by Down: %q, want the fastest downloads first", names)
	}
	writePNG(t, path, opaque(img))
	t.Logf("wrote %s", path)
}

// TestScreenshotSizesXvfb captures every tab at 800×600 and 1600×1000 as
// shoal-<tab>-<W>x<H>.png, and checks that the window really has that size
// (the smallest fits 800×600) and that the Transfers toolbar folds at 800 px.
// The screen must be larger than 1600×1000 (the Makefile's is 1920×1200).
func TestScreenshotSizesXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	fyne.SetCurrentApp(realApp)
	dir := os.Getenv("SHOAL_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	f := newFake()
	f.settings.RatioTarget = 2
	f.setSnapshot(demoSnapshot(time.Now()))
	var u *UI
	fyne.DoAndWait(func() {
		u = New(realApp, f)
		u.win.Show()
	})
	u.SetEventWaiter(GLFWWaiter()) // as the app does: the loop parks while idle
	ctx, cancel := context.WithCancel(context.Background())
	u.Start(ctx)
	defer func() {
		cancel()
		u.poller.Wait()
		settleSearch(u)
		fyne.DoAndWait(u.win.Hide)
	}()
	runDemoSearch(t, u, f)
	names := []string{"search", "transfers", "library", "ratio", "settings"}
	for _, size := range []fyne.Size{{Width: 800, Height: 600}, {Width: 1600, Height: 1000}} {
		fyne.DoAndWait(func() { u.win.Resize(size) })
		time.Sleep(time.Second)

		for i, name := range names {
			img := (&fyneTab{u, i}).capture(t, 0)
			scale := float32(1)
			fyne.DoAndWait(func() { scale = u.win.Canvas().Scale() })
			want := image.Pt(int(size.Width*scale), int(size.Height*scale))
			if got := img.Bounds().Size(); got != want {
				t.Errorf("%s at %v: window is %v pixels, want %v", name, size, got, want)
			}
			path := filepath.Join(dir, fmt.Sprintf("shoal-%s-%dx%d.png", name, int(size.Width), int(size.Height)))
			writePNG(t, path, img)
			if n := distinctColours(img); n < 8 {
				t.Errorf("%s has %d distinct colours: blank window?", path, n)
			}
		}
		var folded bool
		fyne.DoAndWait(func() { folded = !u.transfers.open.Visible() })
		if folded != (size.Width < 1000) {
			t.Errorf("at %v the Transfers toolbar folded=%v", size, folded)
		}
	}
}

// fyneTab selects a tab, lets the window paint and captures it.
type fyneTab struct {
	u   *UI
	tab int
}

func (ft *fyneTab) capture(t *testing.T, minWidth int) image.Image {
	t.Helper()
	fyne.DoAndWait(func() {
		ft.u.tabs.SelectIndex(ft.tab)
		if ft.tab == 1 {
			ft.u.transfers.grid.selectRow(1)
			ft.u.transfers.peers.grid.selectRow(3) // the choked aria2: its note in full
		}
	})
	time.Sleep(1500 * time.Millisecond) // a few frames and snapshot ticks
	var img image.Image
	fyne.DoAndWait(func() { img = ft.u.win.Canvas().Capture() })
	if img == nil || img.Bounds().Dx() < minWidth {
		t.Fatalf("capture returned %v", img)
	}
	return opaque(img)
}

// opaque copies img with full alpha: a window's GL visual may have no alpha
// channel, and Capture then reports every pixel as transparent.
func opaque(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			c.A = 0xff
			out.SetRGBA(x, y, c)
		}
	}
	return out
}

func runDemoSearch(t *testing.T, u *UI, f *fakeEngine) {
	fyne.DoAndWait(func() {
		u.search.entry.SetText("linux iso")
		u.search.start()
	})
	stream := waitFor(t, f.streams, "Search call")
	for i, name := range []string{"ubuntu-24.04-desktop-amd64.iso", "debian-12.5.0-amd64-netinst.iso",
		"Fedora-Workstation-Live-x86_64-40.iso", "archlinux-2024.06.01-x86_64.iso", "linuxmint-21.3-cinnamon-64bit.iso"} {
		var srcs []string
		for j := 0; j <= (7*i+3)%6; j++ {
			srcs = append(srcs, fmt.Sprintf("127.0.0.1:%d", 6881+j))
		}
		stream <- engine.Hit{InfoHash: hash(byte(0x40 + i)), Name: name, Size: int64(700+900*i) << 20,
			Files: []string{name}, Sources: srcs}
	}
	close(stream)
	settleSearch(u)
}

// demoSnapshot is a busy node: transfers in every state, shares, history.
func demoSnapshot(now time.Time) engine.Snapshot {
	dl := func(i int, name string, size, have int64, st engine.TransferState, down, up float64, peers int) engine.TransferSnapshot {
		files := 0
		if size > 0 {
			files = 1
		}
		return engine.TransferSnapshot{InfoHash: hash(byte(0x10 + i)), Name: name, Dir: os.TempDir(), Size: size, Have: have,
			Wanted: size, WantedHave: have, Files: files,
			State: st, DownRate: down, UpRate: up, Peers: peers, Seeds: peers / 2, Downloaded: have, Uploaded: have / 3,
			ETA: time.Duration(float64(size-have)/math.Max(down, 1)) * time.Second}
	}
	s := engine.Snapshot{Taken: now, Transfers: []engine.TransferSnapshot{
		dl(0, "ubuntu-24.04-desktop-amd64.iso", 6<<30, 4<<30, engine.StateDownloading, 12<<20, 1<<20, 14),
		dl(1, "Big Buck Bunny (2008) 1080p", 885<<20, 200<<20, engine.StateDownloading, 3.4*(1<<20), 250<<10, 6),
		dl(2, "sintel-4k.mkv", 4<<30, 4<<30, engine.StateSeeding, 0, 2<<20, 3),
		dl(3, "debian-12.5.0-amd64-DVD-1.iso", 3900<<20, 1200<<20, engine.StatePaused, 0, 0, 0),
		dl(4, "", 0, 0, engine.StateFetchingMetadata, 0, 0, 1),
		{InfoHash: hash(0x1f), Name: "broken-share.tar", State: engine.StateError, Err: "disk full", Size: 1 << 30},
	}}
	s.Transfers[2].Downloaded = 0 // our own share: ratio ∞
	s.Transfers[1].PeerDetails = []engine.PeerSnapshot{
		{Addr: "127.0.0.1:6881", Client: "qBittorrent 4.5.2", Progress: 1, DownRate: 1.9 * (1 << 20), UpRate: 120 << 10, Downloaded: 120 << 20, Uploaded: 2 << 20,
			GaveAllTime: 1300 << 20, TookAllTime: 310 << 20},
		{Addr: "127.0.0.1:51413", Client: "Transmission 3.00", Progress: 1, DownRate: 1.1 * (1 << 20), Downloaded: 64 << 20, GaveAllTime: 64 << 20},
		{Addr: "127.0.0.1:6890", Client: "Shoal 0.1.0", Progress: 0.41, DownRate: 400 << 10, UpRate: 130 << 10, Downloaded: 16 << 20, Uploaded: 9 << 20,
			GaveAllTime: 210 << 20, TookAllTime: 1023 << 20},
		{Addr: "127.0.0.1:6999", Client: "aria2/1.36.0", Progress: 0.08, Choked: true, ChokingUs: true, Uploaded: 5 << 20, TookAllTime: 5 << 20,
			Note: "choked: not among the fastest uploaders"},
		{Addr: "127.0.0.1:7012", Client: "Shoal 0.1.0", Progress: 0.66, ChokingUs: true, Downloaded: 3 << 20, GaveAllTime: 3 << 20,
			Note: "snubbed: no data for 30s"},
	}
	s.Transfers[1].Banned = []engine.BannedPeer{{Key: engine.PeerKeyFromIP("127.0.0.9"), Reason: "sent 2 pieces that failed their hash"}}
	s.Library = []engine.LibraryItem{
		{InfoHash: hash(0x30), Name: "holiday-photos", Path: "/home/me/Pictures/holiday-photos", Size: 2300 << 20, Files: 412, Magnet: "magnet:?xt=urn:btih:3030"},
		{InfoHash: hash(0x31), Name: "talk.mp4", Path: "/home/me/Videos/talk.mp4", Size: 310 << 20, Files: 1, Magnet: "magnet:?xt=urn:btih:3131"},
	}
	s.ShareJobs = []engine.ShareJob{{Path: "/home/me/Music/flac-collection", Hashed: 5 << 30, Total: 12 << 30}}
	s.Ratio = engine.Ratio{Uploaded: 61 << 30, Downloaded: 42 << 30, SessionUploaded: 3 << 30, SessionDownloaded: 2 << 30}
	s.Net = engine.NetStatus{DHTNodes: 312, Peers: 24, Supernodes: []string{"127.0.0.1:7000"}, DownRate: 15.4 * (1 << 20), UpRate: 3.2 * (1 << 20)}
	for i := range 180 {
		x := float64(i)
		s.History = append(s.History, engine.RateSample{At: now.Add(time.Duration(i-179) * time.Second),
			Down: int64((9 + 5*math.Sin(x/9) + 2*math.Sin(x/2.3)) * (1 << 20)),
			Up:   int64((3 + 1.2*math.Cos(x/13)) * (1 << 20))})
	}
	return s
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(out, img); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func distinctColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

// TestParkedWindowXvfb: on a real GLFW window, an idle window parks Fyne's
// loop, work handed over through u.do wakes the parked loop at once (not
// at the park's timeout), and a change in the engine's snapshot still
// reaches the screen.
func TestParkedWindowXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	fyne.SetCurrentApp(realApp)
	f := newFake()
	f.setSnapshot(bigSnapshot(3))
	var u *UI
	fyne.DoAndWait(func() {
		u = New(realApp, f)
		u.ShowTab("transfers")
		u.win.Show()
	})
	var wakes atomic.Int32
	w := GLFWWaiter()
	wake := w.Wake
	w.Wake = func() { wakes.Add(1); wake() }
	u.SetEventWaiter(w)
	ctx, cancel := context.WithCancel(context.Background())
	u.Start(ctx)
	defer func() {
		cancel()
		u.poller.Wait()
		fyne.DoAndWait(u.win.Hide)
	}()
	before := captureParked(t, u)
	var lat []time.Duration
	for range 5 {
		waitParked(t, u)
		ran := make(chan time.Duration, 1)
		start := time.Now()
		u.do(func() { ran <- time.Since(start) })
		lat = append(lat, <-ran)
	}
	slices.Sort(lat)
	if wakes.Load() == 0 || lat[2] > waitTimeout/4 {
		t.Fatalf("work handed to a parked loop ran after %v (sorted), %d wakes: want well under the park's %v", lat, wakes.Load(), waitTimeout)
	}
	t.Logf("a parked loop ran handed-over work after %v (sorted)", lat)

	f.setSnapshot(bigSnapshot(4)) // a fourth transfer: the poller sees it within idlePoll
	deadline := time.Now().Add(5 * time.Second)
	for {
		var rows int
		fyne.DoAndWait(func() { rows = len(u.transfers.grid.rows) })
		if rows == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window shows %d transfers 5 s after a fourth appeared", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the loop draws at its next tick
	if after := captureParked(t, u); imagesEqual(before, after) {
		t.Fatal("the window looks the same after a fourth transfer appeared")
	}
}

// waitParked waits until u's loop is parked.
func waitParked(t *testing.T, u *UI) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !u.waiting.Load() {
		if time.Now().After(deadline) {
			t.Fatal("an idle window did not park Fyne's loop within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// captureParked captures the window once it is idle and parked.
func captureParked(t *testing.T, u *UI) image.Image {
	t.Helper()
	waitParked(t, u)
	var img image.Image
	fyne.DoAndWait(func() { img = u.win.Canvas().Capture() })
	return img
}

func imagesEqual(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
