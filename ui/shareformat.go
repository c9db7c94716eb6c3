package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

// Choices of the Sharing card, in the order shown, by Settings.ShareFormat.
var shareChoices = []struct {
	format engine.TorrentFormat
	words  string
}{
	{engine.FormatHybrid, "Hybrid — v1 and v2 (recommended)"},
	{engine.FormatV1, "v1 — for Transmission 3 and aria2"},
	{engine.FormatV2, "v2 only — newest clients only"},
}

// shareFormatWords explains the choice to people.
const shareFormatWords = "Hybrid torrents work with every current client; v2-capable ones " +
	"(qBittorrent 4.4 and later, Deluge 2.1) check every 16 KiB block and see the same file in other torrents. " +
	"Transmission 3 and aria2 cannot download hybrid or v2 torrents: choose v1 if your friends use them. " +
	"It applies to what you share from now on."

// shareSettings is the Settings tab's Sharing card: what kind of torrent
// dropping files onto the window makes.
type shareSettings struct {
	format *widget.RadioGroup
}

func newShareSettings() shareSettings {
	words := make([]string, len(shareChoices))
	for i, c := range shareChoices {
		words[i] = c.words
	}
	g := widget.NewRadioGroup(words, nil)
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
	for _, c := range shareChoices {
		if c.format == s.ShareFormat {
			sh.format.SetSelected(c.words)
			return
		}
	}
	sh.format.SetSelected(shareChoices[0].words)
}

func (sh shareSettings) read(s *engine.Settings) {
	for _, c := range shareChoices {
		if c.words == sh.format.Selected {
			s.ShareFormat = c.format
		}
	}
}
