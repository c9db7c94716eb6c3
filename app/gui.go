package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"

	"github.com/shoalp2p/shoal/assets"
	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/internal/trayhost"
	"github.com/shoalp2p/shoal/ui"
)

// appID matches FyneApp.toml.
const appID = "io.github.shoalp2p.shoal"

func runGUI(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("gui", stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := c.config(stderr)
	if err != nil {
		return err
	}
	links := fs.Args()
	if handed, _, err := toRunning(ctx, c.data, links); handed {
		return err
	}
	clock := startupClock{log: cfg.Logger}
	a, win, in := openGUI(ctx, cfg, clock)
	e, srv, stop, err := in.e, in.srv, in.stop, in.err
	if errors.Is(err, engine.ErrDataDirInUse) {
		// Another start won the folder a moment ago (a browser opening two
		// links at once): hand over to it once its socket is up.
		if handed, herr := awaitRunning(ctx, c.data, links); handed {
			return herr
		}
	}
	if err != nil {
		return err
	}
	defer stop()
	showWindow(ctx, a, win, e, srv, links, clock)
	return nil
}

// loadFonts loads the faces the first frame draws with: the theme's
// regular text and its bold (buttons, table headers). Fyne loads a face on
// first use and keeps it; doing it here lets it run beside the driver's
// start on the main goroutine. Safe from any goroutine: Fyne's font
// caches are synchronised.
func loadFonts() {
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		fyne.MeasureText("Shoal", theme.TextSize(), style)
	}
}

// openGUI opens the engine (SQLite, the library, the sockets) while Fyne
// starts its driver (the first window, not yet shown) and loads the fonts
// the first frame needs, each on its own goroutine: all three have to be
// done before the window can be built with the engine's state, and none
// needs the others. Nothing shows yet, so a start that fails (the folder
// held by another Shoal, a database that cannot be opened) ends as before,
// with its one line and no window flashing up.
func openGUI(ctx context.Context, cfg engine.Config, clock startupClock) (fyne.App, fyne.Window, instance) {
	opened := make(chan instance, 1)
	go func() {
		var in instance
		in.e, in.srv, in.stop, in.err = startInstance(ctx, cfg)
		opened <- in
	}()
	a := fyneapp.NewWithID(appID)
	fonts := make(chan struct{})
	go func() {
		defer close(fonts)
		loadFonts()
	}()
	win := a.NewWindow("Shoal") // starts the driver (GLFW)
	<-fonts
	clock.mark("fyne, window and fonts ready")
	in := <-opened
	clock.mark("engine open")
	return a, win, in
}

// instance is what startInstance returns, handed over from the goroutine
// that opens the engine.
type instance struct {
	e    *engine.Engine
	srv  *control.Server
	stop func()
	err  error
}

// started is about when the process started: the main package's
// initialisation, after the runtime's and the libraries' (a few ms; see
// GODEBUG=inittrace=1).
var started = time.Now()

// startupClock logs, at debug level (--log-level debug), how long after
// the start each step of the GUI's start finished: where the time to the
// first frame goes.
type startupClock struct {
	log *slog.Logger
}

func (c startupClock) mark(step string) {
	if c.log != nil {
		c.log.Debug("startup", "step", step, "after", time.Since(started).Round(100*time.Microsecond))
	}
}

// toRunning hands a second start's links to the instance already serving
// dir and raises its window. handed false means this start must go on:
// nobody answered, or the instance (a daemon) has no window and there was
// nothing to add; answered tells the two apart.
func toRunning(ctx context.Context, dir string, links []string) (handed, answered bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	for i, link := range links {
		if _, err := control.Add(ctx, dir, link); err != nil {
			if i == 0 && errors.Is(err, control.ErrNotRunning) {
				return false, false, nil
			}
			return true, true, callErr(dir, err)
		}
	}
	shown, err := control.Show(ctx, dir)
	if len(links) > 0 {
		return true, true, nil
	}
	return err == nil && shown, err == nil, nil
}

// awaitRunning retries toRunning for a while, for an instance that holds
// the folder but may not serve its socket yet.
func awaitRunning(ctx context.Context, dir string, links []string) (handed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		handed, answered, err := toRunning(ctx, dir, links)
		if handed || answered {
			return handed, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// showWindow runs the desktop app on the main goroutine until the window
// closes or ctx ends (Ctrl-C).
// Links (from the command line) are added once the window is built; srv,
// when not nil, raises the window at a second start's request.
func showWindow(ctx context.Context, a fyne.App, win fyne.Window, e *engine.Engine, srv *control.Server, links []string, clock startupClock) {
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	tab := os.Getenv("SHOAL_GUI_TAB")
	if tab == "" && len(links) > 0 {
		tab = "transfers" // where Add shows them
	}
	u := ui.NewIn(a, win, e, tab)
	u.SetEventWaiter(ui.GLFWWaiter())
	if trayhost.Available() {
		u.EnableTray(fyne.NewStaticResource("tray.png", assets.IconPNG))
	}
	if srv != nil {
		srv.OnShow(func() bool { u.Do(u.Raise); return true })
	}
	for _, link := range links {
		if abs, err := control.ResolveLink(link); err == nil {
			link = abs
		}
		u.Add(link)
	}
	if tab := os.Getenv("SHOAL_GUI_TAB"); tab != "" && !u.ShowTab(tab) {
		fmt.Fprintf(os.Stderr, "shoal: SHOAL_GUI_TAB=%s: no such tab\n", tab)
	}
	// Show paints the first frame before the loop starts.
	a.Lifecycle().SetOnStarted(func() { clock.mark("first frame"); startIdleProfile() })
	a.Lifecycle().SetOnEnteredForeground(func() { u.SetForeground(true) })
	a.Lifecycle().SetOnExitedForeground(func() { u.SetForeground(false) })
	uiCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.Start(uiCtx)
	if msg := e.Recovered(); msg != "" {
		dialog.ShowInformation("Shoal repaired its database", msg, u.Window())
	}
	go func() {
		<-uiCtx.Done()
		u.Do(u.Quit) // not a.Quit: see ui.UI.Quit
	}()
	clock.mark("window built")
	u.Window().ShowAndRun()
}
