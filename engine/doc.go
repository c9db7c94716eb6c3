// Package engine is Shoal's peer-to-peer engine: the one public API that the
// desktop app, the headless daemon and the CLI all share.
//
// An Engine owns its sockets (one port for BitTorrent peers over TCP, the
// Mainline DHT over UDP (BEP 5) and the supernode search overlay), its SQLite
// state, and every transfer. Front ends send commands (Share, Search,
// Download, Pause, Resume, Remove) and read plain-value Snapshots; they never
// receive callbacks per piece. The subpackages hold the parts: wire (BEP 3, 6,
// 9, 10 messages), storage, state (SQLite), tracker, overlay (search), and
// the transfer machinery.
package engine
