// Package assets embeds Shoal's application icon and its freedesktop.org
// desktop entry (Desktop Entry Specification 1.4, the newest version that
// Debian's desktop-file-validate knows), so the GUI and the installer can
// use them without touching the file system. It holds plain
// bytes and imports no GUI toolkit; only app/ and ui/ import it.
package assets

import _ "embed"

// IconPNG is the 256×256 application icon (PNG, RGBA): a small shoal of
// fish on a blue rounded square.
//
//go:embed icon.png
var IconPNG []byte

// DesktopFile is the freedesktop.org desktop entry installed as
// io.github.shoalp2p.shoal.desktop. It starts the GUI with "shoal %U" and
// declares Shoal the handler of magnet links and .torrent files, which the
// app hands to a running instance if there is one.
//
//go:embed shoal.desktop
var DesktopFile []byte
