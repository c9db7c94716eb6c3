package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// Peer table columns.
const (
	peerColAddr = iota
	peerColClient
	peerColLink
	peerColProgress
	peerColDown
	peerColUp
	peerColGave // on this connection; all time is in the detail line
	peerColTook // on this connection
	peerColChoking
	peerColWhy
	peerCols
)

// peersPane lists the connected peers of the selected transfer: what each
// gave us and took on this connection and over all time (the credit the
// engine remembers it by), who chokes whom and why, and the peers the
// transfer banned, with the reason.
type peersPane struct {
	grid    *gridTable
	title   *widget.Label
	detail  *widget.Label // the selected peer's "why", in full
	content fyne.CanvasObject

	hash engine.InfoHash // whose peers are shown
	// trouble is what went wrong with that transfer that the table can
	// only hint at (a failed move), shown while no peer is selected.
	trouble string
	extra   string // what the transfers table hides of it (show)
	peers   []engine.PeerSnapshot
	banned  []engine.BannedPeer
	valid   bool
}

func newPeersPane(tips *tipLayer) *peersPane {
	p := &peersPane{title: widget.NewLabel(noPeersTitle), detail: widget.NewLabel("")}
	p.title.TextStyle.Bold = true
	p.title.Truncation = fyne.TextTruncateEllipsis // a long name must not widen the window
	p.detail.Truncation = fyne.TextTruncateEllipsis
	// Ten columns fit an 800 px window (TestColumnsFitAt800); the detail
	// line under the table spells out the selected peer: its address,
	// client and link in full, why it is choked, and what it gave us and
	// took over all time (the credit the engine remembers it by).
	p.grid = newGridTable([]column{
		{title: "Address", width: 114, kind: cellText},
		{title: "Client", width: 88, kind: cellText},
		{title: "Link", width: 56, kind: cellText},
		{title: "Has", width: 50, kind: cellProgress},
		{title: "Down", width: 78, kind: cellNumber},
		{title: "Up", width: 78, kind: cellNumber},
		{title: "Gave us", width: 70, kind: cellNumber},
		{title: "Took", width: 70, kind: cellNumber},
		{title: "Choking", width: 66, kind: cellText},
		{title: "Why", width: 70, min: 60, kind: cellText, stretch: true},
	})
	p.grid.onSelect = func(int) { p.showDetail() }
	// The detail line is cut short in a narrow window: its tooltip has it all.
	detail := newTipped(tips, p.detail, func() string { return p.detail.Text })
	title := newTipped(tips, p.title, func() string { return p.title.Text })
	p.content = container.NewBorder(title, detail, nil, nil, p.grid.content)
	p.showDetail()
	return p
}

// showDetail spells out the selected peer's row, whose Why cell may be
// cut short.
func (p *peersPane) showDetail() {
	row := p.grid.selectedRow()
	if row < 0 || row >= len(p.grid.rows) {
		if p.trouble != "" {
			setText(p.detail, p.trouble)
			return
		}
		setText(p.detail, "Select a peer to read why it is choked or banned in full.")
		return
	}
	r := p.grid.rows[row]
	who := r[peerColAddr]
	if r[peerColClient] != "" {
		who += " (" + r[peerColClient] + ")"
	}
	if row < len(p.peers) && linkDetail(p.peers[row]) != "" {
		who += " " + linkDetail(p.peers[row])
	}
	why := r[peerColWhy]
	if why == "" {
		why = "nothing to report"
	}
	if row < len(p.peers) {
		pe := p.peers[row]
		why += fmt.Sprintf("; over all time it gave us %s and took %s", humanBytes(pe.GaveAllTime), humanBytes(pe.TookAllTime))
	}
	setText(p.detail, who+": "+why)
}

const noPeersTitle = "Select a transfer to see its peers."

