// Command shoal is Shoal's single binary: the desktop app (default), a
// headless daemon, and CLI verbs for scripts (get, search, create, demo).
// Every verb runs the same engine (package engine); main.go only parses
// flags, wires the parts together and owns their lifecycles, and each verb
// has a file of its own (get.go, search.go, create.go, daemon.go, gui.go…).
// The app imports ui, engine and assets; nothing imports it.
package main
