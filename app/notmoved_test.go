package main

import (
	"strings"
	"testing"

	"github.com/shoalp2p/shoal/engine/control"
)

// TestPrintStatusNotMoved: `shoal status` says which finished download
// could not move, where to, why, where it seeds from and what to do.
func TestPrintStatusNotMoved(t *testing.T) {
	var b strings.Builder
	printStatus(&b, control.Status{Transfers: []control.Transfer{
		{Name: "Tape 3.wav", State: "seeding", SavePath: "/home/u/Downloads",
			NotMoved: &control.NotMoved{To: "/srv/done", Why: "a file of that name is in the way"}},
		{Name: "Other.iso", State: "seeding", SavePath: "/srv/done"},
	}})
	out := b.String()
	want := "Tape 3.wav could not move to /srv/done, because a file of that name is in the way. It seeds on from /home/u/Downloads"
	if !strings.Contains(out, want) || strings.Contains(out, "Other.iso could not") {
		t.Fatalf("status:\n%s\nwant a line with %q for Tape 3.wav only", out, want)
	}
}