// show lists t's peers and bans (none unless ok) if they changed; the
// title adds extra, what the transfers table cannot show of t.
func (p *peersPane) show(t engine.TransferSnapshot, ok bool, extra string) {
	var h engine.InfoHash
	var peers []engine.PeerSnapshot
	var banned []engine.BannedPeer
	if ok {
		h, peers, banned = t.InfoHash, t.PeerDetails, t.Banned
	}
	trouble := ""
	if ok && t.MoveErr != "" {
		trouble = moveTrouble(t)
	}
	if p.valid && h == p.hash && trouble == p.trouble && extra == p.extra && slices.Equal(peers, p.peers) && slices.Equal(banned, p.banned) {
		return
	}
	p.hash, p.peers, p.banned, p.valid, p.trouble, p.extra = h, peers, banned, true, trouble, extra
	n := len(peers) + len(banned)
	keys, rows, prog := make([]string, 0, n), make([][]string, 0, n), make([]float64, 0, n)
	for _, pe := range peers {
		keys, rows, prog = append(keys, pe.Addr), append(rows, peerRow(pe)), append(prog, pe.Progress)
	}
	for _, b := range banned {
		keys, rows, prog = append(keys, "ban "+b.Key.String()), append(rows, bannedRow(b)), append(prog, noProgress)
	}
	p.grid.update(keys, rows, prog)
	p.showDetail()
	if !ok {
		setText(p.title, noPeersTitle)
		return
	}
	title := fmt.Sprintf("Peers of %q: %d connected", displayName(t), len(peers))
	if len(banned) > 0 {
		title += fmt.Sprintf(", %d banned", len(banned))
	}
	if extra != "" {
		title += "; " + extra
	}
	setText(p.title, title)
}

func peerRow(pe engine.PeerSnapshot) []string {
	row := make([]string, peerCols)
	row[peerColAddr] = pe.Addr
	row[peerColClient] = pe.Client
	row[peerColLink] = linkText(pe)
	row[peerColDown] = humanRate(pe.DownRate)
	row[peerColUp] = humanRate(pe.UpRate)
	row[peerColGave] = humanBytes(pe.Downloaded)
	row[peerColTook] = humanBytes(pe.Uploaded)
	row[peerColChoking] = choking(pe)
	row[peerColWhy] = peerWhy(pe)
	return row
}

// linkText names a peer's transport and its encryption, short: "TCP",
// "uTP, RC4" (all encrypted), "TCP, MSE" (an encrypted handshake, then
// plain data), with ", punched" for a hole-punched connection.
// linkDetail spells it out.
func linkText(pe engine.PeerSnapshot) string {
	link := transportName(pe.Network)
	switch pe.Encryption {
	case "rc4":
		link += ", RC4"
	case "obfuscated":
		link += ", MSE"
	}
	if pe.Via != "" {
		link += ", punched"
	}
	return link
}

// linkDetail is linkText in words.
func linkDetail(pe engine.PeerSnapshot) string {
	if pe.Network == "" {
		return ""
	}
	link := "over " + transportName(pe.Network)
	if pe.Via != "" {
		link += " hole punched via " + pe.Via // both behind NAT, introduced by that peer
	}
	switch pe.Encryption {
	case "rc4":
		return link + ", encrypted (RC4)"
	case "obfuscated":
		return link + ", handshake encrypted, data not"
	}
	return link + ", not encrypted"
}

func transportName(network string) string {
	if network == "utp" {
		return "uTP"
	}
	return strings.ToUpper(network)
}

// bannedRow shows a banned peer, which has no connection to describe.
func bannedRow(b engine.BannedPeer) []string {
	row := make([]string, peerCols)
	row[peerColAddr] = banTarget(b.Key)
	row[peerColChoking] = "banned"
	row[peerColWhy] = "banned: " + b.Reason
	return row
}

// banTarget shows a ban key for people: the IP, or the start of the peer ID.
func banTarget(key engine.PeerKey) string {
	if ip, ok := key.IP(); ok {
		return ip
	}
	v, ok := key.PeerID()
	switch {
	case ok && len(v) > 16:
		return "peer " + v[:16] + "…"
	case ok:
		return "peer " + v
	}
	return key.String()
}

// choking says who chokes whom: "we do" (we choke the peer), "it does"
// (it chokes us), "both" or "no".
func choking(pe engine.PeerSnapshot) string {
	switch {
	case pe.Choked && pe.ChokingUs:
		return "both"
	case pe.Choked:
		return "we do"
	case pe.ChokingUs:
		return "it does"
	}
	return "no"
}

// peerWhy is the engine's note on why the peer is choked or banned; a
// seed we choke without a note has simply nothing to ask of us.
func peerWhy(pe engine.PeerSnapshot) string {
	switch {
	case pe.Banned && pe.Note != "":
		return "banned: " + pe.Note
	case pe.Banned:
		return "banned"
	case pe.Note == "" && pe.Choked && pe.Progress >= 1:
		return "seed: wants nothing"
	}
	return pe.Note
}

// displayName is a transfer's name, or its infohash until metadata arrives.
func displayName(t engine.TransferSnapshot) string {
	if t.Name != "" {
		return t.Name
	}
	return t.InfoHash.String()
}
