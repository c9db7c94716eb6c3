// Package control is the local control channel of a running Shoal: a Unix
// socket in the data folder (shoal.sock, mode 0600) that the CLI, the
// desktop file's handler and a second start of the app use to reach the
// instance that owns the folder.
//
// The protocol is line-delimited JSON, one Request per line, answered by one
// Response per line, on as many lines as the client sends. Commands:
//   - status: the transfers, the ratio and the network view (Status);
//   - add: hand a magnet link, an absolute .torrent path or an infohash to
//     the instance, which starts the download;
//   - show: ask a desktop instance to raise its window (a daemon answers
//     shown=false);
//   - reach: run a reachability test now (a supernode dials us back) and
//     answer with the status it leaves (`shoal status --check-reach`).
//
// The socket file belongs to the process holding the data-folder lock
// (engine.Open takes it): Listen is called only after Open, so it may
// replace a socket left by a crashed process, and Run removes the socket
// before the engine releases the lock. The socket is bound in a private
// 0700 folder, set to 0600, then renamed into place, so no other user can
// connect in between. Like the rest of the engine, the server reaches the
// engine only through the small Engine interface it declares.
package control
