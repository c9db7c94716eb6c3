package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	// First, for its init: before Fyne's, which complains of the C locale.
	_ "github.com/shoalp2p/shoal/internal/cleanlocale"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/engine/units"
)

const usage = `Usage: shoal [COMMAND] [flags]
       shoal [gui] [--data DIR] MAGNET|FILE.torrent...

Commands:
  gui      the desktop app (default); links given are added, and handed to
           the running instance if there is one
  daemon   the headless engine: shoal daemon [--share PATH]... [--share-format hybrid|v1|v2] [--supernode|--leaf]
  get      download: shoal get [--out DIR] [--peer HOST:PORT]... [--seed] MAGNET|FILE.torrent|INFOHASH
  search   search the network: shoal search [--json] [--timeout D] WORDS...
  create   make a .torrent: shoal create [--v1|--v2] [--piece-length N] [--tracker URL]... -o FILE.torrent PATH
           (a hybrid, v1 and v2 in one, unless --v1 or --v2)
  demo     the app on a local loopback swarm (no Internet needed)
  ratio    print all-time uploaded/downloaded of a data folder as JSON (works while it runs)
  status   ask the running instance for its state: shoal status [--json] [--data DIR]
  add      hand links to the running instance: shoal add [--data DIR] MAGNET|FILE.torrent|INFOHASH...

Common flags: --data DIR  --listen [HOST]:PORT  --bootstrap HOST:PORT,...|none  --loopback-only  --allow-net CIDR,...  --port-mapping on|off  --log-level LEVEL
Run 'shoal COMMAND -h' for a command's flags.
`

func main() {
	stopProfile := startRecording("cpu profile", os.Getenv("SHOAL_CPUPROFILE"), pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startRecording("trace", os.Getenv("SHOAL_TRACE"), trace.Start, trace.Stop)
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	stopTrace()
	stopProfile()
	stopIdleProfile()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "shoal:", oneLine(err))
		os.Exit(1)
	}
}

// startRecording writes a record of the whole run to path when path is
// set, and returns what stops it: a CPU profile (for `go tool pprof`) or an
// execution trace (for `go tool trace`), by the begin and end given.
func startRecording(what, path string, begin func(io.Writer) error, end func()) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = begin(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "shoal: %s: %v\n", what, err)
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}

// stopIdleProfile ends the profile that startIdleProfile began, if any.
var stopIdleProfile = func() {}

