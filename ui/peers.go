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
	peerColProgress
	peerColDown
	peerColUp
	peerColGot
	peerColSent
	peerColFlags
	peerCols
)

// peersPane lists the connected peers of the selected transfer, with the
// choke state and why a peer is choked or banned.
type peersPane struct {
	grid    *gridTable
	title   *widget.Label
	content fyne.CanvasObject

	hash  engine.InfoHash // whose peers are shown
	peers []engine.PeerSnapshot
	valid bool
}

func newPeersPane() *peersPane {
	p := &peersPane{title: widget.NewLabel("Select a transfer to see its peers.")}
	p.title.TextStyle.Bold = true
	p.grid = newGridTable([]column{
		{title: "Address", width: 150, kind: cellText, stretch: true},
		{title: "Client", width: 150, kind: cellText},
		{title: "Has", width: 90, kind: cellProgress},
		{title: "Down", width: 85, kind: cellNumber},
		{title: "Up", width: 85, kind: cellNumber},
		{title: "Got", width: 80, kind: cellNumber},
		{title: "Sent", width: 80, kind: cellNumber},
		{title: "Flags", width: 180, kind: cellText},
	})
	p.content = container.NewBorder(p.title, nil, nil, nil, p.grid.content)
	return p
}

// show lists t's peers (none unless ok) if they changed.
func (p *peersPane) show(t engine.TransferSnapshot, ok bool) {
	var h engine.InfoHash
	var peers []engine.PeerSnapshot
	if ok {
		h, peers = t.InfoHash, t.PeerDetails
	}
	if p.valid && h == p.hash && slices.Equal(peers, p.peers) {
		return
	}
	p.hash, p.peers, p.valid = h, peers, true
	keys := make([]string, len(peers))
	rows := make([][]string, len(peers))
	prog := make([]float64, len(peers))
	for i, pe := range peers {
		keys[i] = pe.Addr
		rows[i] = peerRow(pe)
		prog[i] = pe.Progress
	}
	p.grid.update(keys, rows, prog)
	if !ok {
		setText(p.title, "Select a transfer to see its peers.")
		return
	}
	setText(p.title, fmt.Sprintf("Peers of %q: %d connected", displayName(t), len(peers)))
}

func peerRow(pe engine.PeerSnapshot) []string {
	row := make([]string, peerCols)
	row[peerColAddr] = pe.Addr
	row[peerColClient] = pe.Client
	row[peerColDown] = humanRate(pe.DownRate)
	row[peerColUp] = humanRate(pe.UpRate)
	row[peerColGot] = humanBytes(pe.Downloaded)
	row[peerColSent] = humanBytes(pe.Uploaded)
	row[peerColFlags] = peerFlags(pe)
	return row
}

// peerFlags says who chokes whom and why, as qBittorrent's flags column
// does, in words.
func peerFlags(pe engine.PeerSnapshot) string {
	var f []string
	if pe.Banned {
		f = append(f, "banned")
	}
	if pe.Choked {
		f = append(f, "we choke")
	}
	if pe.ChokingUs {
		f = append(f, "chokes us")
	}
	if pe.Note != "" {
		f = append(f, pe.Note)
	}
	return strings.Join(f, ", ")
}

// displayName is a transfer's name, or its infohash until metadata arrives.
func displayName(t engine.TransferSnapshot) string {
	if t.Name != "" {
		return t.Name
	}
	return t.InfoHash.String()
}
