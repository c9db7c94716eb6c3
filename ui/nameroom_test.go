package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// TestNameRoomAt800: in an 800 px window the Transfers table's Name column
// gets at least 35 % of the table's width, as drawn: Ratio, Seeds and
// Peers give way, and the line above the selected transfer's peers spells
// out its full name and what those columns would show. At 1600 px every
// column is back and the line holds only the name.
func TestNameRoomAt800(t *testing.T) {
	u, _ := newTestUI(t)
	s := demoSnapshot(time.Now())
	long := "A very long name of a download that no narrow column can hold in full.mkv"
	s.Transfers[0].Name = long
	u.Refresh(s)
	u.tabs.Select(u.transferItem)
	g := u.transfers.grid
	g.selectRow(0)

	u.win.Resize(fyne.NewSize(800, 600))
	name := nameCell(t, g)
	if w, table := name.Size().Width, g.content.Size().Width; w < 0.35*table {
		t.Fatalf("at 800 px the Name cell is %.0f px of a %.0f px table (%.0f %%), want >= 35 %%", w, table, 100*w/table)
	}
	if got := len(g.hiddenCols()); got != 3 {
		t.Errorf("at 800 px %d columns hidden, want Ratio, Seeds and Peers", got)
	}
	title := u.transfers.peers.title.Text
	for _, want := range []string{long, "Seeds " + g.rows[0][trColSeeds], "Peers " + g.rows[0][trColPeers], "Ratio " + g.rows[0][trColRatio]} {
		if !strings.Contains(title, want) {
			t.Errorf("at 800 px the peers title %q lacks %q", title, want)
		}
	}
	t.Logf("800 px: Name %.0f of %.0f px; title %q", name.Size().Width, g.content.Size().Width, title)

	u.win.Resize(fyne.NewSize(1600, 1000))
	if h := g.hiddenCols(); len(h) != 0 {
		t.Errorf("at 1600 px columns %v are hidden", h)
	}
	if title := u.transfers.peers.title.Text; strings.Contains(title, "Ratio") {
		t.Errorf("at 1600 px the peers title still spells out hidden columns: %q", title)
	}
	if _, ok := cells(g)[widget.TableCellID{Row: 0, Col: trColRatio}]; !ok {
		t.Error("at 1600 px no Ratio cell is drawn")
	}
}

// nameCell is the drawn Name cell of row 0.
func nameCell(t *testing.T, g *gridTable) fyne.CanvasObject {
	t.Helper()
	for id, c := range cells(g) {
		if id.Row == 0 && id.Col == trColName {
			return c
		}
	}
	t.Fatal("no Name cell drawn for row 0")
	return nil
}
