package peerclients

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Torrent kinds libtorrent makes (lt.create_torrent flags).
const (
	LibtorrentV1     = "v1"     // create_torrent.v1_only
	LibtorrentV2     = "v2"     // create_torrent.v2_only
	LibtorrentHybrid = "hybrid" // flags=0: v1 and v2, with BEP 47 pad files
)

// createScript makes a .torrent of a file or folder with libtorrent.
const createScript = `
import sys, os
import libtorrent as lt
src, out, pl, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[kind]
fs = lt.file_storage()
lt.add_files(fs, src)
t = lt.create_torrent(fs, pl, flags=flags)
lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(src)))
open(out, 'wb').write(lt.bencode(t.generate()))
`

// LibtorrentCreate makes out, a .torrent of src (a file or folder) with
// libtorrent 2.0's create_torrent: kind is LibtorrentV1, LibtorrentV2 or
// LibtorrentHybrid and pieceLen the piece length (0 lets it choose).
func LibtorrentCreate(src, out string, pieceLen int, kind string) error {
	if err := needLibtorrent(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, LibtorrentPython, "-c", createScript, src, out, strconv.Itoa(pieceLen), kind)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("peerclients: libtorrent create_torrent: %w: %s", err, b)
	}
	return nil
}

func needLibtorrent() error {
	if err := exec.Command(LibtorrentPython, "-c", "import libtorrent").Run(); err != nil {
		return fmt.Errorf("python3-libtorrent: %w", ErrNotInstalled)
	}
	return nil
}

// sessionSettings is a loopback-only libtorrent session (PEERS.md) on
// the Python variable port: no DHT, LSD, UPnP, NAT-PMP, uTP or encryption.
const sessionSettings = `{'listen_interfaces': '127.0.0.1:' + str(port), 'enable_dht': False, 'enable_lsd': False,
    'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    'in_enc_policy': lt.enc_policy.disabled, 'out_enc_policy': lt.enc_policy.disabled,
    'allow_multiple_connections_per_ip': True, 'alert_mask': lt.alert.category_t.error_notification}`

// seedScript seeds a .torrent from a folder until killed, printing
// "seeding" once the torrent is loaded. It never keeps an alert past the
// next pop_alerts.
const seedScript = `
import sys, time
import libtorrent as lt
torrent, save, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = lt.session(` + sessionSettings + `)
p = lt.add_torrent_params()
p.ti = lt.torrent_info(torrent)
p.save_path = save
p.flags |= lt.torrent_flags.seed_mode
h = s.add_torrent(p)
print('seeding', flush=True)
while True:
    s.wait_for_alert(1000)
    for a in s.pop_alerts():
        print('alert', a.what(), a.message(), flush=True)
`

// LibtorrentSeed is a python3-libtorrent session seeding one torrent.
type LibtorrentSeed struct {
	*Proc
	Port int
}

// Addr is the seed's peer address.
func (l *LibtorrentSeed) Addr() string { return addr(l.Port) }

// StartLibtorrentSeed seeds torrent from the folder holding its content
// (seed mode: libtorrent trusts the data) on a loopback port.
func StartLibtorrentSeed(tb testing.TB, torrent, dir string) (*LibtorrentSeed, error) {
	if err := needLibtorrent(); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := Start(tb, LibtorrentPython, "-c", seedScript, torrent, dir, strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.Output(1<<16), "seeding") {
		if p.Exited() || time.Now().After(deadline) {
			return nil, fmt.Errorf("peerclients: libtorrent seed did not start: %s", p.Output(4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The session opens its listening socket on its own thread, after the
	// torrent is added: a peer dialing at once would be refused.
	if err := p.WaitListening(addr(port), 20*time.Second); err != nil {
		return nil, err
	}
	return &LibtorrentSeed{Proc: p, Port: port}, nil
}

// leechScript downloads a .torrent file or a magnet link into a folder
// from one peer, printing "finished" once every piece is checked, then
// keeps seeding until killed. While it has no peer it asks for the
// connection again every 100 ms: a fresh session connects nothing for
// about half a second, and asking every 2 s (as before) made the bench's
// libtorrent leecher wait up to 2 s for nothing.
const leechScript = `
import sys, time
import libtorrent as lt
src, save, port, peer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = lt.session(` + sessionSettings + `)
if src.startswith('magnet:'):
    p = lt.parse_magnet_uri(src)
else:
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(src)
p.save_path = save
h = s.add_torrent(p)
host, pport = peer.rsplit(':', 1)
h.connect_peer((host, int(pport)))
done = False
last = 0
while True:
    s.wait_for_alert(100)
    for a in s.pop_alerts():
        w, m = a.what(), a.message()
        if w in ('torrent_error', 'hash_failed', 'file_error', 'metadata_failed'):
            print('alert', w, m, flush=True)
    st = h.status()
    if not done and st.is_seeding:
        print('finished', flush=True)
        done = True
    if not done and st.num_peers == 0:
        h.connect_peer((host, int(pport)))
    if not done and time.time() - last > 2:
        last = time.time()
        print('status', st.state, round(st.progress, 3), st.num_peers, st.errc.message(), flush=True)
`

// StartLibtorrentLeech has libtorrent download src (a .torrent path or a
// magnet link) into dir from peer (host:port). Finished reports when it
// has every piece.
func StartLibtorrentLeech(tb testing.TB, src, dir, peer string) (*LibtorrentSeed, error) {
	if err := needLibtorrent(); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := Start(tb, LibtorrentPython, "-c", leechScript, src, dir, strconv.Itoa(port), peer)
	if err != nil {
		return nil, err
	}
	return &LibtorrentSeed{Proc: p, Port: port}, nil
}

// Finished reports whether a libtorrent leecher has every piece.
func (l *LibtorrentSeed) Finished() bool { return strings.Contains(l.Output(1<<16), "finished") }
