package peerclients

// labSeedScript seeds a .torrent on listen (host:port, any address a lab
// namespace has) and connects to one peer, with uTP on and everything
// that could leave the lab off (DHT, LSD, UPnP, NAT-PMP). It prints
// "seeding" once loaded, then every second one line per connected peer:
// "peer IP:PORT holepunched=0|1 outgoing=0|1 up=BYTES", and every
// alert that mentions a hole punch.
const labSeedScript = `
import sys, time
import libtorrent as lt
torrent, save, listen, peer = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = lt.session({'listen_interfaces': listen, 'enable_dht': False, 'enable_lsd': False,
    'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': True, 'enable_outgoing_utp': True,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.peer_notification | lt.alert.category_t.connect_notification})
p = lt.add_torrent_params()
p.ti = lt.torrent_info(torrent)
p.save_path = save
p.flags |= lt.torrent_flags.seed_mode
h = s.add_torrent(p)
host, port = peer.rsplit(':', 1)
h.connect_peer((host, int(port)))
print('seeding', flush=True)
hp = getattr(lt.peer_info, 'holepunched', 0)
while True:
    s.wait_for_alert(1000)
    for a in s.pop_alerts():
        m = a.message()
        if 'holepunch' in m.lower() or 'hole' in m.lower():
            print('alert', a.what(), m, flush=True)
    for pi in h.get_peer_info():
        print('peer %s:%d holepunched=%d outgoing=%d up=%d' % (pi.ip[0], pi.ip[1],
            1 if hp and pi.flags & hp else 0,
            1 if pi.flags & lt.peer_info.outgoing_connection else 0, pi.total_upload), flush=True)
`

// LibtorrentLabSeedArgs is the command line (LibtorrentPython first) of a
// python3-libtorrent seeder for a lab namespace: it seeds torrent from
// save on listen and connects to peer (both host:port). Start it with
// the lab node's Command; NeedLibtorrent says whether it can run.
func LibtorrentLabSeedArgs(torrent, save, listen, peer string) []string {
	return []string{LibtorrentPython, "-c", labSeedScript, torrent, save, listen, peer}
}

// NeedLibtorrent reports, as an error wrapping ErrNotInstalled, that
// python3-libtorrent is missing.
func NeedLibtorrent() error { return needLibtorrent() }
