package main

import (
	"context"
	"flag"
	"io"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"

	"github.com/shoalp2p/shoal/assets"
	"github.com/shoalp2p/shoal/engine"
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
	e, stop, err := startEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	showWindow(ctx, e)
	return nil
}

// showWindow runs the desktop app on the main goroutine until the window
// closes or ctx ends (Ctrl-C).
func showWindow(ctx context.Context, e *engine.Engine) {
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	u := ui.New(a, e)
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
