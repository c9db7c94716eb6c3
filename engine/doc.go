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
//
// Cost follows activity, not library size. An idle transfer (shared or
// seeding, nobody connected) has no goroutine, timer or open file of its
// own: its swarm's loop runs only while it has peers or peers to dial
// (swarm.Start), storage descriptors come from one LRU cache for the
// process (package storage), and piece hashing is one pool of workers for
// the process. One announcer goroutine with one timer schedules every
// transfer's DHT and tracker announces (announcer.go): at most one started
// per 50 ms and 8 in flight, each at its interval. A node with no
// bootstrap list and no DHT node yet skips its DHT announces rather than
// start traversals that can only fail; once its DHT knows a node, the
// skipped ones run, spread out again (dhtUp). A one-shot command's DHT
// node (Config.DHTReadOnly, a CLI search) is read-only as BEP 43 says, so
// that it leaves no dead entry in other nodes' routing tables when it
// exits: a traversal can spend its whole time on such entries. The once-a-second flush
// and Snapshot look only at the active set (activity.go): transfers whose
// swarm woke since they were last settled, and downloads until settled;
// library rows are made once and kept until the library changes, one
// read-only slice shared by every Snapshot until then. Start-up reads
// every transfer's byte totals and saved options in one query each. A
// library item of a v1 torrent starts without a swarm (lazy.go): it keeps
// its info bytes and its row's name, size and file count, and its info is
// parsed and its swarm and storage made only when first needed (a peer
// connects for it, a DHT lookup finds peers, a command asks for its
// files), about 2.5 KB of heap for a small single file
// (TestIdleLibraryItemHeap, TestLazyLibraryItem). Other torrents parse
// their info once (swarm.Config.Info); a swarm makes its maps and its
// logger when first needed, and holds its piece hashes once, inside the
// info bytes it serves (the parsed info and the storage layout view
// them). Ten seconds into Run the memory the
// start needed only for the while goes back to the OS (memory.go): the
// runtime's scavenger keeps what the heap may grow back to, so a 10,000-
// item start otherwise stays at its peak, twice the live heap.
//
// # Durability
//
// Once a second the engine checkpoints every swarm (the verified pieces are
// fsynced), then drains its byte counts, and records both in one durable
// SQLite transaction: a piece is never recorded complete without the bytes
// that completed it, so after kill -9 the all-time downloaded figure covers
// every recorded piece. Pieces verified after the last flush are found by
// the recheck at the next start and counted then, once the transfer's
// first check is on record (state.TransferRow.Checked). Uploads may lose
// the last second. A damaged shoal.db is moved aside and the library and
// transfers are rebuilt from the resume files in DataDir/resume (see
// rescue.go); only the byte totals and peer credit are lost.
//
// # Locks
//
// Each lock guards one owner's state and is held briefly, but for one:
// transfer.ops serializes Move and Remove of a transfer and is held for
// their whole run (file moves, SQLite), outermost of all, and taken by
// nothing else. The order of the rest, outer first, is Engine.mu →
// transfer.mu: startTransfer takes a transfer's lock
// under the engine's, and nothing takes them the other way round. Every
// other lock is a leaf as seen from here: Engine.changeMu, each Swarm's
// lock, the storage and DHT locks, and the database's writer. Neither
// Engine.mu nor transfer.mu is held across a call into a swarm, SQLite, the
// DHT, the overlay or a callback, and a swarm never calls up into the
// engine while it holds its lock: it queues hash failures and bans
// (DrainReports) and byte counts (DrainTraffic) as values the engine
// drains, and the engine pushes the credit table down (SetCredits). The
// suite runs with github.com/sasha-s/go-deadlock checking lock order under
// the build tag "deadlock" (internal/locks).
//
// The locks added for scale are leaves too: the active set's
// (activity.mu), the announcer's queue, the library rows' cache, the
// storage descriptor cache and the hash pool's queue; a swarm calls OnWake
// and OnComplete without its lock, and startTransfer hands back the swarm
// start to run once Engine.mu is released.
//
// So are the small ones: pmMu (the port mapper's stop function), reach.mu
// (the dial-back verdict; announceChange runs after it is released),
// peerStore.mu (the DHT peer store: the DHT library calls it with its
// server's lock held, and the BEP 51 responder asks it for samples with
// its own lock released), punchIn.mu (accepted connections a hole punch
// may claim, and targets whose attempts were refused with an ICMP: it
// closes a connection it drops, and cuts a waiting sniff short with a
// read deadline, under the lock; neither blocks),
// moveFailures.mu and the DHT scrape's merge lock.
//
// # Queue, search and new torrents
//
// The download queue (queue.go) holds downloads and finished downloads
// beyond Settings.MaxActiveDownloads and MaxActiveSeeds like paused ones,
// in an order kept in SQLite; one goroutine (queueLoop) applies it, kicked
// by completions, pauses, removals, moves and settings, so holds and
// releases never race. Library items are never queued.
//
// A search (StartSearch) ends as soon as every supernode the query went to
// has answered (the overlay counts the answers, see package overlay), or
// after a few seconds without some; the last 20 searches are kept in
// SQLite. CreateTorrent makes the same torrent as `shoal create` and can
// seed it at once as a finished download (every piece present, no second
// hash pass), so its trackers hear of it.
//
// # Reachability
//
// The listen port is chosen at random at the first start and kept
// (Settings.ListenPort), so that a port forwarded by hand stays right.
// Package portmap opens it on the router (Settings.PortMapping, switched at
// run time). Whether others can really connect is then tested, not
// assumed (dialback.go, overlay.DialBack): the node asks a supernode to
// dial its external address back (the mapped port, else the listen port;
// the helper uses the connection's source IP, so it learns our public IP
// too) and believes the answer only when the probe carrying its nonce
// comes in. It tests once the mapping has settled, whenever the mapped
// port changes, every 30 minutes and when asked (TestReachability, the
// Settings "Test again" button). Until a helper has answered, reachability
// is inferred (reachability.go): an inbound connection from a public
// address, a mapping, or a public own address. With no supernode to ask
// the node keeps looking, every 5 s (nothing is dialled to look), and says
// so in NetStatus.ReachableHow and the log. Only a node known reachable
// promotes itself to supernode.
//
// # Hole punching (BEP 55)
//
// Two peers behind NATs without port mappings meet through a third that
// both are connected to (package swarm decides when; punch.go does the
// transport's part). It works because Linux MASQUERADE, like most home
// routers, keeps a connection's source port when that port is free on the
// router: the listen port then maps to the same external port for every
// destination (endpoint-independent mapping), so the address a relay sees
// in our handshake is the one the other end must aim at. Outgoing hole
// punches therefore leave from the listen port: TCP through a listener
// opened with SO_REUSEPORT (netguard.ListenShared and DialFrom), uTP from
// the shared UDP socket. The end that dials races TCP and uTP; the other
// end dials TCP from its listen port too (the SYNs cross: simultaneous
// open, served as an incoming connection) and sends uTP punch datagrams (a
// 20-byte ST_RESET header, which a uTP stack drops). The far end's SYN may
// instead reach the dialing end's listener (it is reachable, or sits in
// the pause between attempts its peer's router refused): the dialing end
// then claims that accepted connection, from the target's IP and silent so
// far, and runs the outgoing handshake on it (punchin.go), so that the two
// ends never both wait for the other's handshake.
//
// Measured in the lab (app TestLabHolePunch): both TCP and uTP punch
// through routers that drop unsolicited packets, as most home routers do,
// and through routers whose firewall refuses them (iptables REJECT: TCP
// RST, ICMP port unreachable, as OpenWrt's default WAN zone does). Routers
// whose own stack answers them (the same RST and ICMP, no firewall rule:
// the lab's default) need more (Linux 6.18 conntrack, seen with
// /proc/net/nf_conntrack on the lab's routers):
//   - UDP: a datagram that reaches the far router before the far end has
//     sent anything leaves an entry there for the router itself (30 s,
//     renewed by every datagram), and that entry holds the tuple the far
//     end's own mapping needs, so MASQUERADE gives the far end another
//     port (seen: 42041 mapped to 64421) and the hole opens for an address
//     nobody uses. A firewall's REJECT drops the datagram before its entry
//     is confirmed, so nothing lingers there. Against the router's own
//     stack, uTP punches therefore start with openers: two punch datagrams
//     with a TTL of 2 (netguard WriteToTTL), which open our NAT and expire
//     at the next router hop, before the far router. Then the dialing end
//     waits 400 ms before its SYN and the other end 200 ms before its
//     full-TTL punch datagrams, so that each end's openers have passed its
//     own router before the other end's packets reach it. And no ordinary
//     uTP SYN may go first: a peer that a relay's PEX names as a
//     ut_holepunch peer it did not dial is dialled over TCP only (a TCP
//     SYN leaves nothing behind, see below), and with uTP alone not at
//     all, its rendezvous being asked at once (swarm candidate.punchFirst,
//     transport.WithTCPOnly). In the lab, with the two routers a routed hop
//     apart (netlab Options.Transit; two homes are never on one segment),
//     uTP alone punched through in 3 of 3 runs at load 20-30, 0.40 s after
//     the rendezvous was asked (utp-answering), and in 3 of 3 in app
//     TestBenchHolePunchNATs. Where the two routers share a segment no TTL
//     expires between them, and uTP through answering routers still fails
//     there (0 of 3), as it does from behind the lab's double NAT (0 of 3,
//     not looked into yet; there a TTL of 2 expires at the carrier's NAT,
//     so the openers open only the home router).
//   - TCP: the RST, the router's own or its firewall's, removes our
//     router's entry as it passes, so nothing lingers; but each attempt's
//     hole is open for one round trip only (0.2 ms in the lab), until the
//     RST comes back, and the two ends' SYNs must cross in flight. Hence
//     the short pauses between refused attempts for the first 10 s
//     (punchFastRetry). In the lab (load 12-25), with 250 ms pauses
//     the file came through in 8 of 11 runs (tcp-reject 4/6,
//     tcp-answering 4/5; the others found no crossing in 50 s), with
//     5 ms ones in 15 of 15, punched 4 ms to 2.9 s after the rendezvous.
//     A first SYN with a small TTL does not help: the ICMP time-exceeded
//     it brings back ends the attempt while our router's entry stays, so
//     the far SYN meets our listener, whose SYN-ACK carries a new initial
//     sequence number that our router's conntrack, tracking the first
//     SYN's, does not track (the connection is dead one way: see the
//     next point).
//   - TCP through routers refusing with ICMP host prohibited (firewalld):
//     the ICMP ends our attempt but leaves our router's entry for it
//     (SYN_SENT, 120 s), so the far end's SYN passes that entry whenever
//     it comes, and must meet a connecting socket (icmpRefused: the next
//     attempt follows at once). In the gap between two attempts it meets
//     our listener instead (now and then on a loaded machine; more
//     often with a 5 ms pause after each ICMP at one end). Seen with conntrack
//     -E and tcpdump on the lab's routers (nf_conntrack_tcp_be_liberal 0,
//     as on real routers): the far SYN moves our router's entry to
//     SYN_SENT2; our listener's SYN-ACK carries a new initial sequence
//     number (Linux: a hash of the tuple plus a 64 ns clock, so later by
//     the time since our attempt: 38,119 after 2.4 ms), which conntrack
//     finds beyond what it tracks for our side and lets pass, translated,
//     without tracking it; the entry stays in SYN_SENT2, where our ACKs
//     and data are invalid and leave untranslated, from our private
//     address. The far end's connection is established and its bytes
//     reach us, ours never reach it; for the 120 s the entry lasts our
//     new SYNs leave untranslated too and the far end's are refused by
//     our router, so punching on found nothing for the rest of the
//     window (the ends reset such a connection after punchHandshake and
//     punchSilent, 4 s: 4 first trials of 6 failed with that pause).
//     Hence deadPunched (net.go): a connection our listener accepts from
//     an address and port whose TCP punch attempt was refused with an
//     ICMP in the last 120 s is reset as it is accepted (at most 3 per
//     target, in case no router of ours tracks it). Our reset answers
//     the far end's last packet, so conntrack takes it: the entry goes to
//     CLOSE, our next SYN (the last packet our way a reset) replaces it
//     with a fresh entry, and the far end, reset, punches on at once
//     (seen: SYN_SENT, SYN_SENT2, CLOSE, a new SYN_SENT, SYN_RECV,
//     ESTABLISHED). A far end's reset instead (as after punchHandshake)
//     left the entry stuck. With the 5 ms pause after each ICMP at the
//     end that does not dial, tcp-prohibited's first trial failed 4 times
//     in 6 before, 0 in 18 after (4 listener answers reset, each punched
//     28 ms to 1.04 s after the rendezvous); unforced, the first trials
//     of tcp-reject, tcp-answering and tcp-prohibited failed 0 times in 12
//     unloaded and 0 in 9 beside two busy loops, and in the whole
//     TestLabHolePunch tcp-prohibited's listener answered once, unforced,
//     was reset, and the punch formed 11 ms after the rendezvous.
//
// IPv4 only: the punch dials from the IPv4 listener.
//
// # BitTorrent v2 and hybrid torrents
//
// A v2-only torrent's transfer is keyed by its v2 infohash cut to 20
// bytes, a hybrid's by the name it was added with (the v1 infohash from a
// .torrent or btih link, the cut v2 one from a btmh-only link). A hybrid
// answers to its other name too (alias.go): it asks and tells the DHT and
// its trackers under both, as libtorrent does, and an incoming handshake
// under either reaches it and is answered under the name the peer used.
// Share (drop-to-share) makes hybrids by default, as `shoal create` does
// and qBittorrent; Settings.ShareFormat (Settings > Sharing) makes v1
// torrents instead, for Transmission 3.00 and aria2 1.36, which cannot
// read any BEP 52 torrent (TestShareFormatReason), or v2-only ones, whose
// piece layers are kept in DataDir/piece-layers and loaded with the item.
// A share also has its
// files' BEP 52 pieces roots, computed in the same reading pass as its
// SHA-1 pieces and kept beside its torrent (the library row, not the
// .torrent), so search shows the same file in a share and in a v2 or
// hybrid torrent as one. Items shared before Shoal kept roots, and
// finished v1 downloads, get theirs in the background, a minute after the
// start and at 32 MiB/s at most (oldroots.go). It costs hashing, done on
// a second goroutine beside the SHA-1 pieces: BenchmarkCreateShare
// (engine/storage) shares at about 0.8 times the speed without the roots
// (0.6 when both hashes shared a goroutine).
package engine
