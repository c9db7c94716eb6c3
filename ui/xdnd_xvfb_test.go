package ui

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/shoalp2p/shoal/engine"
)

// TestXDNDDropXvfb drops files on the real window the way a file manager
// does, through the X drag-and-drop protocol (XDND, version 5) on the Xvfb
// server: a .torrent file opens for download, any other file is shared.
func TestXDNDDropXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	fyne.SetCurrentApp(realApp)
	dir := t.TempDir()
	torrent := filepath.Join(dir, "big buck bunny.torrent")
	doc := filepath.Join(dir, "holiday notes.txt")
	for path, body := range map[string]string{torrent: "d4:infod4:name3:bbbee", doc: "not a magnet link\n"} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := newFake()
	title := fmt.Sprintf("Shoal XDND %d", os.Getpid())
	var u *UI
	fyne.DoAndWait(func() {
		u = New(realApp, f)
		u.win.SetTitle(title)
		u.win.Resize(fyne.NewSize(800, 600))
		u.win.Show()
	})
	defer fyne.DoAndWait(u.win.Hide)

	x, err := newXDNDSource(title)
	if err != nil {
		t.Fatalf("XDND source: %v", err)
	}
	defer x.close()

	if err := x.drop(torrent); err != nil {
		t.Fatalf("drop %s: %v", torrent, err)
	}
	waitFake(t, f, "the dropped .torrent opened for download", func() bool {
		return slices.ContainsFunc(f.downloads, func(r engine.DownloadRequest) bool { return r.Source == torrent })
	})
	if err := x.drop(doc); err != nil {
		t.Fatalf("drop %s: %v", doc, err)
	}
	waitFake(t, f, "the dropped file shared", func() bool { return slices.Contains(f.shares, doc) })
	f.lock(func() {
		if len(f.downloads) != 1 || len(f.shares) != 1 {
			t.Errorf("downloads %+v, shares %q: want the .torrent opened and the other file shared, once each", f.downloads, f.shares)
		}
	})
}

