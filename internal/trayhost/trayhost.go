package trayhost

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcher is the bus name a tray host owns.
const watcher = "org.kde.StatusNotifierWatcher"

// Available reports whether a tray host runs on the session bus; false when
// there is no session bus at all. It gives up after a second.
func Available() bool {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcher).Store(&has)
	return err == nil && has
}
