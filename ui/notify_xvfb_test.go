package ui

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"github.com/shoalp2p/shoal/engine"
)

// The notification daemon's bus name and object (the freedesktop spec),
// and dunst's own interface, through which the test reads what it showed.
const (
	notifyName = "org.freedesktop.Notifications"
	notifyPath = "/org/freedesktop/Notifications"
	dunstIface = "org.dunstproject.cmd0"
)

// TestNotificationReachesDaemonXvfb: a download that finishes in the real
// window sends a desktop notification that a real notification daemon
// (dunst, from Debian) receives and shows, with Shoal's words. It runs on
// a private session bus: `dbus-run-session -- xvfb-run … go test` (make
// screenshots does).
func TestNotificationReachesDaemonXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("needs a session bus: run under dbus-run-session")
	}
	dunst, err := exec.LookPath("dunst")
	if err != nil {
		t.Skip("needs dunst (Debian package dunst; make deps installs it)")
	}
	bus := startDaemon(t, dunst)
	fyne.SetCurrentApp(realApp)

	f := newFake()
	var u *UI
	fyne.DoAndWait(func() { u = New(realApp, f) })
	defer fyne.DoAndWait(u.win.Hide)
	dl := engine.TransferSnapshot{InfoHash: engine.InfoHash{7}, Name: "Big Buck Bunny", Wanted: 100, WantedHave: 40,
		State: engine.StateDownloading}
	fyne.DoAndWait(func() { u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl}}) })
	dl.WantedHave, dl.State = 100, engine.StateSeeding
	fyne.DoAndWait(func() { u.Refresh(engine.Snapshot{Transfers: []engine.TransferSnapshot{dl}}) })

	daemon := bus.Object(notifyName, notifyPath)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var shown uint32
		v, err := daemon.GetProperty(dunstIface + ".displayedLength")
		if err == nil {
			shown, _ = v.Value().(uint32)
		}
		if shown >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon shows %d notifications 15 s after the download finished (err %v)", shown, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Close what it shows: closed notifications go to its history, which
	// says what they said.
	if err := daemon.Call(dunstIface+".NotificationCloseAll", 0).Err; err != nil {
		t.Fatalf("close all: %v", err)
	}
	var history []map[string]dbus.Variant
	if err := daemon.Call(dunstIface+".NotificationListHistory", 0).Store(&history); err != nil {
		t.Fatalf("history: %v", err)
	}
	var got []string
	for _, n := range history {
		summary, _ := n["summary"].Value().(string)
		body, _ := n["body"].Value().(string)
		got = append(got, summary+" / "+body)
		if summary == "Download finished" && body == "Big Buck Bunny" {
			return
		}
	}
	t.Fatalf("the daemon showed %q, want \"Download finished / Big Buck Bunny\"", got)
}

// startDaemon starts the notification daemon at path on the session bus
// and returns a connection once the daemon owns the notifications name
// (and it is this daemon, not another one already on the bus).
func startDaemon(t *testing.T, path string) *dbus.Conn {
	t.Helper()
	bus, err := dbus.SessionBus()
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}
	var owned bool
	if err := bus.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, notifyName).Store(&owned); err == nil && owned {
		t.Skip("another notification daemon owns the bus name: run under dbus-run-session")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid uint32
		err := bus.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, notifyName).Store(&pid)
		if err == nil && int(pid) == cmd.Process.Pid {
			return bus
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not take %s in 10 s (owner pid %d, %v)", path, notifyName, pid, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
