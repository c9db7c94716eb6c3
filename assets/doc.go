// Package assets embeds Shoal's application icon and its freedesktop.org
// desktop entry (Desktop Entry Specification 1.4, the newest version that
// Debian's desktop-file-validate knows), so the GUI and the installer can
// use them without touching the file system. It holds plain
// bytes and imports no GUI toolkit; only app/ and ui/ import it.
package assets
