# Shoal — set-up and checks. Every target installs what it needs when it is
# missing (Debian packages with apt-get, Go modules with go mod download) and
# is quiet when everything is already there.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
# no_emoji leaves Fyne's 4 MB colour emoji font out: parsed for every text
# style, it cost an idle window 10 MiB of RSS. Emoji in names then come from
# the system's fonts, like the symbols (∞, ≤) Fyne's own fonts lack.
export GOFLAGS := -tags=sqlite_fts5,no_emoji
GO ?= go
BIN := ./shoal

# GL/X11 headers for Fyne, Xvfb for window tests, real peer clients for interop,
# a real router (miniupnpd, iptables) for the network-namespace lab (internal/netlab).
APT_PKGS := x11-apps gcc pkg-config libgl1-mesa-dev xorg-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth \
	transmission-cli transmission-daemon aria2 qbittorrent-nox mktorrent opentracker \
	miniupnpd-iptables miniupnpd miniupnpc natpmpc iptables iproute2 \
	python3-libtorrent xdg-utils desktop-file-utils dbus appstream dunst
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build screenshots test test-go test-ui bench demo run fuzz clean install install-desktop uninstall locks package

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./app

# The whole suite: vet, every package's tests (engine, internal and ui under
# the race detector), the real-window screenshot under Xvfb, and a short run of
# every fuzz target's seed corpus (the seeds run as part of go test).
test: deps
	$(GO) vet ./...
	SHOAL_REQUIRE_PEERS=1 $(GO) test -race -count=1 -timeout 20m ./engine/... ./internal/...
	$(GO) test -count=1 -timeout 15m ./app/... ./assets/...
	$(GO) test -race -count=1 -timeout 15m ./ui/...
	SHOAL_BENCH=smoke $(GO) test -run '^(TestBenchTable|TestBenchIdleLibrary)$$' -count=1 ./app/
	$(MAKE) --no-print-directory screenshots

# The real-window tests under Xvfb (every ui test named *Xvfb), on a private
# D-Bus session bus: screenshots of every tab into .tmp/screenshots (the
# default window, and 800×600 and 1600×1000 as shoal-<tab>-<W>x<H>.png), a
# notification reaching a real notification daemon (dunst), and real XDND
# drops on the window (a .torrent opens, another file is shared).
screenshots: deps
	mkdir -p .tmp/screenshots
	set -o pipefail; SHOAL_XVFB=1 SHOAL_SCREENSHOT_DIR=$(CURDIR)/.tmp/screenshots dbus-run-session -- \
		xvfb-run -a -s "-screen 0 1920x1200x24" \
		$(GO) test -count=1 -run 'Xvfb$$' -v ./ui/ | tail -20
	@ls -l .tmp/screenshots

# Fuzz every decoder for FUZZTIME each (default 15s).
FUZZTIME ?= 15s
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
			echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# The harness is internal/bench; app/bench_test.go holds the entry points,
# which pass in the shoal binary and engine/enginebench's in-process rows
# (internal/ may not import engine or app).
# One table, every row measured in this run (internal/bench/table.go): Shoal beside
# aria2, qBittorrent and Transmission on loopback, SHA-1 as the machine's
# limit, capped seeders, a capped swarm and a free-rider. BENCH_SIZE (1GiB),
# BENCH_RUNS (5), BENCH_SWARM_SIZE (64MiB), BENCH_FREERIDER_SIZE (32MiB).
# Then the idle library (internal/bench/idle.go): 1,000 and 10,000 small
# torrents restarted and left idle, Shoal beside Transmission:
# BENCH_IDLE_SIZES (1000,10000), BENCH_IDLE_SECS (60).
# The DHT index at 100,000 and 1,000,000 synthetic torrents
# (engine/overlay/dht_bench_test.go): insert rate, bytes per torrent, FTS
# query p50/p95 (target p95 <= 50 ms at 1,000,000).
bench: deps
	mkdir -p .tmp
	set -o pipefail; SHOAL_BENCH=1 $(GO) test -run '^TestBenchTable$$' -v -count=1 -timeout 90m ./app/ | tee .tmp/bench.txt
	set -o pipefail; SHOAL_BENCH=1 $(GO) test -run '^TestBenchIdleLibrary$$' -v -count=1 -timeout 90m ./app/ | tee .tmp/bench-idle.txt
	set -o pipefail; SHOAL_BENCH=1 $(GO) test -run '^TestBenchDHTSim$$' -v -count=1 -timeout 40m ./app/ | tee .tmp/bench-dhtsim.txt
	set -o pipefail; SHOAL_SIM=1 $(GO) test -run '^TestSimScale$$' -v -count=1 -timeout 60m ./engine/overlay/sim/ | tee .tmp/sim.txt
	set -o pipefail; SHOAL_SIM=1 SHOAL_SIM_NODES=3000 SHOAL_SIM_LOAD=2 $(GO) test -run '^TestSimScale$$' -v -count=1 -timeout 60m ./engine/overlay/sim/ | tee .tmp/sim-loaded.txt
	set -o pipefail; SHOAL_BENCH=1 $(GO) test -run='^$$' -bench='^BenchmarkDHTIndexScale$$' -benchtime=3x -count=1 -timeout 60m ./engine/overlay/ | tee .tmp/bench-dhtindex.txt
	$(GO) test -run='^$$' -bench=. -benchtime=3x -count=1 ./engine/...

