package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

// TestSettingsShareFormat: the Sharing card shows the engine's share
// format (hybrid for the zero Settings), and choosing each format then
// Apply sets Settings.ShareFormat and nothing else; a Settings with each
// format shows its choice.
func TestSettingsShareFormat(t *testing.T) {
	base := engine.Settings{OnTarget: "pause", UploadSlots: 4, Encryption: "prefer"}
	u, f := newSettingsUI(t, base)
	st := u.settings
	if got, want := st.share.format.Selected, shareChoices[0].words; got != want || shareChoices[0].format != engine.FormatHybrid {
		t.Fatalf("default share format shows %q, want %q (hybrid)", got, want)
	}
	order := []engine.TorrentFormat{engine.FormatV1, engine.FormatV2, engine.FormatHybrid}
	for i, format := range order {
		st.share.format.SetSelected(choiceWords(t, format))
		test.Tap(st.apply)
		settle(u)
		want := base
		want.ShareFormat = format
		f.lock(func() {
			if len(f.settingsSet) != i+1 || f.settingsSet[i] != want {
				t.Fatalf("after choosing %v: SetSettings calls %+v, want the last %+v", format, f.settingsSet, want)
			}
		})
	}
	for _, format := range order {
		u2, _ := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ShareFormat: format})
		if got, want := u2.settings.share.format.Selected, choiceWords(t, format); got != want {
			t.Errorf("ShareFormat %v shows %q, want %q", format, got, want)
		}
	}
}

// choiceWords is the Sharing card's words for format.
func choiceWords(t *testing.T, format engine.TorrentFormat) string {
	t.Helper()
	for _, c := range shareChoices {
		if c.format == format {
			return c.words
		}
	}
	t.Fatalf("no choice for %v", format)
	return ""
}
