// Package utp implements uTP, the micro transport protocol as used with
// Bittorrent. It opts for simplicity and reliability over strict adherence to
// the (poor) spec. It allows using the underlying OS-level transport despite
// dispatching uTP on top to allow for example, shared socket use with DHT.
// Additionally, multiple uTP connections can share the same OS socket, to
// truly realize uTP's claim to be light on system and network switching
// resources.
//
// Socket is a wrapper of a net.PacketConn, and performs dispatching of uTP
// packets to attached uTP Conns. Dial and Accept is done via Socket. Conn implements
// net.Conn over uTP, via aforementioned Socket.
//
// This is a modified copy of github.com/anacrolix/utp v0.2.0, under the
// Mozilla Public License 2.0 (LICENSE in this folder). Shoal's changes: LEDBAT
// congestion control (ledbat.go, and its calls in conn.go, send.go and
// socket.go, marked by c.cc), and loss recovery (conn.go's applyAcks and
// lostSend): a packet counts as lost once three later packets are
// selectively acked (upstream also counted the selective ack's padding
// bits, packets still in flight, as skipped), it is fast resent once with
// its resend timer re-armed at a full timeout (upstream re-armed it at
// zero, so every fast resend also fired as a timeout), a fast resend that
// is lost too is resent again once three packets sent after it are acked
// (RACK's lost-retransmission rule), and resent packets give no
// round-trip sample (Karn's rule). A random loss (short queue, little of
// ours in it: TCP Veno's test; and rare) leaves the window alone, and the
// window grows only while it is full (see ledbat.go's lost and acked),
// the target is LEDBAT++'s 60 ms and past it the window shrinks by
// LEDBAT++'s multiplicative decrease, the base delay is RFC 6817's ten
// one-minute minima (ledbat.go), and the resend timeout is RFC 6298's
// SRTT + 4·RTTVAR with BEP 29's 500 ms floor (rtt.go; upstream took
// three mean round trips, jittered).
// Why a copy: see package transport's doc.
//
// # Locking
//
// As upstream, one package-wide lock (mu) guards every Socket and Conn and
// the sockets map; Conn's methods take it, and the packets a Conn sends
// are written to the UDP socket with it held. A Read, Write or Dial that
// must wait does so in missinggo.WaitEvents, which releases mu until one
// of the Conn's events (data, ack, FIN, close, deadline) is set. No other
// lock is taken under mu.
package utp