# Install for the current user: the binary in ~/.local/bin, the desktop file,
# icon and AppStream metadata in ~/.local/share (XDG_DATA_HOME), and Shoal as the handler of
# magnet links and .torrent files (xdg-mime, in XDG_CONFIG_HOME). The desktop
# file names the installed binary by its full path, so it works even where
# ~/.local/bin is not on the PATH of the desktop session.
PREFIX ?= $(HOME)/.local
BINDIR ?= $(PREFIX)/bin
XDG_DATA_HOME ?= $(HOME)/.local/share
APPS_DIR := $(XDG_DATA_HOME)/applications
ICON_DIR := $(XDG_DATA_HOME)/icons/hicolor/256x256/apps
METAINFO_DIR := $(XDG_DATA_HOME)/metainfo
APP_ID := io.github.shoalp2p.shoal
install: build install-desktop
	install -D -m 755 $(BIN) $(BINDIR)/shoal

# The desktop part alone (also what the xdg-open test runs, with a
# temporary HOME); needs only the files in assets/.
install-desktop:
	@command -v xdg-mime >/dev/null || { echo "xdg-mime missing: make deps installs xdg-utils"; exit 1; }
	install -d $(APPS_DIR) $(ICON_DIR)
	sed -e 's|^Exec=shoal |Exec=$(BINDIR)/shoal |' -e 's|^TryExec=shoal$$|TryExec=$(BINDIR)/shoal|' \
		assets/shoal.desktop > $(APPS_DIR)/$(APP_ID).desktop
	chmod 644 $(APPS_DIR)/$(APP_ID).desktop
	! command -v desktop-file-validate >/dev/null || desktop-file-validate $(APPS_DIR)/$(APP_ID).desktop
	install -m 644 assets/icon.png $(ICON_DIR)/$(APP_ID).png
	install -D -m 644 assets/$(APP_ID).metainfo.xml $(METAINFO_DIR)/$(APP_ID).metainfo.xml
	! command -v update-desktop-database >/dev/null || update-desktop-database -q $(APPS_DIR)
	xdg-mime default $(APP_ID).desktop x-scheme-handler/magnet application/x-bittorrent

# A Linux desktop bundle, .tmp/package/shoal-linux-ARCH.tar.xz, made by
# `fyne package` (fyne.io/tools, installed into .tmp/tools on first use)
# from FyneApp.toml (name, app ID, version, icon assets/icon.png) and the
# binary `make build` made. fyne package reads FyneApp.toml only beside Go
# code, so it runs in a staging folder holding FyneApp.toml, the icon and a
# link to app/main.go. Its desktop file is then replaced by
# assets/shoal.desktop: Fyne's has no MimeType, or with one Exec=shoal %F,
# which passes files only, and magnet links are URLs (Exec=shoal %U). The
# AppStream metadata is added; the bundle's own Makefile installs it
# (make user-install, or make install as root).
FYNE_TOOLS := fyne.io/tools/cmd/fyne@v1.7.4
FYNE := $(CURDIR)/.tmp/tools/fyne
PKG_DIR := $(CURDIR)/.tmp/package
package: build
	@test -x $(FYNE) || GOBIN=$(CURDIR)/.tmp/tools $(GO) install $(FYNE_TOOLS)
	rm -rf $(PKG_DIR) && mkdir -p $(PKG_DIR)/src/assets
	cp FyneApp.toml $(PKG_DIR)/src/ && cp assets/icon.png $(PKG_DIR)/src/assets/
	ln -s $(CURDIR)/app/main.go $(PKG_DIR)/src/main.go
	cd $(PKG_DIR)/src && $(FYNE) package --os linux --exe $(abspath $(BIN)) --release
	tar -C $(PKG_DIR) -xJf $(PKG_DIR)/src/Shoal.tar.xz
	desk=$$(find $(PKG_DIR)/shoal -name '$(APP_ID).desktop'); share=$$(dirname $$(dirname $$desk)); \
	test -f $$share/pixmaps/$(APP_ID).png; \
	install -m 644 assets/shoal.desktop $$desk; \
	install -D -m 644 assets/$(APP_ID).metainfo.xml $$share/metainfo/$(APP_ID).metainfo.xml; \
	desktop-file-validate $$desk; \
	grep -qx 'Exec=shoal %U' $$desk; \
	grep -qx 'Icon=$(APP_ID)' $$desk; \
	grep -qx 'MimeType=x-scheme-handler/magnet;application/x-bittorrent;' $$desk
	tar -C $(PKG_DIR) -cJf $(PKG_DIR)/shoal-linux-$$($(GO) env GOARCH).tar.xz shoal
	@tar -tJvf $(PKG_DIR)/shoal-linux-$$($(GO) env GOARCH).tar.xz

uninstall:
	rm -f $(BINDIR)/shoal $(APPS_DIR)/$(APP_ID).desktop $(ICON_DIR)/$(APP_ID).png $(METAINFO_DIR)/$(APP_ID).metainfo.xml
	! command -v update-desktop-database >/dev/null || update-desktop-database -q $(APPS_DIR)
# The engine's tests with go-deadlock in place of sync.Mutex for the owners'
# locks (internal/locks): any two locks taken in both orders fail the run.
locks: deps
	$(GO) test -tags 'sqlite_fts5 deadlock' -count=1 -timeout 30m ./engine/ ./engine/swarm/ ./engine/overlay/

demo: build
	$(BIN) demo

run: build
	$(BIN) gui

clean:
	rm -rf $(BIN) .tmp
