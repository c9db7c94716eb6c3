// Package transport opens and accepts BitTorrent peer connections: the
// byte stream under the BEP 3 handshake, over TCP or uTP (BEP 29), plain
// or encrypted (MSE/PE).
//
// # uTP
//
// The uTP socket sits on the engine's one UDP socket, the DHT's: it reads
// every datagram, keeps the uTP ones and hands the rest to whoever reads
// its PacketConn, which the DHT server gets as its socket (as
// anacrolix/torrent does). So uTP, TCP and the DHT share one port number,
// and the address policy (internal/netguard) holds for uTP too: the UDP
// socket under it is the policy's, which drops datagrams from refused
// addresses and refuses to send to them, and the engine checks every
// uTP dial and accept with the policy's Check methods.
//
// Outgoing (Dialer.race): TCP and uTP connect at once; the first
// connection to open is kept and the other closed before it carries a
// byte, so the peer never sees two handshakes from us. If the BitTorrent
// handshake then fails on the winner, in Prefer mode because the peer
// refused MSE, plain goes next on the same transport, which the peer is
// known to listen on; then the other transport gets its own try (a
// uTP-only libtorrent accepts TCP and resets it), with a 2 s connect
// timeout (room for the SYN and its resend at 1 s, the resend timeout
// before any round trip is measured) instead of 15 s, as the peer is
// known to be up. This is for a libtorrent seeder with encryption and
// incoming uTP off: it resets MSE over TCP and is silent to uTP SYNs, and
// in its first second (torrent not yet started) resets plain TCP too;
// with the full 15 s uTP wait between, its first metadata came after 15 s.
// For the same reason, when the racing TCP connect is refused or reset
// (the host is up), the uTP dial gets 2 s more rather than the rest of its
// 15 s.
// Incoming: both are accepted (uTP unless the setting is off).
//
// The library. Package utp (engine/transport/utp) is a copy of
// github.com/anacrolix/utp v0.2.0, the pure-Go implementation
// anacrolix/torrent shipped before go-libutp (MPL-2.0, its LICENSE kept
// beside it; no cgo, no new module). The reference libutp through
// github.com/anacrolix/go-libutp (cgo) and github.com/anacrolix/go-utp
// were the candidates, but the module proxy here refuses to serve either,
// so neither could be measured against it. Upstream paces by the peer's
// receive window and its resend timer alone, so beside a TCP flow it takes
// its share like any loss-based flow; the copy adds LEDBAT as libutp does
// it, with the loss rules described in its ledbat.go (a random loss, one
// no queue explains, does not cut the window; the window grows only while
// full) and LEDBAT++'s 60 ms target (libutp's 100 ms is no less than the
// queue of many bottlenecks, so beside a queue-filling TCP flow it never
// yielded by delay) with LEDBAT++'s multiplicative decrease past it (an
// additive one took a hundred round trips to give way, so the yield
// depended on overflow losses), and a lost fast resend is resent again
// once three later packets are acked. The UDP socket asks the kernel
// for 4 MiB to receive and 1 MiB to send (UDPRecvBuffer; one socket
// carries every uTP connection and the DHT), and the engine logs what it
// got. Pacing was tried and left out: in the bench the leecher rows got
// slower with it (the figures are in commit 91f3576's message). Its other
// limits, from its source: one package-wide mutex for every socket and
// connection, a 50-SYN accept backlog (when it is full, a SYN picked at
// random is reset to make room), and read deadlines that were seen not to
// end a stalled Read, so every handshake also has a watchdog that closes
// the connection.
//
// What LEDBAT yields to TCP, and what it costs on a lossy, distant link
// beside qBittorrent's uTP, are bench rows ("LEDBAT yield", "lossy link";
// make bench); the figures of each change are in its commit message.
//
// # Encryption (MSE/PE)
//
// Message Stream Encryption, the Vuze/libtorrent "protocol encryption"
// (https://wiki.vuze.com/w/Message_Stream_Encryption), is done by
// github.com/anacrolix/torrent/mse: a Diffie-Hellman exchange, the
// infohash as the shared secret (SKEY), then RC4 for the rest of the stream
// or, if both sides agree, plain data after the obfuscated handshake.
// Three modes (Encryption):
//
//   - Prefer (the default). Outgoing: we start with MSE, offering RC4 and
//     plain, and our BEP 3 handshake rides in MSE's initial payload (no
//     extra round trip). If a connection opens but the encrypted handshake
//     on it fails, for any reason but a wrong torrent, we dial again in
//     plain, as libtorrent does with its pe_enabled policy, and remember
//     that address as plain-only (a bounded table), so the next dial goes
//     plain at once. A dial that fails, or a failure after MSE succeeded,
//     is not retried in plain: neither says the peer refused MSE.
//     We chose MSE first rather than plain first because a peer that
//     requires encryption closes a plain handshake without a word: plain
//     first would cost those peers a failed connection each time, while a
//     plain-only peer answers an MSE preamble with a quick close. Incoming:
//     both plain and MSE are accepted; an MSE peer offering plain data gets
//     plain data (RC4 costs CPU and the header is hidden either way).
//   - Require. Outgoing: MSE offering RC4 only, no fallback. Incoming:
//     a plain handshake is refused (ErrPlainPeer, logged by the caller), and
//     an MSE peer must accept RC4.
//   - Off. Plain BEP 3 only; an incoming MSE handshake is refused.
//
// Incoming connections are told apart by their first 20 bytes (IsPlain,
// which reads past the first only when it is 19): 19 and "BitTorrent
// protocol" is a plain handshake; anything else is taken for an MSE
// public key (the caller first routes Shoal's own overlay magic
// elsewhere). The SKEY list is every infohash the node has.
//
// What RC4 costs is the bench row "Shoal → Shoal, RC4 (--encryption
// require)" (make bench), beside the default mode's row.
//
// # Errors
//
// A failed handshake returns a *HandshakeError whose Kind is one of the
// sentinel errors below (ErrRefused, ErrReset, ErrClosed, ErrTimeout,
// ErrPlainPeer, ErrEncryptedPeer, ErrWrongInfoHash, ErrNotBitTorrent, and
// ErrHandshake for anything else), so logs and callers can tell a refused
// dial from a reset, a plain peer under "require" or a peer sharing
// something else.
//
// # Resources
//
// Every handshake runs under a deadline (the caller's; HandshakeTimeout is
// the default the engine uses). MSE costs one goroutine for its writer plus
// one per pending read while it runs, and at most about 600 bytes of
// buffered padding: a peer that sends a preamble and stalls holds them
// until the deadline, then the connection is closed. Callers bound how many
// incoming handshakes run at once.
//
// Locks. Dialer.mu guards the table of peers that took a plain connection
// after MSE failed, and is a leaf taken only to read or add to it;
// connections are dialled and handshakes run with it released.
// cipherConn.mu serialises writes on an encrypted connection and is held
// across the socket write on purpose: the RC4 stream must go out in the
// order it was encrypted, and a short write marks the stream broken. The
// uTP transport (package utp) documents its own locks.
package transport
