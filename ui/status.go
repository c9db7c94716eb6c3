package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// statusBar is the line under the tabs: DHT nodes, peers, the supernode
// link and the total rates.
type statusBar struct {
	dht, peers, super, rates *widget.Label
	content                  fyne.CanvasObject

	last  engine.NetStatus
	valid bool // last holds what the labels show
}

func newStatusBar() *statusBar {
	b := &statusBar{
		dht:   widget.NewLabel(""),
		peers: widget.NewLabel(""),
		super: widget.NewLabel(""),
		rates: widget.NewLabel(""),
	}
	b.super.Truncation = fyne.TextTruncateEllipsis
	b.apply(engine.NetStatus{})
	left := container.NewHBox(b.dht, widget.NewSeparator(), b.peers, widget.NewSeparator())
	b.content = container.NewVBox(widget.NewSeparator(),
		container.NewBorder(nil, nil, left, b.rates, b.super))
	return b
}

// apply updates the labels whose text changed.
func (b *statusBar) apply(n engine.NetStatus) {
	if b.valid && sameNet(b.last, n) {
		return
	}
	b.last, b.valid = n, true
	setText(b.dht, fmt.Sprintf("DHT: %s", plural(n.DHTNodes, "node")))
	setText(b.peers, fmt.Sprintf("Peers: %d", n.Peers))
	setText(b.super, supernodeText(n))
	setText(b.rates, fmt.Sprintf("↓ %s   ↑ %s", statusRate(n.DownRate), statusRate(n.UpRate)))
}

// supernodeText says which supernode we lean on, or how many leaves lean
// on us.
func supernodeText(n engine.NetStatus) string {
	switch {
	case n.IsSupernode:
		if n.Leaves == 1 {
			return "Supernode: 1 leaf"
		}
		return fmt.Sprintf("Supernode: %d leaves", n.Leaves)
	case len(n.Supernodes) == 0:
		return "Supernode: not linked"
	case len(n.Supernodes) == 1:
		return "Supernode: " + n.Supernodes[0]
	default:
		return fmt.Sprintf("Supernode: %s (+%d)", n.Supernodes[0], len(n.Supernodes)-1)
	}
}

// setText changes a label's text only when it differs, to spare a redraw.
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

// sameNet compares the fields the status bar shows.
func sameNet(a, b engine.NetStatus) bool {
	return a.DHTNodes == b.DHTNodes && a.Peers == b.Peers &&
		a.IsSupernode == b.IsSupernode && a.Leaves == b.Leaves &&
		a.DownRate == b.DownRate && a.UpRate == b.UpRate &&
		slices.Equal(a.Supernodes, b.Supernodes)
}
