package bench

import (
	"encoding/binary"
	"io"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// xWatch finds a window by its name on an X display and counts the
// colours of its pixels, over one connection to the X server. The bench
// did this by running xwininfo and xwd every 25 ms; on a 2-core machine
// those processes (about 30 ms of CPU a poll, besides the X server's
// copy) slowed the start they timed: the GUI's own first frame (its
// "first frame" debug log line) came 0.72 s after the start while polled
// against 0.62 s unpolled, medians of 11 starts each at load 1.3-2.1. A
// GetImage and count on a held connection costs the poller about 9 ms.
type xWatch struct {
	conn  *xgb.Conn
	root  xproto.Window
	atoms [2]xproto.Atom // WM_NAME, _NET_WM_NAME
}

// dialX connects to display.
func dialX(display string) (*xWatch, error) {
	xgb.Logger.SetOutput(io.Discard) // it complains of a missing ~/.Xauthority, which Xvfb does not need
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, err
	}
	x := &xWatch{conn: conn, root: xproto.Setup(conn).DefaultScreen(conn).Root}
	for i, name := range []string{"WM_NAME", "_NET_WM_NAME"} {
		a, err := xproto.InternAtom(conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			conn.Close()
			return nil, err
		}
		x.atoms[i] = a.Atom
	}
	return x, nil
}

func (x *xWatch) close() { x.conn.Close() }

// window is the largest window named name anywhere under the root (as
// `xwininfo -root -tree` lists them), or 0.
func (x *xWatch) window(name string) xproto.Window {
	best, area := xproto.Window(0), 0
	queue := []xproto.Window{x.root}
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		tree, err := xproto.QueryTree(x.conn, w).Reply()
		if err != nil {
			continue
		}
		queue = append(queue, tree.Children...)
		if w == x.root || !x.named(w, name) {
			continue
		}
		g, err := xproto.GetGeometry(x.conn, xproto.Drawable(w)).Reply()
		if err == nil && int(g.Width)*int(g.Height) > area {
			best, area = w, int(g.Width)*int(g.Height)
		}
	}
	return best
}

// named reports whether w's WM_NAME or _NET_WM_NAME is name.
func (x *xWatch) named(w xproto.Window, name string) bool {
	for _, atom := range x.atoms {
		p, err := xproto.GetProperty(x.conn, false, w, atom, xproto.GetPropertyTypeAny, 0, 256).Reply()
		if err == nil && string(p.Value) == name {
			return true
		}
	}
	return false
}

// colors counts the distinct pixel values of window w (up to 256).
func (x *xWatch) colors(w xproto.Window) (int, error) {
	g, err := xproto.GetGeometry(x.conn, xproto.Drawable(w)).Reply()
	if err != nil {
		return 0, err
	}
	img, err := xproto.GetImage(x.conn, xproto.ImageFormatZPixmap, xproto.Drawable(w), 0, 0, g.Width, g.Height, ^uint32(0)).Reply()
	if err != nil {
		return 0, err
	}
	return distinctPixels(img.Data, len(img.Data)/max(1, int(g.Width)*int(g.Height))), nil
}

// distinctPixels counts the distinct values of the bpp-byte pixels in b,
// up to 256; a run of equal pixels (an unpainted window is one long run)
// costs a comparison each.
func distinctPixels(b []byte, bpp int) int {
	if bpp < 1 || bpp > 4 {
		return 0
	}
	seen := map[uint32]bool{}
	var buf [4]byte
	var last uint32
	for i := 0; i+bpp <= len(b) && len(seen) < 256; i += bpp {
		copy(buf[:], b[i:i+bpp])
		v := binary.LittleEndian.Uint32(buf[:])
		if i > 0 && v == last {
			continue
		}
		last = v
		seen[v] = true
	}
	return len(seen)
}
