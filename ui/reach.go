package ui

import (
	"fmt"
	"net"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// reachWords says, for people, whether other peers can connect to us and
// what to do if not. listenPort is the port to forward by hand; mapping
// says whether UPnP/NAT-PMP is on in the settings.
func reachWords(n engine.NetStatus, listenPort int, mapping bool) string {
	port := listenPort
	if p := portOfAddr(n.ExternalAddr); p > 0 {
		port = p
	}
	switch n.Reachable {
	case "yes":
		switch n.PortMapping {
		case "upnp":
			return fmt.Sprintf("Reachable: other peers can connect to you (port %d opened by your router with UPnP).", port)
		case "natpmp":
			return fmt.Sprintf("Reachable: other peers can connect to you (port %d opened by your router with NAT-PMP).", port)
		}
		return fmt.Sprintf("Reachable: other peers can connect to you on port %d.", port)
	case "no":
		why := "your router did not open a port."
		do := fmt.Sprintf("Enable UPnP on the router or forward TCP+UDP port %d.", listenPort)
		if !mapping {
			why = "opening a port on the router (UPnP/NAT-PMP) is off, and nobody outside could connect."
			do = fmt.Sprintf("Turn on \"Open the port on my router\" above, or forward TCP+UDP port %d on the router.", listenPort)
		}
		return "Not reachable: " + why + " Downloads still work, but fewer peers can download from you. " + do
	}
	if n.ReachTesting {
		return "Testing whether other peers can connect to you…"
	}
	return "Not tested yet: Shoal is looking for a supernode to test whether other peers can connect to you."
}

// reachKey is what the reachability words depend on.
type reachKey struct {
	reachable, mapping, external, peer string
	testing, mappingOn                 bool
	listenPort                         int
	valid                              bool
}

func reachKeyOf(n engine.NetStatus, s engine.Settings) reachKey {
	return reachKey{n.Reachable, n.PortMapping, n.ExternalAddr, n.PeerAddr, n.ReachTesting, s.PortMapping, s.ListenPort, true}
}

// reachShort is the status bar's word for reachability.
func reachShort(n engine.NetStatus) string {
	switch {
	case n.Reachable == "yes":
		return "Reachable"
	case n.Reachable == "no":
		return "Not reachable"
	case n.ReachTesting:
		return "Reachability: testing…"
	}
	return "Reachability: not tested yet"
}

// portOfAddr is the port of host:port, or 0.
func portOfAddr(a string) int {
	_, p, err := net.SplitHostPort(a)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// hintLabel is a label that shows a longer text in a pop-up while the
// pointer rests on it (Fyne 2.7 has no tooltips).
type hintLabel struct {
	widget.Label
	hint  string
	popup *widget.PopUp
}

func newHintLabel() *hintLabel {
	l := &hintLabel{}
	l.ExtendBaseWidget(l)
	return l
}

// setHint changes the pop-up text (and an open pop-up).
func (l *hintLabel) setHint(s string) {
	if l.hint == s {
		return
	}
	l.hint = s
	if l.popup != nil {
		l.popup.Hide()
		l.popup = nil
	}
}

// MouseIn implements desktop.Hoverable: show the hint above the label.
func (l *hintLabel) MouseIn(ev *desktop.MouseEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c == nil || l.hint == "" {
		return
	}
	text := widget.NewLabel(l.hint)
	text.Wrapping = fyne.TextWrapWord
	l.popup = widget.NewPopUp(text, c)
	width := min(float32(420), c.Size().Width-8)
	text.Resize(fyne.NewSize(width, 0))
	size := fyne.NewSize(width, text.MinSize().Height)
	l.popup.Resize(size)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(l)
	x := min(pos.X, c.Size().Width-size.Width-4)
	y := max(pos.Y-size.Height-4, 0)
	l.popup.ShowAtPosition(fyne.NewPos(max(x, 0), y))
}

// MouseMoved implements desktop.Hoverable.
func (l *hintLabel) MouseMoved(*desktop.MouseEvent) {}

// MouseOut implements desktop.Hoverable: hide the hint.
func (l *hintLabel) MouseOut() {
	if l.popup != nil {
		l.popup.Hide()
		l.popup = nil
	}
}
