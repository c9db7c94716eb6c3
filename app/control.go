package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/engine/words"
)

// controlTimeout bounds one request to a running instance.
const controlTimeout = 30 * time.Second

// notRunning is the people message for a data folder nobody serves.
func notRunning(dir string) error {
	return fmt.Errorf("No Shoal is running with data folder %s. Start it with `shoal` or `shoal daemon`.", dir)
}

// callErr turns ErrNotRunning and a timeout into messages for people.
func callErr(dir string, err error) error {
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return notRunning(dir)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("The Shoal running with data folder %s did not answer within %v. It may be busy or stuck; try again, or quit and restart it.", dir, controlTimeout)
	}
	return err
}

// runStatus asks the running instance for its state.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	data := fs.String("data", defaultDataDir(), "data folder of the instance to ask")
	asJSON := fs.Bool("json", false, "print the whole state as one JSON object")
	checkReach := fs.Bool("check-reach", false, "first test whether the Internet can reach this computer (a supernode dials it back; up to about 20 s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("status: takes no arguments")
	}
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	get := control.GetStatus
	if *checkReach {
		if !*asJSON {
			fmt.Fprintln(stdout, "Testing whether the Internet can reach this computer…")
		}
		get = control.CheckReach
	}
	st, err := get(ctx, *data)
	if err != nil {
		return callErr(*data, err)
	}
	if *asJSON {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	printStatus(stdout, st)
	if *checkReach {
		fmt.Fprintln(stdout, reachWords(st.Network))
	}
	return nil
}

// reachWords sums up a reachability test for people: what it found and
// what to do.
func reachWords(n control.Network) string {
	switch n.Reachable {
	case "yes":
		return "Result: other computers can connect to this one, so it can upload to anyone and serve as a supernode."
	case "no":
		port := "Shoal's port"
		if _, p, err := net.SplitHostPort(n.PeerAddr); err == nil {
			port = "port " + p
		}
		return "Result: other computers cannot connect to this one. Downloads still work, but it uploads only to peers it connects to itself. " +
			"Turn on UPnP or NAT-PMP in your router, or forward " + port + " (TCP and UDP) to this computer, then test again."
	}
	return "Result: not known yet: no supernode could test this computer. Shoal keeps looking; test again in a minute."
}

// runAdd hands links to the running instance.
func runAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("add", stderr)
	data := fs.String("data", defaultDataDir(), "data folder of the instance to hand the links to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("add: want a MAGNET, FILE.torrent or INFOHASH")
	}
	return handOver(ctx, *data, fs.Args(), stdout)
}

// handOver adds each link to the instance serving dir, printing the
// infohashes it started. It stops at the first refusal.
func handOver(ctx context.Context, dir string, links []string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	for _, link := range links {
		ih, err := control.Add(ctx, dir, link)
		if err != nil {
			return callErr(dir, err)
		}
		fmt.Fprintln(stdout, ih)
	}
	return nil
}

// isLink reports whether a command-line word is something to download
// (what a browser or file manager passes through the desktop file) rather
// than a command.
func isLink(arg string) bool {
	lower := strings.ToLower(arg)
	if strings.HasPrefix(lower, "magnet:") || strings.HasPrefix(lower, "file://") || strings.HasSuffix(lower, ".torrent") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}

// printStatus writes a short table for people.
func printStatus(w io.Writer, st control.Status) {
	n := st.Network
	fmt.Fprintf(w, "Shoal (process %d), data folder %s\n", st.PID, st.DataDir)
	fmt.Fprintf(w, "Ratio %s: %s up, %s down all time\n", ratioText(st.Ratio.Value), sizeText(st.Ratio.Uploaded), sizeText(st.Ratio.Downloaded))
	fmt.Fprintf(w, "Network: %s, supernode %s, %d DHT nodes, %d peers, reachable %s, external address %s, port mapping %s\n",
		n.Role, n.SupernodeLink, n.DHTNodes, n.Peers, n.Reachable, orDash(n.ExternalAddr), n.PortMapping)
	if n.How != "" {
		fmt.Fprintf(w, "  Reachability: %s\n", n.How)
	}
	if n.ExternalAddrFrom != "" {
		fmt.Fprintf(w, "  External address from %s\n", n.ExternalAddrFrom)
	}
	if n.PortMappingErr != "" {
		fmt.Fprintf(w, "  %s\n", n.PortMappingErr)
	}
	if len(st.Transfers) == 0 {
		fmt.Fprintln(w, "No transfers.")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nNAME\tSTATE\tDONE\tSIZE\tDOWN/s\tUP/s\tPEERS\tINFOHASH")
	for _, t := range st.Transfers {
		state := t.State
		if t.Queued > 0 {
			state = fmt.Sprintf("%s %d", t.State, t.Queued)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%s\t%s\t%s\t%d\t%s\n", words.Clip(orDash(t.Name), 40), state, 100*t.Progress,
			sizeText(t.Size), sizeText(int64(t.DownRate)), sizeText(int64(t.UpRate)), t.Peers, t.InfoHash)
	}
	tw.Flush()
	for _, t := range st.Transfers {
		if m := t.NotMoved; m != nil {
			fmt.Fprintf(w, "%s could not move to %s, because %s. It seeds on from %s; "+
				"choose another folder for finished downloads, or move it by hand in the app.\n", orDash(t.Name), m.To, m.Why, t.SavePath)
		}
	}
}

func ratioText(v float64) string {
	if v < 0 {
		return "∞"
	}
	return fmt.Sprintf("%.2f", v)
}

// sizeText prints bytes in binary units (KiB, MiB, ...).
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
