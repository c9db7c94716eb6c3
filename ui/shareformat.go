package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// Choices of the Sharing card (Settings.ShareHybrid off and on).
const (
	shareV1     = "v1 — works with every client"
	shareHybrid = "Hybrid — v1 and v2"
)

// shareFormatWords explains the choice to people.
const shareFormatWords = "Hybrid torrents also carry BitTorrent v2 hashes: newer clients " +
	"(qBittorrent 4.4 and later) check every 16 KiB block and see the same file in other torrents, " +
	"but Transmission 3 and aria2 cannot download them. It applies to what you share from now on."

// shareSettings is the Settings tab's Sharing card: what kind of torrent
// dropping files onto the window makes.
type shareSettings struct {
	format *widget.RadioGroup
}

func newShareSettings() shareSettings {
	g := widget.NewRadioGroup([]string{shareV1, shareHybrid}, nil)
	g.Required = true
	return shareSettings{format: g}
}

func (sh shareSettings) card() fyne.CanvasObject {
	words := widget.NewLabel(shareFormatWords)
	words.Wrapping = fyne.TextWrapWord
	words.Importance = widget.LowImportance
	return widget.NewCard("Sharing", "The kind of torrent made of files you drop on the window",
		container.NewVBox(sh.format, words))
}

func (sh shareSettings) fill(s engine.Settings) {
	if s.ShareHybrid {
		sh.format.SetSelected(shareHybrid)
	} else {
		sh.format.SetSelected(shareV1)
	}
}

func (sh shareSettings) read(s *engine.Settings) { s.ShareHybrid = sh.format.Selected == shareHybrid }
