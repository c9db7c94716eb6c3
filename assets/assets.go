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
