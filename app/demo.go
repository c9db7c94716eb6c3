package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/shoalp2p/shoal/engine"
)

// demoFiles are the sample files the demo peers share: varied, searchable names.
var demoFiles = [][]struct {
	name string
	size int
}{
	{{"Big Buck Bunny 1080p.mkv", 24 << 20}, {"Ocean Waves Relaxing Sounds.flac", 9 << 20}},
	{{"Sintel Open Movie Trailer.mp4", 16 << 20}, {"Jazz Piano Collection/01 Blue in Green.ogg", 3 << 20},
		{"Jazz Piano Collection/02 Autumn Leaves.ogg", 4 << 20}},
	{{"Debian Handbook 2026.pdf", 5 << 20}, {"Mountain Hiking Photos/summit.jpg", 2 << 20},
		{"Mountain Hiking Photos/valley.jpg", 3 << 20}, {"Linux Kernel Source 6.12.tar.xz", 12 << 20}},
}

// demoShares are the paths each peer shares (folders as a whole).
var demoShares = [][]string{
	{"Big Buck Bunny 1080p.mkv", "Ocean Waves Relaxing Sounds.flac"},
	{"Sintel Open Movie Trailer.mp4", "Jazz Piano Collection"},
	{"Debian Handbook 2026.pdf", "Mountain Hiking Photos", "Linux Kernel Source 6.12.tar.xz"},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	dir := fs.String("data", "", "folder for the demo swarm (default: a temporary folder, removed at exit)")
	headless := fs.Bool("headless", false, "start the swarm and print its addresses, without the window")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root := *dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "shoal-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	c := common{loopbackOnly: true, listen: "127.0.0.1:0", logLevel: *logLevel, bootstrap: "none"}
	newcomer, stop, err := startDemoSwarm(ctx, root, c, stdout, stderr)
	if err != nil {
		return err
	}
	defer stop()
	if *headless {
		<-ctx.Done()
		return nil
	}
	fmt.Fprintln(stderr, "demo: the window is the newcomer; search for e.g. 'jazz', 'bunny' or 'photos'")
	a := fyneapp.NewWithID(appID)
	showWindow(ctx, a, a.NewWindow("Shoal"), newcomer, nil, nil, startupClock{})
	return nil
}

// startDemoSwarm starts, all on loopback: a DHT bootstrap node, a supernode,
// three sharing peers, and the newcomer the window drives.
func startDemoSwarm(ctx context.Context, root string, c common, stdout, stderr io.Writer) (*engine.Engine, func(), error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	start := func(name string, supernode bool) (*engine.Engine, error) {
		cc := c
		cc.data = filepath.Join(root, name)
		cc.listen = demoListen(cc.data)
		cfg, err := cc.config(stderr)
		if err != nil {
			return nil, err
		}
		cfg.Supernode = supernode
		e, stop, err := startEngine(ctx, cfg)
		if err != nil && cc.listen != c.listen {
			cfg.Listen = c.listen // the port of the last run is taken now: any
			e, stop, err = startEngine(ctx, cfg)
		}
		if err != nil {
			return nil, err
		}
		stops = append(stops, stop)
		keepDemoPort(e, cc.data, stderr)
		return e, nil
	}
	boot, err := start("bootstrap", false)
	if err != nil {
		return nil, stopAll, err
	}
	_, dhtAddr, _ := boot.Addrs()
	c.bootstrap = dhtAddr
	if _, err := start("supernode", true); err != nil {
		stopAll()
		return nil, nil, err
	}
	for i := range demoFiles {
		peer, err := start(fmt.Sprintf("peer%d", i+1), false)
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		if err := shareDemoFiles(ctx, peer, filepath.Join(root, fmt.Sprintf("peer%d-files", i+1)), i); err != nil {
			stopAll()
			return nil, nil, err
		}
	}
	newcomer, err := start("newcomer", false)
	if err != nil {
		stopAll()
		return nil, nil, err
	}
	peerAddr, dht, _ := newcomer.Addrs()
	b, _ := json.Marshal(map[string]string{"bootstrap": dhtAddr, "newcomer_peer_addr": peerAddr, "newcomer_dht_addr": dht, "data": root})
	fmt.Fprintln(stdout, string(b))
	return newcomer, stopAll, nil
}

// shareDemoFiles writes peer i's sample files (pseudo-random content, so
// every file hashes differently) and shares them.
func shareDemoFiles(ctx context.Context, e *engine.Engine, dir string, i int) error {
	rng := rand.New(rand.NewPCG(uint64(i+1), 42))
	for _, f := range demoFiles[i] {
		path := filepath.Join(dir, f.name)
		if err := writeRandom(path, f.size, rng); err != nil {
			return err
		}
	}
	for _, s := range demoShares[i] {
		if _, err := e.ShareSync(ctx, filepath.Join(dir, s), nil); err != nil {
			return err
		}
	}
	return nil
}

func writeRandom(path string, size int, rng *rand.Rand) error {
	if st, err := os.Stat(path); err == nil && st.Size() == int64(size) {
		return nil // kept from an earlier run with --data
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	buf := make([]byte, size)
	for i := 0; i+8 <= len(buf); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			buf[i+j] = byte(v >> (8 * j))
		}
	}
	return os.WriteFile(path, buf, 0o644)
}

// demoPortFile keeps a demo node's port in its data folder.
const demoPortFile = "demo-port"

// demoListen is the address a demo node listens on: the port it had in
// the last run on this --data, so that every address the nodes saved
// about each other (DHT routing tables, cached supernodes) still holds
// after a restart, as it does for real nodes, which keep their port. A
// first run takes any free port.
func demoListen(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, demoPortFile))
	if err != nil {
		return "127.0.0.1:0"
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port <= 0 || port > 65535 {
		return "127.0.0.1:0"
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

// keepDemoPort saves e's port for the next run on this --data.
func keepDemoPort(e *engine.Engine, dir string, stderr io.Writer) {
	peer, _, _ := e.Addrs()
	_, port, err := net.SplitHostPort(peer)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, demoPortFile), []byte(port+"\n"), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "demo: could not keep the port of %s for the next run: %v\n", filepath.Base(dir), err)
	}
}
