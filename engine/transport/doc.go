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
// timeout (the SYN resent at 0.5 s and after) instead of 15 s, as the peer
// is known to be up. A libtorrent seeder with encryption and incoming uTP
// off resets MSE over TCP and is silent to uTP SYNs; in its first second
// (torrent not yet started) it resets plain TCP too. That cost MSE/TCP,
// then MSE/uTP waiting the full 15 s, then plain: Shoal's first metadata
// from a fresh seeder came after 15.1 s in TestLibtorrentV2MagnetToShoal,
// now after 2.3 s (the uTP wait, then plain TCP). A running libtorrent
// with encryption off now gets plain TCP right after the reset. And when
// the racing TCP connect is refused or reset (the host is up), the uTP
// dial gets 2 s more rather than the rest of its 15 s.
// Incoming: both are accepted (uTP unless the setting is off).
//
// The library. The issue asked to choose by measurement between
// github.com/anacrolix/go-libutp (cgo, the reference libutp, with LEDBAT)
// at v1.5.2-0.20260908013213-836dd42cdde6 and github.com/anacrolix/go-utp
// (pure Go) at v0.0.0-20260908033909-9f1664acf866. On 2026-12-05 the
// module proxy here resolved both versions (go list -m) but refused to
// serve either, twice, hours apart (`go mod download`: HTTP 403 "This
// module version is not available" for their .zip), and no other source
// may be used, so neither could be measured. The one uTP module the proxy
// serves is github.com/anacrolix/utp v0.2.0, the pure-Go implementation
// anacrolix/torrent shipped before go-libutp. It has no delay-based
// congestion control: it paces by the peer's advertised window and its
// resend timer alone, so beside a TCP flow it takes its share like any
// loss-based flow. Package utp (engine/transport/utp) is therefore a copy
// of it (MPL-2.0, its LICENSE kept beside it; about 1,700 lines, no cgo,
// no new module) with LEDBAT added as libutp does it (ledbat.go there:
// target 100 ms of queuing delay, at most 3,000 bytes more per round
// trip, slow start until half the target, half the window on a loss, the
// minimum after a timeout); every other line is upstream's. Its other
// limits, from its source: one package-wide mutex for every socket and
// connection, a 50-SYN accept backlog (older SYNs are reset), and read
// deadlines that were seen not to end a stalled Read, so every handshake
// also has a watchdog that closes the connection.
//
// LEDBAT, measured (the bench's lossy link, SHOAL_BENCH=1
// BENCH_ROWS="LEDBAT" go test -run '^TestBenchTable$' ./app/): a Go TCP
// flow across a 40 Mbit/s, 50 ms RTT link with a 100 ms queue carried 39.2
// Mbit/s alone and 24.8 Mbit/s beside a Shoal uTP upload with upstream's
// code (62% of the link), against 38.7 alone and 36.2 beside it with
// LEDBAT (91%; the uTP upload fell to 3.3 Mbit/s while TCP ran), and 38.3
// and 38.1 (95%, uTP 1.9 Mbit/s) in a second run. The price is paid on a
// lossy link, where every random loss halves the window and it grows back
// by 3,000 bytes a round trip, as in libutp and libtorrent: 32 MiB over
// uTP at 100 ms RTT and 0.5% loss from a qBittorrent and a Shoal seeder
// took the Shoal leecher 54.8 s and qBittorrent's 60.4 s (medians of 3),
// against 16.0 s and 20.1 s before LEDBAT; at 50 ms and no loss, 8.9 s
// and 15.4 s (8.3 and 13.7 before). With slow start back to ssthresh
// after a resend timeout (as TCP after an RTO), the next run (BENCH_ROWS=
// "uTP|LEDBAT", 64 MiB loopback rows, medians of 3): lossy 100 ms/0.5%
// Shoal 51.6 s, qBittorrent 55.5 s (0.93×, the 0.9× target missed: both
// leechers wait on the same two seeders' LEDBAT senders); 50 ms/0% 9.0 s
// and 12.2 s (0.73×); TCP kept 95% of the link beside Shoal's uTP and 84%
// beside qBittorrent's; loopback uTP Shoal → Shoal 17.6 MB/s,
// qBittorrent → qBittorrent 8.3 MB/s.
// Loss recovery at 100 ms RTT and 0.5% loss (2026-12-06, load 15–19 on
// two cores): the sender already cut once per window, resent every hole
// with three later packets acked, and floored the resend timer at
// 500 ms; what held it was the cut itself. Halving on every random loss
// and growing back by 3,000 bytes a round trip keeps a window near 25
// packets (0.4 MB/s on a 5 MB/s link, Mathis's bound). Now a loss with a
// short queue and little of ours in it (TCP Veno's test) cuts by a fifth,
// and a lost fast resend is resent again when three packets sent after
// it are acked (RACK). In-process (UTP_LOSSY=1 go test -run
// TestLossyDistantTransfer ./engine/transport/utp/, 8 MiB, seeds 1-3):
// 0.39/0.50/0.38 → 0.73/0.75/0.59 MB/s. Bench (BENCH_RUNS=3
// BENCH_ROWS="lossy link|LEDBAT yield", medians of 3), before → after:
// uTP at 100 ms/0.5% Shoal 41.4 → 36.2 s, qBittorrent 46.6 → 37.8 s
// (0.89× → 0.96×: the qBittorrent leecher downloads from the same,
// now faster, Shoal seeder, so the ratio moves only with noise; a second
// run after: 33.0 against 33.3 s); the other lossy rows 0.71×, 0.67×,
// 0.78×; TCP kept 86% of the link beside Shoal's uTP (92% in a second
// run; 93% before; 75% beside qBittorrent's uTP). Veno's backlog test
// alone let TCP keep only 78%: beside a queue-filling TCP flow our own
// backlog is small, so a loss also counts as random only with under
// 20 ms queued.
// Then a random loss stopped cutting at all (2026-12-06): any cut per
// random loss bounds the window at a given loss rate whatever the link's
// speed (a fifth per loss held 100 ms/0.5% to about 45 packets, 0.6
// MB/s), and LEDBAT's congestion signal is the queue, not loss. A loss
// is random when the queuing delay is under 20 ms, our backlog under
// max(3 packets, 1/16 of the window) and at most max(2, 2% of a window)
// losses fell in the round trip (BBRv2's threshold, for a bottleneck
// too shallow to show a queue); it no longer ends slow start. The window
// also grows only while full (RFC 7661; libtorrent's cwnd_saturated): a
// sender held back by the 256-packet cap or the peer's window had grown
// a window it never used, which a halving then did not slow. In-process
// (8 MiB, seeds 1-3, load 7-12): 1.13/1.29/1.57 MB/s. Bench (BENCH_RUNS=3
// BENCH_ROWS="lossy link|LEDBAT yield", load 10-15), before → after: uTP
// at 100 ms/0.5% Shoal 33.2 → 22.0 s, qBittorrent 36.5 → 25.9 s (0.91×
// → 0.85×; the before run was that row alone); the other rows 0.71×,
// 0.63×, 0.73×; TCP kept 82% of the link beside Shoal's uTP (85% of its
// rate alone).
// On loopback (64 MiB, medians of 3 on a machine at load 15–17; BENCH_ROWS=
// "Shoal → Shoal, uTP"), Shoal → Shoal over uTP ran at 16.4 MB/s with
// upstream's code and 14.3 MB/s with LEDBAT, within that machine's noise.
// Earlier (256 MiB, 2026-12-05, upstream's code): Shoal → Shoal over uTP
// 27.5 MB/s, qBittorrent → qBittorrent over uTP 4.8 MB/s, Shoal → Shoal
// over TCP 221 MB/s.
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
//     extra round trip). If that handshake fails for any reason but a
//     refused dial or a wrong torrent, we dial again in plain, as libtorrent
//     does with its pe_enabled policy, and remember that address as
//     plain-only (a bounded table), so the next dial goes plain at once.
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
// Incoming connections are told apart by their first 20 bytes (Sniff): 19
// and "BitTorrent protocol" is a plain handshake; anything else is taken
// for an MSE public key (the caller first routes Shoal's own overlay magic
// elsewhere). The SKEY list is every infohash the node has.
//
// RC4 costs CPU on both sides: on 2026-12-05, 1 GiB Shoal → Shoal on
// loopback ran at 258 MB/s with the default mode (plain data after an MSE
// handshake) and 104 MB/s with both sides in require mode (RC4), medians
// of 3 in the same run on a loaded 2-core machine (SHOAL_BENCH=1
// BENCH_ROWS="Shoal → Shoal" go test -run '^TestBenchTable$' ./app/).
//
// # Errors
//
// A failed handshake returns a *HandshakeError whose Kind is one of the
// sentinel errors below (ErrRefused, ErrReset, ErrClosed, ErrTimeout,
// ErrPlainPeer, ErrEncryptedPeer, ErrWrongInfoHash, ErrNotBitTorrent), so
// logs and callers can tell a refused dial from a reset, a plain peer
// under "require" or a peer sharing something else.
//
// # Resources
//
// Every handshake runs under a deadline (the caller's; HandshakeTimeout is
// the default the engine uses). MSE costs one goroutine for its writer plus
// one per pending read while it runs, and at most about 600 bytes of
// buffered padding: a peer that sends a preamble and stalls holds them
// until the deadline, then the connection is closed. Callers bound how many
// incoming handshakes run at once.
package transport
