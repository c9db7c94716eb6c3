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
// link, the total rates with the limits in force, and a mark while the
// alternative limits apply.
type statusBar struct {
	dht, peers, super, rates, alt *widget.Label
	reach                         *widget.Label // reachability in a word
	reachHint                     string        // reachability in words for people: its tooltip
	content                       fyne.CanvasObject
	row                           *fyne.Container // the status line; laid out again when its texts change

	last    engine.NetStatus
	limits  [2]int64 // download and upload limits in force (0 = none)
	mapping bool     // the port-mapping setting, for the reachability words
	valid   bool     // last and limits hold what the labels show
}

func newStatusBar(tips *tipLayer) *statusBar {
	b := &statusBar{
		dht:   widget.NewLabel(""),
		peers: widget.NewLabel(""),
		super: widget.NewLabel(""),
		rates: widget.NewLabel(""),
		alt:   widget.NewLabelWithStyle("Alternative limits", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}),
		reach: widget.NewLabel(""),
	}
	b.alt.Importance = widget.WarningImportance
	b.alt.Hide()
	// The status line wraps rather than cutting items short (statusFlow);
	// only a supernode address wider than the window gets an ellipsis.
	b.super.Truncation = fyne.TextTruncateEllipsis
	b.apply(engine.NetStatus{})
	tip := func(l *widget.Label, text func(engine.NetStatus) string) fyne.CanvasObject {
		return newTipped(tips, l, func() string { return text(b.last) })
	}
	b.row = newStatusFlow(container.NewHBox(tip(b.alt, altTip), tip(b.rates, ratesTip)),
		tip(b.dht, dhtTip), tip(b.peers, peersTip),
		newTipped(tips, b.reach, func() string { return b.reachHint }), tip(b.super, supernodeTip))
	b.content = container.NewVBox(widget.NewSeparator(), b.row)
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
	b.showReach()
	b.showRates()
	if b.row != nil {
		b.row.Refresh() // truncating labels keep their minimum size: lay the row out for the new texts
	}
}

// showReach shows reachability in a word, and in full on hover.
func (b *statusBar) showReach() {
	n := b.last
	setText(b.reach, reachShort(n))
	imp := widget.MediumImportance
	if n.Reachable == "no" {
		imp = widget.WarningImportance
	}
	if b.reach.Importance != imp {
		b.reach.Importance = imp
		b.reach.Refresh()
	}
	b.reachHint = reachWords(n, portOfAddr(n.PeerAddr), b.mapping)
}

// setLimits shows which limits are in force: the alternative ones (alt)
// or the usual ones.
func (b *statusBar) setLimits(s engine.Settings, alt bool) {
	limits := [2]int64{s.DownloadLimit, s.UploadLimit}
	if alt {
		limits = [2]int64{s.AltDownloadLimit, s.AltUploadLimit}
	}
	setVisible(b.alt, alt)
	if s.PortMapping != b.mapping {
		b.mapping = s.PortMapping
		b.showReach()
	}
	if limits != b.limits {
		b.limits = limits
		b.showRates()
	}
}

func (b *statusBar) showRates() {
	setText(b.rates, fmt.Sprintf("↓ %s%s   ↑ %s%s", statusRate(b.last.DownRate), limitText(b.limits[0]),
		statusRate(b.last.UpRate), limitText(b.limits[1])))
}

// limitText is " [limit]" after a rate, or nothing when unlimited.
func limitText(bps int64) string {
	if bps <= 0 {
		return ""
	}
	return " [" + humanRate(float64(bps)) + "]"
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
		a.Reachable == b.Reachable && a.ReachTesting == b.ReachTesting && a.PortMapping == b.PortMapping &&
		a.ExternalAddr == b.ExternalAddr && a.PeerAddr == b.PeerAddr &&
		slices.Equal(a.Supernodes, b.Supernodes)
}
