// Package ui is Shoal's desktop front end, built with Fyne v2.7.
//
// It shows the engine's keyword search (Shoal's supernode overlay, no BEP),
// the BitTorrent transfers (BEP 3; magnet links and metadata exchange, BEP 9),
// the shared library and the share ratio, one file per tab.
//
// The UI pulls: every 250 ms (every second once eight snapshots in a row
// changed nothing shown, until something changes or the user acts; every
// 2 s while the window is out of the foreground) it takes an
// engine.Snapshot and applies it on the Fyne goroutine with fyne.Do.
// Refresh diffs it against cached per-row strings so an unchanged swarm
// costs almost nothing, and a widget of a hidden tab that changes on its
// own (the rate graph) redraws only once its tab is shown: any widget
// refresh repaints the whole window, which with a software renderer is
// most of an idle GUI's cost.
//
// An idle window also parks Fyne's own loop, which would otherwise poll
// for input and check for redraws 60 times a second (idlewait.go): it
// waits on the X connection (GLFWWaiter) until input arrives, the UI hands
// over work (UI.do wakes it) or half a second passes.
//
// The first frame: only the tab shown is built into the window before it
// (lazyTab; the others go in when first shown), since Fyne measures every
// tab's content for the window's minimum size, and the app opens the
// engine while Fyne starts its driver and loads the fonts (NewIn takes
// the window it made). Unwatched, at load 1 under Xvfb and llvmpipe, the
// window is built about 0.17 s after exec and its first frame drawn about
// 0.5 s later (--log-level debug logs the steps): that is Fyne's Show,
// creating the GL context, compiling its shaders, and the first paint, in
// which llvmpipe compiles code for each kind of object on its first draw;
// a Fyne window holding one button pays most of it too. Mesa's shader
// cache (~/.cache/mesa_shader_cache) makes a second start faster than the
// first, which is what the bench measures.
//
// Invariants: widgets change only on the Fyne goroutine (through fyne.Do
// from any other); engine calls run off it, and their errors end in a
// dialog worded for people. The package depends only on the engine's
// public value types, through the Engine interface, so tests drive it with
// a real engine or a plain value; nothing outside ui/ imports Fyne.
package ui
