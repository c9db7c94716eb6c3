package engine_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// Helpers for the real-client interop tests: finding client binaries,
// running them as child processes on 127.0.0.1, test content, and torrent
// files. See /work/shared/PEERS.md for the client settings.

// peerBin finds a client binary. A missing one skips the test, unless
// SHOAL_REQUIRE_PEERS=1 (CI), where it fails it.
func peerBin(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not installed (apt-get install -y transmission-cli transmission-daemon aria2 opentracker)", name)
	if os.Getenv("SHOAL_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s, and SHOAL_REQUIRE_PEERS=1", msg)
	}
	t.Skipf("%s; set SHOAL_REQUIRE_PEERS=1 to fail instead", msg)
	return ""
}

// lockedBuffer collects a child's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns at most the last n bytes written.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// proc is a client process owned by one test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

// startProc runs bin; the process is stopped when the test ends and its
// output is logged if the test failed.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("%s %s output:\n%s", p.name, strings.Join(args, " "), p.out.tail(6000))
		}
	})
	return p
}

// stop asks the process to end (SIGTERM), killing it after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// freePort finds a port free for both TCP and UDP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// waitListening waits until p accepts TCP connections on addr.
func waitListening(t *testing.T, p *proc, addr string) {
	t.Helper()
	enginetest.WaitFor(t, p.name+" listening on "+addr, 15*time.Second, func() bool {
		if p.exited() {
			t.Fatalf("%s exited early (%v); output:\n%s", p.name, p.err, p.out.tail(4000))
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// startOpentracker runs opentracker on 127.0.0.1 (HTTP and UDP on one
// port) with the given infohashes whitelisted; it returns the HTTP
// announce URL.
func startOpentracker(t *testing.T, hashes ...engine.InfoHash) string {
	t.Helper()
	bin := peerBin(t, "opentracker")
	dir := t.TempDir()
	var wl strings.Builder
	for _, h := range hashes {
		wl.WriteString(h.String() + "\n")
	}
	wlPath := filepath.Join(dir, "whitelist.txt")
	if err := os.WriteFile(wlPath, []byte(wl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // readable after it drops root
		t.Fatal(err)
	}
	// Another test may take the free port before opentracker binds it: then
	// ours exits and the port answers for someone else. Retry in that case.
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-P", strconv.Itoa(port)}
		if os.Geteuid() == 0 {
			// It chroots to -d and becomes -u; the whitelist is read inside.
			args = append(args, "-u", "nobody", "-d", dir, "-w", "/whitelist.txt")
		} else {
			args = append(args, "-d", dir, "-w", wlPath)
		}
		p := startProc(t, bin, args...)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if !listeningOrExited(p, addr, 15*time.Second) {
			continue
		}
		time.Sleep(150 * time.Millisecond)
		if !p.exited() {
			return "http://" + addr + "/announce"
		}
	}
	t.Fatal("opentracker could not keep a port after 5 attempts")
	return ""
}

// listeningOrExited waits until addr accepts connections (true) or the
// process exits (false).
func listeningOrExited(p *proc, addr string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if p.exited() {
			return false
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// content is test data on disk: a single file or a folder of files.
type content struct {
	root string              // the shared path: the file, or the folder
	sums map[string][32]byte // SHA-256 by slash-separated path below root ("" for a file)
	size int64
}

// singleFile writes one random file of size bytes named name in a new folder.
func singleFile(t *testing.T, name string, size int) content {
	t.Helper()
	path := enginetest.RandomFile(t, t.TempDir(), name, size)
	return content{root: path, sums: map[string][32]byte{"": sha256File(t, path)}, size: int64(size)}
}

// folderOfFiles writes a folder name/ with three files in nested
// subfolders, sized so files straddle piece boundaries.
func folderOfFiles(t *testing.T, name string) content {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	c := content{root: root, sums: map[string][32]byte{}}
	for rel, size := range map[string]int{
		"intro.txt":                 300<<10 + 17,
		"disc 1/track01.flac":       3<<20 + 4097,
		"disc 1/extras/booklet.pdf": 2<<20 + 12345,
	} {
		path := enginetest.RandomFile(t, root, filepath.FromSlash(rel), size)
		c.sums[rel] = sha256File(t, path)
		c.size += int64(size)
	}
	return c
}

// name is the torrent name (the base of the shared path).
func (c content) name() string { return filepath.Base(c.root) }

// checkCopy asserts that dir/<name> holds exactly the same bytes.
func (c content) checkCopy(t *testing.T, dir string) {
	t.Helper()
	for rel, want := range c.sums {
		path := filepath.Join(dir, c.name(), filepath.FromSlash(rel))
		if got := sha256File(t, path); got != want {
			t.Errorf("%s: SHA-256 %s, want %s", path, hex.EncodeToString(got[:]), hex.EncodeToString(want[:]))
		}
	}
}

// writeTorrent makes a .torrent of c with the given trackers and returns
// its path and infohash.
func writeTorrent(t *testing.T, c content, trackers ...string) (string, engine.InfoHash) {
	t.Helper()
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{Trackers: trackers}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), c.name()+".torrent")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := mi.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, engine.InfoHash(mi.HashInfoBytes())
}

// infoHashOf computes c's infohash with default options, as Share does.
func infoHashOf(t *testing.T, c content) engine.InfoHash {
	t.Helper()
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return engine.InfoHash(mi.HashInfoBytes())
}

// waitShoalComplete waits until n holds all size bytes of ih, verified.
func waitShoalComplete(t *testing.T, n *enginetest.Node, ih engine.InfoHash, size int64, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	var last engine.TransferSnapshot
	deadline := time.Now().Add(timeout)
	for {
		tr, ok := enginetest.Transfer(n.Snapshot(), ih)
		last = tr
		if ok && tr.Size == size && tr.Have == size {
			t.Logf("Shoal completed %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Shoal did not complete %s within %v: state=%s have=%d/%d peers=%d err=%q details=%+v",
				ih, timeout, last.State, last.Have, last.Size, last.Peers, last.Err, last.PeerDetails)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// transmission is a transmission-daemon on 127.0.0.1, driven through its
// JSON RPC (the interface transmission-remote uses).
type transmission struct {
	proc     *proc
	peerAddr string
	rpcURL   string
	client   *http.Client
	session  string // X-Transmission-Session-Id (CSRF token)
}

// startTransmission runs a fresh daemon with every discovery and NAT
// feature off, listening for peers and RPC on 127.0.0.1 only.
func startTransmission(t *testing.T) *transmission {
	t.Helper()
	bin := peerBin(t, "transmission-daemon")
	cfgDir := t.TempDir()
	peerPort, rpcPort := freePort(t), freePort(t)
	for rpcPort == peerPort {
		rpcPort = freePort(t)
	}
	settings := map[string]any{
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
		"port-forwarding-enabled": false, "utp-enabled": false,
		"bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
		"peer-port": peerPort, "peer-port-random-on-start": false,
		"rpc-enabled": true, "rpc-bind-address": "127.0.0.1", "rpc-port": rpcPort,
		"rpc-authentication-required": false, "rpc-whitelist": "127.0.0.1",
		"rpc-whitelist-enabled": true, "rpc-host-whitelist-enabled": false,
		"download-dir": t.TempDir(), "incomplete-dir-enabled": false,
		"rename-partial-files": false, "ratio-limit-enabled": false,
		"idle-seeding-limit-enabled": false, "speed-limit-up-enabled": false,
		"speed-limit-down-enabled": false, "download-queue-enabled": false,
		"seed-queue-enabled": false, "queue-stalled-enabled": false,
		"start-added-torrents": true, "blocklist-enabled": false,
		"message-level": 2,
	}
	b, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "settings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	guard := netguard.Policy{LoopbackOnly: true}
	tr := &transmission{
		proc:     startProc(t, bin, "-f", "-g", cfgDir),
		peerAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort)),
		rpcURL:   fmt.Sprintf("http://127.0.0.1:%d/transmission/rpc", rpcPort),
		client: &http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{DialContext: guard.Dial, Proxy: nil}},
	}
	waitListening(t, tr.proc, net.JoinHostPort("127.0.0.1", strconv.Itoa(rpcPort)))
	// The peer port is not probed: Transmission resets the next incoming
	// connection from an address whose handshake it is still tracking.
	return tr
}

// call makes one RPC call and decodes its arguments into out.
func (tr *transmission) call(t *testing.T, method string, args, out any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"method": method, "arguments": args})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		req, err := http.NewRequest(http.MethodPost, tr.rpcURL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Transmission-Session-Id", tr.session)
		resp, err := tr.client.Do(req)
		if err != nil {
			t.Fatalf("transmission rpc %s: %v", method, err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("transmission rpc %s: %v", method, err)
		}
		if resp.StatusCode == http.StatusConflict { // first call: fetch the token
			tr.session = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		var r struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.Result != "success" {
			t.Fatalf("transmission rpc %s: HTTP %d, result %q, err %v: %s", method, resp.StatusCode, r.Result, err, raw)
		}
		if out != nil {
			if err := json.Unmarshal(r.Arguments, out); err != nil {
				t.Fatalf("transmission rpc %s: decode %s: %v", method, r.Arguments, err)
			}
		}
		return
	}
	t.Fatalf("transmission rpc %s: no session id accepted", method)
}

// add gives Transmission a .torrent whose content lives (or will live) in
// dir, and returns the infohash it reports.
func (tr *transmission) add(t *testing.T, torrent, dir string) engine.InfoHash {
	t.Helper()
	mi, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]struct {
		HashString string `json:"hashString"`
	}
	tr.call(t, "torrent-add", map[string]any{
		"metainfo": base64.StdEncoding.EncodeToString(mi), "download-dir": dir, "paused": false,
	}, &out)
	added, ok := out["torrent-added"]
	if !ok {
		t.Fatalf("transmission torrent-add: no torrent-added in %v", out)
	}
	ih, err := engine.ParseInfoHash(added.HashString)
	if err != nil {
		t.Fatal(err)
	}
	return ih
}

// Transmission's torrent status codes (RPC spec, section 3.3).
const (
	trStatusCheck    = 2
	trStatusDownload = 4
	trStatusSeed     = 6
)

// trTorrent is the part of a torrent-get answer the tests read.
type trTorrent struct {
	Status         int     `json:"status"`
	PercentDone    float64 `json:"percentDone"`
	LeftUntilDone  int64   `json:"leftUntilDone"`
	HaveValid      int64   `json:"haveValid"`
	Error          int     `json:"error"`
	ErrorString    string  `json:"errorString"`
	PeersConnected int     `json:"peersConnected"`
}

func (tr *transmission) get(t *testing.T, ih engine.InfoHash) trTorrent {
	t.Helper()
	var out struct {
		Torrents []trTorrent `json:"torrents"`
	}
	tr.call(t, "torrent-get", map[string]any{"ids": []string{ih.String()}, "fields": []string{
		"status", "percentDone", "leftUntilDone", "haveValid", "error", "errorString", "peersConnected"}}, &out)
	if len(out.Torrents) != 1 {
		t.Fatalf("transmission has %d torrents for %s", len(out.Torrents), ih)
	}
	return out.Torrents[0]
}

// waitFor polls ih's status until cond holds; a local error fails the test.
func (tr *transmission) waitFor(t *testing.T, ih engine.InfoHash, what string, timeout time.Duration, cond func(trTorrent) bool) {
	t.Helper()
	var last trTorrent
	deadline := time.Now().Add(timeout)
	for {
		last = tr.get(t, ih)
		if last.Error == 3 {
			t.Fatalf("transmission: local error on %s: %s", ih, last.ErrorString)
		}
		if cond(last) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for transmission %s; last status %+v", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// seed adds a torrent whose complete content is in dir and waits until
// Transmission has verified it and seeds.
func (tr *transmission) seed(t *testing.T, torrent, dir string) engine.InfoHash {
	t.Helper()
	ih := tr.add(t, torrent, dir)
	tr.waitFor(t, ih, "to verify and seed", 30*time.Second, func(s trTorrent) bool {
		return s.Status == trStatusSeed && s.LeftUntilDone == 0 && s.PercentDone == 1
	})
	return ih
}

// aria2Args are the options every aria2c run gets: no DHT, PEX, LPD or
// IPv6, bound to 127.0.0.1 on port.
func aria2Args(port int) []string {
	return []string{"--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--enable-peer-exchange=false", "--bt-enable-lpd=false", "--disable-ipv6=true",
		"--interface=127.0.0.1", "--listen-port=" + strconv.Itoa(port),
		"--summary-interval=0", "--show-console-readout=false", "--enable-color=false",
		"--console-log-level=notice", "--file-allocation=none"}
}

// startAria2 runs aria2c on torrent with content in dir, as a seeder
// (forever) or a leecher (exits once complete). It returns the process and
// the peer address it listens on.
func startAria2(t *testing.T, torrent, dir string, seed bool) (*proc, string) {
	t.Helper()
	bin := peerBin(t, "aria2c")
	port := freePort(t)
	args := aria2Args(port)
	if seed {
		args = append(args, "--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	} else {
		args = append(args, "--seed-time=0")
	}
	p := startProc(t, bin, append(args, "-d", dir, torrent)...)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitListening(t, p, addr)
	return p, addr
}

// waitExit waits for p to exit successfully.
func waitExit(t *testing.T, p *proc, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("%s failed: %v; output:\n%s", p.name, p.err, p.out.tail(4000))
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not finish within %v", p.name, timeout)
	}
}
