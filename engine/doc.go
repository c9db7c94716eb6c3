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
//
// One process owns a data folder. Open first takes an exclusive flock(2) on
// DataDir/shoal.lock (which holds the owner's PID, for the message only) and
// only then opens shoal.db; a second Open gets a *DataDirInUseError
// (ErrDataDirInUse) and has touched nothing. The kernel drops the lock when
// the process exits, even by SIGKILL, so a stale file never blocks a start.
// Read-only ReadRatio takes no lock: SQLite's WAL lets readers in.
package engine
