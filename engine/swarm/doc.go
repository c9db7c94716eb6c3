// Package swarm runs one torrent's peer swarm: BitTorrent peer connections
// (BEP 3 with the BEP 6 fast extension and BEP 10 extension protocol),
// metadata exchange for magnet links (BEP 9), the piece picker, the choker,
// SHA-1 verification off the network goroutines, and precise blame for
// corrupt data.
//
// A Swarm has one owner, which starts it (Start, or Run to wait for its
// end) and reads Stats. The Swarm never calls up into its owner while it
// holds its lock: byte counts (DrainTraffic), hash failures and bans
// (DrainReports) and verified pieces (Checkpoint) are values the owner
// collects, and the owner pushes the peers' long-run credit down
// (SetCredits). Its callbacks, OnComplete and OnWake, are made without the
// lock, and so are the owner's transport calls (Connect, Punch), each on a
// goroutine of its own.
//
// # Locks
//
// Outer first: a peer's writer.wmu → Swarm.mu → a peer's writer.mu. The
// writer goroutine owns the socket while it holds wmu: it writes under it,
// and serving a block under it reads the read cache (readCache.mu) and the
// files (the storage descriptor cache's lock) and takes Swarm.mu to spend
// the upload budget. Swarm.mu queues messages to peers (writer.mu), notes
// yourip claims (IPVotes.mu) and logs, but never writes to a socket or
// waits on one: the reader sends requests itself (sendNow) only after
// releasing Swarm.mu, and takes wmu there with TryLock. Files are read,
// written and synced with Swarm.mu released, at shutdown too: once every
// peer goroutine has ended, shutdown marks the swarm closing under it,
// then syncs the verified pieces and closes the files without it, and
// marks them closed. A Checkpoint meanwhile records nothing (the pieces
// are not durable yet); the next one finds them synced and closed.
// Stats do not wait for that fsync. readCache.mu, writer.mu, IPVotes.mu and the hash pool's queue
// take nothing under them; readCache.mu is held while a cached block is
// copied out, so the buffer is not reused meanwhile.
//
// # Requests
//
// Requests are pipelined per peer. The depth grows like TCP slow start, up
// to two seconds of that peer's measured rate, and never beyond the queue
// the peer announces (BEP 10 reqq) or shows by rejecting requests. A peer
// that answers in batches (Transmission sends every half second) counts as
// kept full when its queue is within one top-up of full, so the depth still
// doubles every round trip. A peer that has sent nothing for longer than its
// mean turnaround plus four deviations (2–20 s, libtorrent's rule) is asked
// again for its oldest request, without a cancel: with the fast extension a
// cancel can bring a reject that would be taken for the answer. Blocks are
// asked of two peers at once only in the endgame, or after sitting 300 ms in
// a slow peer's queue. When the writer goroutine is idle, the reader sends
// the requests a block frees up itself, with a write that never blocks, so
// a busy CPU does not leave the seeder without requests.
//
// # The write path
//
// A piece is assembled in memory, hashed by the engine's hash workers and
// written with one call that bypasses the page cache (O_DIRECT on Linux,
// buffered otherwise): filling the page cache cost more CPU than the hash.
// Piece buffers are cut from arenas that start on a 2 MiB boundary and are
// advised MADV_HUGEPAGE (storage.HugeBuffer): 8 MiB first, the rest of the
// 32 MiB cap only for a download that needs more, and released buffers are
// reused last in, first out, so a download cycles through a few hot huge
// pages instead of faulting in and pinning fresh 4 KiB pages per piece.
//
// # Seeding
//
// A seeder hands writev read-only mmap views of its files, so a block goes
// from the page cache to the socket in one copy. Only the kernel reads a
// view: a file truncated underneath gives EFAULT, never SIGBUS.
//
// # Blame
//
// The swarm knows which peer sent each block. A peer that sent a failed
// piece alone is banned at once; when several did, each one's blocks are
// remembered and compared with the piece once it verifies, and only those
// whose data differs are banned. Enough shared failures (BanAfter) ban a
// peer that could not be proven. For a v2 torrent (BEP 52) a failed piece
// from several peers is judged at once: its 16 KiB leaf hashes are asked
// of a v2 peer, proved against the piece layer, and the peer whose block
// differs from its leaf is banned (blame_v2.go). The blocks are compared
// by SHA-256 in both cases.
//
// # v2 from a magnet link
//
// A v2 torrent from a btmh magnet link gets its info dictionary by BEP 9,
// then the piece layers by BEP 52 hash requests, each chunk proved to its
// file's pieces root by uncle hashes; no piece is requested before all
// layers are in (layers.go). The owner keeps them (PieceLayers).
//
// # Hole punching (BEP 55)
//
// Every peer is offered ut_holepunch. As a relay, the swarm introduces a
// peer that sends rendezvous to another connected peer that speaks
// ut_holepunch, by sending connect to both, each naming the other's
// listen address as we see it (its IP after its NAT, with the port of its
// BEP 10 handshake); otherwise it answers with the BEP 55 error code
// (NoSuchPeer, NotConnected, NoSupport, NoSelf). Each peer may send a
// burst of 3 and then one rendezvous or connect per 5 s; beyond that it
// gets no answer and makes us dial nothing. New peers get their first PEX message 3 s after connecting,
// not at the next minute's round, so a peer behind NAT learns soon whom it
// may reach through us.
//
// As a peer behind NAT, the swarm remembers which addresses each peer
// named in its PEX. When a dial to such an address fails, or has gone 3 s
// without the peer answering (a router that drops SYNs leaves a dial
// hanging for its whole 15 s), it asks that peer for a rendezvous (again
// after 15 s if it still cannot reach the address, the gap doubling per
// ask up to a minute: a punch can fail under load, and a second one
// usually forms). A dial whose connection opened asks for none, even
// if its handshake is slow (transport.Trace tells the swarm), and neither
// does one that lost to the peer's own connection to us. If a slow dial
// completes beside a punched connection, addPeer keeps one of the two,
// the same one at both ends. On connect, exactly
// one end dials: the one whose address, as the relay sees both, sorts
// first (our IP from the relay's yourip, with our advertised port). Both
// ends compute the same answer, which matters because each end usually
// fails to dial the other and asks. The owner's Puncher does the
// transport's part; a connection that results is marked with the relay in
// PeerStats.Via. At most 4 punches run at once per swarm, each for at
// most 30 s, and only toward addresses the owner's policy allows.
package swarm