// startIdleProfile begins a CPU profile to SHOAL_CPUPROFILE_IDLE, when
// set, once the command is ready (the daemon's ready line, the GUI's first
// frame): a profile of the idle cost alone, without the startup's.
func startIdleProfile() {
	stopIdleProfile = startRecording("idle cpu profile", os.Getenv("SHOAL_CPUPROFILE_IDLE"), pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// run dispatches a command; it is main without the exit, for tests.
func run(args []string, stdout, stderr io.Writer) error {
	cmd := "gui"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if verb, ok := commands[cmd]; ok {
		return verb(ctx, args, stdout, stderr)
	}
	switch {
	case cmd == "gui":
		return runGUI(ctx, args, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case isLink(cmd): // shoal MAGNET|FILE.torrent, as the desktop file runs it
		return runGUI(ctx, append([]string{cmd}, args...), stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// commands are the verbs that write to stdout, by name (usage lists them);
// gui, the default, writes only to stderr.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"daemon": runDaemon,
	"get":    runGet,
	"search": runSearch,
	"create": runCreate,
	"demo":   runDemo,
	"ratio":  runRatio,
	"status": runStatus,
	"add":    runAdd,
}

// common holds the flags every engine-running command shares.
type common struct {
	data         string
	listen       string
	bootstrap    string
	loopbackOnly bool
	allowNet     string
	portMapping  string
	logLevel     string
	maxUp        string
	maxDown      string
	encryption   string
	downloadDir  string
	utp          string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", defaultDataDir(), "folder for all state")
	fs.StringVar(&c.listen, "listen", "", "HOST:PORT for peers (TCP), the DHT (UDP) and search; :PORT (the default) = IPv4 and IPv6; port 0 = any free")
	fs.StringVar(&c.bootstrap, "bootstrap", "", "DHT bootstrap nodes HOST:PORT,... (default: the public routers; none = none)")
	fs.BoolVar(&c.loopbackOnly, "loopback-only", false, "refuse every non-loopback address (tests, demo); same as --allow-net 127.0.0.0/8,::1/128")
	fs.StringVar(&c.allowNet, "allow-net", "", "talk only to these networks CIDR,... (e.g. a lab's 203.0.113.0/24); empty = all")
	fs.StringVar(&c.portMapping, "port-mapping", "", "open the listen port on the router by UPnP/NAT-PMP: on or off (default on, off with --loopback-only)")
	fs.StringVar(&c.logLevel, "log-level", "warn", "debug, info, warn or error")
	fs.StringVar(&c.maxUp, "max-up", "", "global upload limit per second, e.g. 25MB, 512KiB (empty = saved setting)")
	fs.StringVar(&c.maxDown, "max-down", "", "global download limit per second (empty = saved setting)")
	fs.StringVar(&c.downloadDir, "download-dir", "", "where downloads go this run (default: the folder chosen in Settings, else your Downloads folder)")
	fs.StringVar(&c.encryption, "encryption", "", "peer connection encryption (MSE/PE): prefer, require or off (empty = saved setting, prefer at first)")
	fs.StringVar(&c.utp, "utp", "", "uTP (BEP 29) beside TCP for peers: on or off (empty = saved setting, on at first; only = uTP alone, for tests)")
}

// config turns the common flags into an engine configuration.
func (c *common) config(stderr io.Writer) (engine.Config, error) {
	cfg := engine.Config{DataDir: c.data, Listen: c.listen, LoopbackOnly: c.loopbackOnly}
	switch strings.TrimSpace(c.bootstrap) {
	case "":
	case "none":
		cfg.Bootstrap = []string{}
	default:
		for _, b := range strings.Split(c.bootstrap, ",") {
			cfg.Bootstrap = append(cfg.Bootstrap, strings.TrimSpace(b))
		}
	}
	var err error
	if cfg.AllowNet, err = parseNetworks(c.allowNet); err != nil {
		return cfg, fmt.Errorf("--allow-net: %w", err)
	}
	switch c.portMapping {
	case "", "on", "off":
		cfg.PortMapping = c.portMapping
	default:
		return cfg, fmt.Errorf("--port-mapping: want on or off, not %q", c.portMapping)
	}
	if c.downloadDir != "" {
		if cfg.DownloadDir, err = filepath.Abs(c.downloadDir); err != nil {
			return cfg, fmt.Errorf("--download-dir: %w", err)
		}
	}
	// Tests, benchmarks and the demo run with a restricted address policy:
	// they keep downloads in their data folder, never the user's.
	if !c.loopbackOnly && len(cfg.AllowNet) == 0 {
		cfg.DefaultDownloadDir = userDownloadDir()
	}
	if cfg.UploadLimit, err = parseRate(c.maxUp); err != nil {
		return cfg, fmt.Errorf("--max-up: %w", err)
	}
	if cfg.DownloadLimit, err = parseRate(c.maxDown); err != nil {
		return cfg, fmt.Errorf("--max-down: %w", err)
	}
	if _, err := engine.ParseEncryption(c.encryption); err != nil {
		return cfg, fmt.Errorf("--encryption %q: choose prefer (offer encryption, accept plain peers), require (encrypted peers only) or off", c.encryption)
	}
	cfg.Encryption = engine.Encryption(c.encryption) // "" keeps the saved setting
	if _, err := engine.ParseUTPMode(c.utp); err != nil {
		return cfg, fmt.Errorf("--utp %q: choose on or off", c.utp)
	}
	cfg.UTP = engine.UTPMode(c.utp) // "" keeps the saved setting
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return cfg, nil
}

// parseNetworks reads a comma-separated list of CIDR networks.
func parseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network like 203.0.113.0/24", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// newFlagSet is a subcommand's flag set: its errors and usage go to
// stderr, and a bad flag is returned as an error, not an exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func defaultDataDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".shoal"
	}
	return filepath.Join(dir, "shoal")
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// startEngine opens an engine and runs it in the background, with its
// control socket; stop cancels it and waits until its state is saved.
func startEngine(ctx context.Context, cfg engine.Config) (*engine.Engine, func(), error) {
	e, _, stop, err := startInstance(ctx, cfg)
	return e, stop, err
}

// startInstance is startEngine that also returns the control server (nil
// when the socket could not be made, which is logged and not fatal). The
// server stops before the engine, so the socket file is removed while the
// data-folder lock is still held.
func startInstance(ctx context.Context, cfg engine.Config) (*engine.Engine, *control.Server, func(), error) {
	e, err := engine.Open(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if msg := e.Recovered(); msg != "" {
		fmt.Fprintln(os.Stderr, "shoal:", msg)
	}
	ctx, cancel := context.WithCancel(ctx)
	engCtx, engCancel := context.WithCancel(context.WithoutCancel(ctx))
	srv, err := control.Listen(cfg.DataDir, e, log)
	ctlDone := make(chan struct{})
	if err != nil {
		log.Warn("no control socket: shoal status and shoal add cannot reach this instance", "err", err)
		srv = nil
		close(ctlDone)
	} else {
		go func() {
			defer close(ctlDone)
			if err := srv.Run(ctx); err != nil {
				log.Error("control socket stopped", "err", err)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		<-ctlDone
		engCancel()
	}()
	go e.Run(engCtx)
	stop := func() {
		cancel()
		<-ctlDone
		<-e.Stopped()
	}
	return e, srv, stop, nil
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// parseRate reads a byte rate: plain bytes, decimal units (KB, MB, GB) or
// binary ones (K, M, G, KiB, MiB, GiB); an optional "/s" is ignored.
func parseRate(s string) (int64, error) {
	n, err := units.ParseRate(s)
	if err != nil {
		return 0, fmt.Errorf("bad rate %q: %w", s, err)
	}
	return n, nil
}
