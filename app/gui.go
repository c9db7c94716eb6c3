package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"github.com/shoalp2p/shoal/assets"
	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/ui"
)

// appID matches FyneApp.toml.
const appID = "io.github.shoalp2p.shoal"

func runGUI(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gui", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	if handed, err := toRunning(ctx, c.data, links); handed {
		return err
	}
	e, srv, stop, err := startInstance(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	showWindow(ctx, e, srv, links)
	return nil
}

// toRunning hands a second start's links to the instance already serving
// dir and raises its window; handed false means no instance answered (or
// it has no window and nothing was to be added), so this start goes on.
func toRunning(ctx context.Context, dir string, links []string) (handed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	for i, link := range links {
		if _, err := control.Add(ctx, dir, link); err != nil {
			if i == 0 && errors.Is(err, control.ErrNotRunning) {
				return false, nil
			}
			return true, callErr(dir, err)
		}
	}
	shown, err := control.Show(ctx, dir)
	return len(links) > 0 || (err == nil && shown), nil
}

// showWindow runs the desktop app on the main goroutine until the window
// closes or ctx ends (Ctrl-C).
// Links (from the command line) are added once the window is built; srv,
// when not nil, raises the window at a second start's request.
func showWindow(ctx context.Context, e *engine.Engine, srv *control.Server, links []string) {
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	u := ui.New(a, e)
	if srv != nil {
		srv.OnShow(func() bool { fyne.Do(u.Raise); return true })
	}
	for _, link := range links {
		if abs, err := control.ResolveLink(link); err == nil {
			link = abs
		}
		u.Add(link)
	}
	uiCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.Start(uiCtx)
	if msg := e.Recovered(); msg != "" {
		dialog.ShowInformation("Shoal repaired its database", msg, u.Window())
	}
	go func() {
		<-uiCtx.Done()
		fyne.Do(a.Quit)
	}()
	u.Window().ShowAndRun()
}