// waitFake waits until cond holds on the fake engine (checked under its lock).
func waitFake(t *testing.T, f *fakeEngine, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		f.lock(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: not %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// xdndSource is a minimal XDND drag source: a window of its own that owns
// the XdndSelection and offers text/uri-list, talking to the target window
// by client messages, as a file manager does.
type xdndSource struct {
	conn   *xgb.Conn
	root   xproto.Window
	self   xproto.Window
	target xproto.Window
	atoms  map[string]xproto.Atom
	events chan xgb.Event
}

// newXDNDSource connects to $DISPLAY and finds the top-level window titled
// title.
func newXDNDSource(title string) (*xdndSource, error) {
	c, err := xgb.NewConn()
	if err != nil {
		return nil, fmt.Errorf("connect to the X server: %w", err)
	}
	x := &xdndSource{conn: c, atoms: map[string]xproto.Atom{}, events: make(chan xgb.Event, 16)}
	screen := xproto.Setup(c).DefaultScreen(c)
	x.root = screen.Root
	for _, name := range []string{"XdndAware", "XdndEnter", "XdndPosition", "XdndStatus", "XdndDrop",
		"XdndFinished", "XdndSelection", "XdndActionCopy", "text/uri-list", "_NET_WM_NAME", "UTF8_STRING"} {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("intern %s: %w", name, err)
		}
		x.atoms[name] = r.Atom
	}
	if x.target, err = x.findWindow(title, 10*time.Second); err != nil {
		c.Close()
		return nil, err
	}
	if x.self, err = xproto.NewWindowId(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("window id: %w", err)
	}
	if err := xproto.CreateWindowChecked(c, screen.RootDepth, x.self, x.root, 0, 0, 1, 1, 0,
		xproto.WindowClassInputOutput, screen.RootVisual, 0, nil).Check(); err != nil {
		c.Close()
		return nil, fmt.Errorf("create the source window: %w", err)
	}
	go func() {
		for {
			ev, err := c.WaitForEvent()
			if ev == nil && err == nil {
				close(x.events)
				return
			}
			if ev != nil {
				x.events <- ev
			}
		}
	}()
	return x, nil
}

func (x *xdndSource) close() { x.conn.Close() }

// findWindow waits for a child of the root window whose _NET_WM_NAME is
// title (GLFW sets it from the Fyne window's title).
func (x *xdndSource) findWindow(title string, within time.Duration) (xproto.Window, error) {
	deadline := time.Now().Add(within)
	for {
		tree, err := xproto.QueryTree(x.conn, x.root).Reply()
		if err != nil {
			return 0, fmt.Errorf("list windows: %w", err)
		}
		for _, w := range tree.Children {
			p, err := xproto.GetProperty(x.conn, false, w, x.atoms["_NET_WM_NAME"], x.atoms["UTF8_STRING"], 0, 256).Reply()
			if err == nil && string(p.Value) == title {
				return w, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no window titled %q", title)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send sends an XDND client message to the target window.
func (x *xdndSource) send(msg string, data ...uint32) error {
	data = append(data, make([]uint32, 5-len(data))...)
	ev := xproto.ClientMessageEvent{Format: 32, Window: x.target, Type: x.atoms[msg],
		Data: xproto.ClientMessageDataUnionData32New(data)}
	return xproto.SendEventChecked(x.conn, false, x.target, xproto.EventMaskNoEvent, string(ev.Bytes())).Check()
}

// drop drags path onto the middle of the target window and drops it: Enter
// and Position, the target's Status accepting, Drop, the target reading
// the selection as text/uri-list, and its Finished.
func (x *xdndSource) drop(path string) error {
	aware, err := xproto.GetProperty(x.conn, false, x.target, x.atoms["XdndAware"], xproto.AtomAtom, 0, 1).Reply()
	if err != nil || len(aware.Value) < 4 {
		return fmt.Errorf("the window is not XdndAware (%v)", err)
	}
	if v := xgb.Get32(aware.Value); v < 5 {
		return fmt.Errorf("the window speaks XDND version %d, the test version 5", v)
	}
	if err := xproto.SetSelectionOwnerChecked(x.conn, x.self, x.atoms["XdndSelection"], xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("own XdndSelection: %w", err)
	}
	geo, err := xproto.GetGeometry(x.conn, xproto.Drawable(x.target)).Reply()
	if err != nil {
		return fmt.Errorf("window size: %w", err)
	}
	at, err := xproto.TranslateCoordinates(x.conn, x.target, x.root, int16(geo.Width/2), int16(geo.Height/2)).Reply()
	if err != nil {
		return fmt.Errorf("window position: %w", err)
	}
	uriList := x.atoms["text/uri-list"]
	src := uint32(x.self)
	if err := x.send("XdndEnter", src, 5<<24, uint32(uriList)); err != nil {
		return fmt.Errorf("enter: %w", err)
	}
	pos := uint32(uint16(at.DstX))<<16 | uint32(uint16(at.DstY))
	if err := x.send("XdndPosition", src, 0, pos, xproto.TimeCurrentTime, uint32(x.atoms["XdndActionCopy"])); err != nil {
		return fmt.Errorf("position: %w", err)
	}
	status, err := x.await("XdndStatus")
	if err != nil {
		return err
	}
	if status.Data.Data32[1]&1 == 0 {
		return errors.New("the window refused the drop (XdndStatus without accept)")
	}
	if err := x.send("XdndDrop", src, 0, xproto.TimeCurrentTime); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	data := (&url.URL{Scheme: "file", Path: path}).String() + "\r\n"
	fin, err := x.serve(data)
	if err != nil {
		return err
	}
	// The spec has bit 0 for "accepted"; GLFW sends the number of bytes it
	// read there, so anything but 0 is an accepted drop.
	if fin.Data.Data32[1] == 0 {
		return errors.New("the window did not accept the dropped data (XdndFinished without accept)")
	}
	return nil
}

// await waits for the client message msg from the target.
func (x *xdndSource) await(msg string) (xproto.ClientMessageEvent, error) {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-x.events:
			if !ok {
				return xproto.ClientMessageEvent{}, errors.New("X connection closed")
			}
			if cm, ok := ev.(xproto.ClientMessageEvent); ok && cm.Type == x.atoms[msg] {
				return cm, nil
			}
		case <-timeout:
			return xproto.ClientMessageEvent{}, fmt.Errorf("no %s from the window in 10 s", msg)
		}
	}
}

// serve answers the target's request for the selection with data and
// waits for XdndFinished.
func (x *xdndSource) serve(data string) (xproto.ClientMessageEvent, error) {
	timeout := time.After(10 * time.Second)
	served := false
	for {
		select {
		case ev, ok := <-x.events:
			if !ok {
				return xproto.ClientMessageEvent{}, errors.New("X connection closed")
			}
			switch e := ev.(type) {
			case xproto.SelectionRequestEvent:
				if err := x.answer(e, data); err != nil {
					return xproto.ClientMessageEvent{}, err
				}
				served = true
			case xproto.ClientMessageEvent:
				if e.Type == x.atoms["XdndFinished"] {
					if !served {
						return e, errors.New("XdndFinished before the window asked for the data")
					}
					return e, nil
				}
			}
		case <-timeout:
			return xproto.ClientMessageEvent{}, fmt.Errorf("no XdndFinished in 10 s (data asked for: %v)", served)
		}
	}
}

// answer puts data in the requestor's property as text/uri-list and tells
// it so; a request for any other type is refused (property None).
func (x *xdndSource) answer(e xproto.SelectionRequestEvent, data string) error {
	prop := e.Property
	if e.Target == x.atoms["text/uri-list"] {
		if err := xproto.ChangePropertyChecked(x.conn, xproto.PropModeReplace, e.Requestor, e.Property, e.Target, 8,
			uint32(len(data)), []byte(data)).Check(); err != nil {
			return fmt.Errorf("hand over the data: %w", err)
		}
	} else {
		prop = xproto.AtomNone
	}
	n := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	return xproto.SendEventChecked(x.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(n.Bytes())).Check()
}
