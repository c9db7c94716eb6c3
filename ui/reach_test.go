package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
)

var (
	reachableUPnP = engine.NetStatus{Reachable: "yes", PortMapping: "upnp", ExternalAddr: "203.0.113.11:51413",
		PeerAddr: "198.18.1.10:51413", ReachableHow: "upnp mapping + dial-back by supernode 203.0.113.50:6881 reached 203.0.113.11:51413"}
	unreachable = engine.NetStatus{Reachable: "no", PortMapping: "none", PeerAddr: "198.18.2.10:51413",
		PortMappingErr: "No router answered UPnP or NAT-PMP."}
)

// TestConnectionCardWords: the Connection card and the status bar say in
// words whether peers can connect, how the port was opened, and what to do
// when they cannot; the status bar shows the short form with the full
// words on hover.
func TestConnectionCardWords(t *testing.T) {
	u, _ := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ListenPort: 51413, PortMapping: true})
	st := u.settings
	if st.listenPort.Text != "51413" || !st.portMapping.Checked {
		t.Fatalf("form shows port %q, mapping %v", st.listenPort.Text, st.portMapping.Checked)
	}
	cases := []struct {
		net   engine.NetStatus
		words string
		short string
	}{
		{reachableUPnP, "Reachable: other peers can connect to you (port 51413 opened by your router with UPnP).", "Reachable"},
		{unreachable, "Not reachable: your router did not open a port. Downloads still work, but fewer peers can download from you. " +
			"Enable UPnP on the router or forward TCP+UDP port 51413.", "Not reachable"},
		{engine.NetStatus{Reachable: "yes", PortMapping: "natpmp", ExternalAddr: "203.0.113.11:40000", PeerAddr: "198.18.1.10:51413"},
			"Reachable: other peers can connect to you (port 40000 opened by your router with NAT-PMP).", "Reachable"},
		{engine.NetStatus{Reachable: "yes", PortMapping: "none", PeerAddr: "203.0.113.50:51413"},
			"Reachable: other peers can connect to you on port 51413.", "Reachable"},
		{engine.NetStatus{Reachable: "unknown", ReachTesting: true}, "Testing whether other peers can connect to you…", "Reachability: testing…"},
		{engine.NetStatus{Reachable: "unknown"}, "Not tested yet: Shoal is looking for a supernode to test whether other peers can connect to you.",
			"Reachability: not tested yet"},
	}
	for _, c := range cases {
		u.Refresh(engine.Snapshot{Taken: time.Now(), Net: c.net})
		if st.reach.Text != c.words {
			t.Errorf("card for %+v:\n %q\nwant %q", c.net, st.reach.Text, c.words)
		}
		if u.status.reach.Text != c.short || u.status.reachHint != c.words {
			t.Errorf("status bar for %+v: %q / hint %q", c.net, u.status.reach.Text, u.status.reachHint)
		}
	}
	u.Refresh(engine.Snapshot{Taken: time.Now(), Net: unreachable})
	if u.status.reach.Importance != widget.WarningImportance {
		t.Error("not reachable is not marked as a warning in the status bar")
	}
}

// TestConnectionCardMappingOff: with port mapping off, the advice is to
// turn it on or forward the port.
func TestConnectionCardMappingOff(t *testing.T) {
	u, _ := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ListenPort: 51413})
	u.Refresh(engine.Snapshot{Taken: time.Now(), Net: unreachable})
	if w := u.settings.reach.Text; !strings.Contains(w, "is off") || !strings.Contains(w, "forward TCP+UDP port 51413") {
		t.Errorf("card with mapping off: %q", w)
	}
}

// TestConnectionTestAgain: the button asks the engine for a new test and
// stays off while the engine says a test runs.
func TestConnectionTestAgain(t *testing.T) {
	u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ListenPort: 51413, PortMapping: true})
	st := u.settings
	u.Refresh(engine.Snapshot{Taken: time.Now(), Net: unreachable})
	test.Tap(st.testAgain)
	settle(u)
	if n := f.retests.Load(); n != 1 {
		t.Fatalf("%d TestReachability calls after one tap", n)
	}
	if !st.testAgain.Disabled() || !strings.HasPrefix(st.reach.Text, "Testing") {
		t.Errorf("right after the tap: disabled %v, %q", st.testAgain.Disabled(), st.reach.Text)
	}
	testing := unreachable
	testing.ReachTesting = true
	u.Refresh(engine.Snapshot{Taken: time.Now(), Net: testing})
	if !st.testAgain.Disabled() {
		t.Error("Test again is on while a test runs")
	}
	u.Refresh(engine.Snapshot{Taken: time.Now(), Net: reachableUPnP})
	if st.testAgain.Disabled() || !strings.HasPrefix(st.reach.Text, "Reachable:") {
		t.Errorf("after the test: disabled %v, %q", st.testAgain.Disabled(), st.reach.Text)
	}
}

// TestConnectionApply: the listen port and the router switch are saved;
// a port outside 1024–65535 is refused with nothing saved.
func TestConnectionApply(t *testing.T) {
	u, f := newSettingsUI(t, engine.Settings{OnTarget: "pause", UploadSlots: 4, ListenPort: 51413, PortMapping: true})
	st := u.settings
	st.listenPort.SetText("80")
	test.Tap(st.apply)
	settle(u)
	assertDialogKeep(t, u, "Listen port: 80 is outside 1024–65535")
	f.lock(func() {
		if len(f.settingsSet) != 0 {
			t.Fatalf("a bad port was saved: %+v", f.settingsSet)
		}
	})
	st.listenPort.SetText("40001")
	test.Tap(st.portMapping)
	test.Tap(st.apply)
	settle(u)
	f.lock(func() {
		if len(f.settingsSet) != 1 || f.settingsSet[0].ListenPort != 40001 || f.settingsSet[0].PortMapping {
			t.Fatalf("saved %+v, want port 40001 and mapping off", f.settingsSet)
		}
	})
	if !strings.Contains(st.info.Text, "port 40001 from its next start") {
		t.Errorf("info after apply: %q", st.info.Text)
	}
}
