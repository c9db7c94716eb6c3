package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

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
	e, srv, stop, err := startInstance(ctx, cfg)
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
	showWindow(ctx, e, srv, links)
	return nil
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
func showWindow(ctx context.Context, e *engine.Engine, srv *control.Server, links []string) {
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	u := ui.New(a, e)
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
	a.Lifecycle().SetOnStarted(startIdleProfile)
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
	u.Window().ShowAndRun()
}
