// Command shoal is Shoal's single binary: the desktop app (default), a
// headless daemon, and CLI verbs for scripts (get, search, create, ratio,
// demo, and status and add, which talk to the instance already running on
// the data folder through its control socket, package engine/control).
// The verbs that run an engine run the same one (package engine); main.go
// only parses flags, wires the parts together and owns their lifecycles,
// and each verb has a file of its own (get.go, search.go, create.go,
// ratio.go, control.go, daemon.go, gui.go…).
// The app imports ui, engine and assets; nothing imports it.
package main
