package peerclients

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Host6 is the IPv6 loopback address the IPv6 tests bind to.
const Host6 = "::1"

// StartAria2DHT6Seeder runs aria2c seeding a torrent (content in dir,
// usually trackerless) over IPv6 only: it listens on [::1], runs its IPv6
// DHT (BEP 32) with entry as its only entry point ("[::1]:PORT"), and its
// IPv4 DHT is off. aria2 announces the torrent into that DHT and serves
// the metadata (BEP 9) to a peer that has only the infohash.
//
// aria2 starts its first peer lookup (the one that announces) as soon as
// the torrent starts, and a seeder's next one only 15 minutes later
// (DHTGetPeersCommand: GET_PEER_INTERVAL; the 5 s retries are for
// unfinished downloads). Its ping to the entry point races that first
// lookup: when the reply comes second, the lookup runs on an empty
// routing table and nothing is announced for 15 minutes. So the entry
// node is put in aria2's saved routing table (--dht-file-path6) before it
// starts, which aria2 loads into its table before any lookup: the helper
// pings entry once to learn its node ID, then writes the file.
func StartAria2DHT6Seeder(tb testing.TB, torrent, dir, entry string) (*Aria2, error) {
	bin, ports, err := binAndPorts("aria2c", 2)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(entry)
	if err != nil {
		return nil, fmt.Errorf("peerclients: aria2 DHT6 entry point %q: %w", entry, err)
	}
	dhtFile := filepath.Join(tb.TempDir(), "dht6.dat")
	if err := seedAria2DHTFile(dhtFile, entry); err != nil {
		return nil, err
	}
	drop := []string{"--enable-dht6=false", "--disable-ipv6=true", "--interface=" + Host}
	args := slices.DeleteFunc(Aria2Args(ports[0]), func(a string) bool { return slices.Contains(drop, a) })
	args = append(args, "--enable-dht6=true", "--disable-ipv6=false", "--interface="+Host6,
		"--dht-entry-point6="+net.JoinHostPort(host, port), "--dht-listen-port="+strconv.Itoa(ports[1]),
		"--dht-file-path6="+dhtFile,
		"--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	logPath := filepath.Join(tb.TempDir(), "aria2.log")
	args = append(args, "--log="+logPath, "--log-level=debug", "-d", dir, torrent)
	p, err := Start(tb, bin, args...)
	if err != nil {
		return nil, err
	}
	a := &Aria2{Proc: p, PeerAddr: net.JoinHostPort(Host6, strconv.Itoa(ports[0])), LogPath: logPath}
	if err := p.WaitListening(a.PeerAddr, 15*time.Second); err != nil {
		return nil, fmt.Errorf("%w; aria2c's log ends:\n%s", err, a.logTail(3000))
	}
	return a, nil
}

// LogContains reports whether aria2c's log holds s (for tests that wait
// for a DHT message).
func (a *Aria2) LogContains(s string) bool {
	return strings.Contains(a.logTail(1<<30), s)
}

// seedAria2DHTFile writes an aria2 routing table file (IPv4 or IPv6, as
// entry is) holding one
// node, the DHT node at entry, whose ID it learns with a KRPC ping.
func seedAria2DHTFile(path, entry string) error {
	ap, err := netip.ParseAddrPort(entry)
	if err != nil {
		return fmt.Errorf("peerclients: aria2 DHT entry point %q: want IP:port", entry)
	}
	id, err := krpcNodeID(entry)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, aria2DHTFile(ap, id, time.Now()), 0o644); err != nil {
		return fmt.Errorf("peerclients: aria2 DHT file: %w", err)
	}
	return nil
}

// aria2DHTFile is aria2's routing table file (DHTRoutingTableSerializer,
// format 2 version 3) holding one node: an 8-byte header (magic
// A1 A2, format 02, version 0003), the save time, 8 reserved bytes, a
// local node ID (random: aria2 takes it as its own), 4 reserved, the node
// count and 4 reserved; then per node the compact address length (6 for
// IPv4, 18 for IPv6),
// 7 reserved, the compact address padded to 24 bytes, the node ID and 4
// reserved.
func aria2DHTFile(node netip.AddrPort, id [20]byte, now time.Time) []byte {
	b := []byte{0xa1, 0xa2, 0x02, 0, 0, 0, 0, 0x03}
	b = binary.BigEndian.AppendUint64(b, uint64(now.Unix()))
	b = append(b, make([]byte, 8)...)
	var local [20]byte
	rand.Read(local[:])
	b = append(b, local[:]...)
	b = append(b, make([]byte, 4)...)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, make([]byte, 4)...)
	compact := node.Addr().Unmap().AsSlice() // 4 or 16 bytes: the file's family
	compact = binary.BigEndian.AppendUint16(compact, node.Port())
	b = append(b, byte(len(compact)))
	b = append(b, make([]byte, 7)...)
	b = append(b, compact...)
	b = append(b, make([]byte, 24-len(compact))...)
	b = append(b, id[:]...)
	return append(b, make([]byte, 4)...)
}

// krpcNodeID pings the DHT node at addr and returns the ID it answers with.
func krpcNodeID(addr string) ([20]byte, error) {
	var id [20]byte
	c, err := net.Dial("udp", addr)
	if err != nil {
		return id, fmt.Errorf("peerclients: ping DHT node %s: %w", addr, err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for try := 0; try < 5; try++ {
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("d1:ad2:id20:peerclients-aria2-dhe1:q4:ping1:t2:pc1:y1:qe")); err != nil {
			return id, fmt.Errorf("peerclients: ping DHT node %s: %w", addr, err)
		}
		n, err := c.Read(buf)
		if err != nil {
			continue
		}
		_, rest, ok := bytes.Cut(buf[:n], []byte("2:id20:"))
		if ok && len(rest) >= 20 {
			copy(id[:], rest)
			return id, nil
		}
	}
	return id, fmt.Errorf("peerclients: DHT node %s gave no ID to five pings", addr)
}
