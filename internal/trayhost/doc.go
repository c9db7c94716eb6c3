// Package trayhost tells whether the desktop shows tray icons.
//
// On Linux a tray icon is a StatusNotifierItem on the D-Bus session bus,
// shown only if a host (KDE, XFCE, most panels; GNOME only with an
// extension) owns org.kde.StatusNotifierWatcher. Hiding the window to a
// tray that nobody shows would leave the user with no way back to it, so
// the app asks first, as qBittorrent does with
// QSystemTrayIcon::isSystemTrayAvailable.
package trayhost
