package ui

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

var bytesCases = []struct {
	n    int64
	want string
}{
	{-5, "0 B"},
	{0, "0 B"},
	{1023, "1023 B"},
	{1024, "1.00 KiB"},
	{1536, "1.50 KiB"},
	{10 * 1024, "10.0 KiB"},
	{153 * 1024, "153 KiB"},
	{6 << 30, "6.00 GiB"},
	{math.MaxInt64, "8.00 EiB"},
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	for _, c := range bytesCases {
		if got := humanBytes(c.n); got != c.want {
			t.Errorf("humanBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestHumanRate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		bps  float64
		want string
	}{
		{0, ""}, {0.5, ""}, {math.NaN(), ""}, {math.Inf(1), ""}, {-3, ""},
		{1, "1 B/s"}, {1023, "1023 B/s"}, {2.5 * 1024 * 1024, "2.50 MiB/s"},
	}
	for _, c := range cases {
		if got := humanRate(c.bps); got != c.want {
			t.Errorf("humanRate(%v) = %q, want %q", c.bps, got, c.want)
		}
	}
	if got := statusRate(0); got != "0 B/s" {
		t.Errorf("statusRate(0) = %q", got)
	}
}

var etaCases = []struct {
	d    time.Duration
	want string
}{
	{0, "∞"}, {-time.Second, "∞"}, {maxETA, "∞"},
	{400 * time.Millisecond, "0s"}, {45 * time.Second, "45s"},
	{3*time.Minute + 12*time.Second, "3m 12s"}, {2*time.Hour + 5*time.Minute, "2h 05m"},
	{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d 04h"},
}

func TestFormatETA(t *testing.T) {
	t.Parallel()
	for _, c := range etaCases {
		if got := formatETA(c.d); got != c.want {
			t.Errorf("formatETA(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// FuzzFormatETA checks that every ETA is "∞" or one or two number+unit
// parts, largest unit first.
func FuzzFormatETA(f *testing.F) {
	for _, c := range etaCases {
		f.Add(int64(c.d))
	}
	f.Fuzz(func(t *testing.T, d int64) {
		s := formatETA(time.Duration(d))
		if s == "∞" {
			if d > 0 && time.Duration(d) < maxETA {
				t.Fatalf("%v shows as ∞", time.Duration(d))
			}
			return
		}
		parts := strings.Fields(s)
		if len(parts) == 0 || len(parts) > 2 {
			t.Fatalf("%v shows as %q", time.Duration(d), s)
		}
		order := "dhms"
		last := -1
		for _, p := range parts {
			u := strings.IndexByte(order, p[len(p)-1])
			if _, err := strconv.Atoi(p[:len(p)-1]); err != nil || u <= last {
				t.Fatalf("%v shows as %q", time.Duration(d), s)
			}
			last = u
		}
	})
}

func TestFormatRatioAndStates(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0.00", 1.5: "1.50", 0.125: "0.12", math.Inf(1): "∞", math.NaN(): "0.00"} {
		if got := formatRatio(v); got != want {
			t.Errorf("formatRatio(%v) = %q, want %q", v, got, want)
		}
	}
	states := []struct {
		t    engine.TransferSnapshot
		want string
	}{
		{engine.TransferSnapshot{State: engine.StateDownloading, Peers: 2}, "Downloading"},
		{engine.TransferSnapshot{State: engine.StateDownloading}, "Stalled"},
		{engine.TransferSnapshot{State: engine.StateError, Err: "disk full"}, "Error: disk full"},
		{engine.TransferSnapshot{State: engine.StateFetchingMetadata}, "Getting metadata"},
		{engine.TransferSnapshot{State: "odd"}, "odd"},
	}
	for _, c := range states {
		if got := stateText(c.t); got != c.want {
			t.Errorf("stateText(%s) = %q, want %q", c.t.State, got, c.want)
		}
	}
	if got := transferETA(engine.TransferSnapshot{State: engine.StateSeeding, ETA: time.Minute}); got != "" {
		t.Errorf("a seeding transfer shows ETA %q", got)
	}
}

func TestSwarmText(t *testing.T) {
	for _, tc := range []struct {
		connected, swarm int
		want             string
	}{{3, 120, "3 (120)"}, {0, 0, "0 (0)"}, {4, -1, "4"}} {
		if got := swarmText(tc.connected, tc.swarm); got != tc.want {
			t.Errorf("swarmText(%d, %d) = %q, want %q", tc.connected, tc.swarm, got, tc.want)
		}
	}
}
