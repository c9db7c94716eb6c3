package peerclients

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LibtorrentPython is Debian's own python3, which has python3-libtorrent
// (a python3 earlier on PATH may lack the module).
const LibtorrentPython = "/usr/bin/python3"

// LibtorrentSample is what libtorrent reported of one BEP 51
// sample_infohashes answer (its dht_sample_infohashes_alert).
type LibtorrentSample struct {
	Endpoint  string   `json:"endpoint"`
	Interval  float64  `json:"interval"` // seconds
	Num       int      `json:"num"`      // num_infohashes
	Samples   []string `json:"samples"`  // hex infohashes
	NodeCount int      `json:"nodes"`    // num_nodes
}

// sampleScript makes a loopback-only libtorrent session (no bootstrap
// nodes, no LSD/UPnP/NAT-PMP) send one sample_infohashes query and prints
// the alert as JSON. It never keeps an alert past the next pop_alerts.
const sampleScript = `
import json, sys, time
import libtorrent as lt
host, port, target, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': True,
    'dht_bootstrap_nodes': '', 'enable_lsd': False, 'enable_upnp': False,
    'enable_natpmp': False, 'dht_restrict_routing_ips': False,
    'dht_restrict_search_ips': False, 'dht_ignore_dark_internet': False,
    'dht_enforce_node_id': False, 'alert_mask': lt.alert.category_t.all_categories})
time.sleep(0.5)
s.dht_sample_infohashes((host, port), lt.sha1_hash(bytes.fromhex(target)))
end = time.time() + timeout
while time.time() < end:
    s.wait_for_alert(200)
    for a in s.pop_alerts():
        if isinstance(a, lt.dht_sample_infohashes_alert):
            iv = a.interval
            iv = iv.total_seconds() if hasattr(iv, 'total_seconds') else float(iv)
            out = {'endpoint': '%s:%d' % (a.endpoint[0], a.endpoint[1]), 'interval': iv,
                   'num': a.num_infohashes, 'samples': [str(h) for h in a.samples],
                   'nodes': a.num_nodes}
            print(json.dumps(out))
            sys.exit(0)
print('no dht_sample_infohashes_alert within the timeout', file=sys.stderr)
sys.exit(3)
`

// LibtorrentSampleInfohashes has libtorrent (python3-libtorrent) send a
// BEP 51 sample_infohashes query for target to the DHT node at host:port
// and returns what it parsed from the answer. It returns ErrNotInstalled
// when the module is missing.
func LibtorrentSampleInfohashes(host string, port int, target [20]byte, timeout time.Duration) (LibtorrentSample, error) {
	var out LibtorrentSample
	if err := needLibtorrent(); err != nil {
		return out, err
	}
	cmd := exec.Command(LibtorrentPython, "-c", sampleScript, host, strconv.Itoa(port),
		hex.EncodeToString(target[:]), strconv.FormatFloat(timeout.Seconds(), 'f', 1, 64))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out, fmt.Errorf("libtorrent sample_infohashes: %w: %s", err, stderr.String())
		}
		return out, fmt.Errorf("libtorrent sample_infohashes: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("libtorrent sample_infohashes: output %q: %w", b, err)
	}
	return out, nil
}

// dhtSeedScript seeds torrents with libtorrent, its DHT on and bootstrapped
// from one loopback node only (no LSD, UPnP, NAT-PMP or public routers),
// until it is killed. It prints "ready" once the torrents are added.
// libtorrent drops every DHT packet from an IP that sends it more than 5 a
// second (dht_block_ratelimit), replies included; on loopback every node
// is 127.0.0.1, so that limit would cut it off the DHT and its announces
// would never land: it is lifted here.
const dhtSeedScript = `
import sys, time
import libtorrent as lt
save, port, boot, torrents = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'enable_dht': True,
    'dht_bootstrap_nodes': boot, 'enable_lsd': False, 'enable_upnp': False,
    'enable_natpmp': False, 'dht_restrict_routing_ips': False,
    'dht_restrict_search_ips': False, 'dht_ignore_dark_internet': False,
    'dht_enforce_node_id': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    'allow_multiple_connections_per_ip': True, 'active_seeds': len(torrents) + 5,
    'active_limit': len(torrents) + 5, 'dht_announce_interval': 60,
    'dht_block_ratelimit': 1000000, 'dht_upload_rate_limit': 1000000,
    'in_enc_policy': lt.enc_policy.disabled, 'out_enc_policy': lt.enc_policy.disabled})
for torrent in torrents:
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save
    p.flags = lt.torrent_flags.seed_mode
    s.add_torrent(p)
print('ready', flush=True)
while True:
    s.wait_for_alert(1000)
    s.pop_alerts()
`

// LibtorrentSeeder is a python3-libtorrent session seeding one torrent
// into a loopback DHT.
type LibtorrentSeeder struct {
	Proc     *Proc
	PeerAddr string
}

// StartLibtorrentDHTSeeding seeds torrent (content in dir) with libtorrent,
// entering the DHT at boot (a loopback host:port), so that it announces the
// torrent there and serves its metadata. It returns ErrNotInstalled when
// python3-libtorrent is missing.
func StartLibtorrentDHTSeeding(tb testing.TB, torrent, dir, boot string) (*LibtorrentSeeder, error) {
	return StartLibtorrentDHTSeedingMany(tb, []string{torrent}, dir, boot)
}

// StartLibtorrentDHTSeedingMany is StartLibtorrentDHTSeeding for several
// torrents (content of each in dir) in one libtorrent session.
func StartLibtorrentDHTSeedingMany(tb testing.TB, torrents []string, dir, boot string) (*LibtorrentSeeder, error) {
	if err := needLibtorrent(); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := Start(tb, LibtorrentPython, append([]string{"-c", dhtSeedScript, dir, strconv.Itoa(port), boot}, torrents...)...)
	if err != nil {
		return nil, err
	}
	s := &LibtorrentSeeder{Proc: p, PeerAddr: addr(port)}
	return s, p.WaitListening(s.PeerAddr, 15*time.Second)
}
