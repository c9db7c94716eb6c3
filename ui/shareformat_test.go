package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/shoalp2p/shoal/engine"
)

// TestSettingsShareFormat: the Sharing card shows the engine's share
// format (v1 unless ShareHybrid), and choosing Hybrid then Apply sets
// Settings.ShareHybrid and nothing else; choosing v1 again clears it.
func TestSettingsShareFormat(t *testing.T) {
	base := engine.Settings{OnTarget: "pause", UploadSlots: 4, Encryption: "prefer"}
	u, f := newSettingsUI(t, base)
	st := u.settings
	if st.share.format.Selected != shareV1 {
		t.Fatalf("default share format shows %q, want %q", st.share.format.Selected, shareV1)
	}
	for i, choice := range []string{shareHybrid, shareV1} {
		st.share.format.SetSelected(choice)
		test.Tap(st.apply)
		settle(u)
		want := base
		want.ShareHybrid = choice == shareHybrid
		f.lock(func() {
			if len(f.settingsSet) != i+1 || f.settingsSet[i] != want {
				t.Fatalf("after choosing %q: SetSettings calls %+v, want the last %+v", choice, f.settingsSet, want)
			}
		})
	}
	u2, _ := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ShareHybrid: true})
	if got := u2.settings.share.format.Selected; got != shareHybrid {
		t.Errorf("ShareHybrid shows %q, want %q", got, shareHybrid)
	}
}
