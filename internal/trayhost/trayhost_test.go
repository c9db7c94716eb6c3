package trayhost

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// TestNoBusNoTray: without a session bus there is no tray (and no hang).
func TestNoBusNoTray(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	if Available() {
		t.Fatal("a tray host was found on a bus that does not exist")
	}
}

// TestTrayHostOnARealBus runs a private session bus (dbus-daemon), first
// with nobody owning the watcher name, then with this test owning it as a
// tray host would.
func TestTrayHostOnARealBus(t *testing.T) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon not installed:", err)
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	if Available() {
		t.Fatal("tray reported on a bus where nobody owns the watcher name")
	}
	host, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if reply, err := host.RequestName(watcher, 0); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v, %v", watcher, reply, err)
	}
	if !Available() {
		t.Fatal("no tray reported while a process owns the watcher name")
	}
}
