package ui

import (
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// cellKind says what a column's cells hold.
type cellKind int

const (
	cellText     cellKind = iota // left-aligned, truncated text
	cellNumber                   // right-aligned text
	cellProgress                 // a progress bar fed from gridTable.progress
	cellButton                   // a button whose label is the cell string ("" hides it)
)

// noProgress in gridTable.progress leaves a row's progress cell empty.
const noProgress = -1

// column describes one column of a gridTable.
type column struct {
	// title may hold "\n": the header row is as tall as the longest title.
	title string
	width float32
	kind  cellKind
	// enabled is the button label that makes a cellButton active; any
	// other non-empty label shows a disabled button.
	enabled string
	// stretch marks the column that takes the width the others leave;
	// in a narrow window it gives up width down to min (0: width), so the
	// columns after it stay on screen.
	stretch bool
	min     float32
	// room is the width the stretch column should keep: while it would be
	// narrower, the columns with a hide rank give way, rank 1 first.
	room float32
	// hide ranks a column that gives way to the stretch column in a narrow
	// window (0: always shown). The tab spells out a hidden column's value
	// elsewhere (gridTable.hiddenCols).
	hide int
	// sortable lets a click on the header sort the rows by this column
	// (the tab does the sorting: see gridTable.sortCol).
	sortable bool
}

// narrowest is the least width of a stretch column.
func (c column) narrowest() float32 {
	if c.min > 0 {
		return min(c.min, c.width)
	}
	return c.width
}

// sortFirstDesc says whether a first click on col's header sorts it
// largest first: numbers and progress do (fastest, biggest), text does not.
func (c column) sortFirstDesc() bool { return c.kind != cellText }

// gridTable is a widget.Table over cached cell strings. Tabs diff their
// snapshots into rows and call update; the table is refreshed only when a
// string or progress value really changed, and selection is a whole row
// identified by a stable key so it survives reordering.
type gridTable struct {
	cols     []column
	keys     []string
	rows     [][]string
	progress []float64
	selected string // key of the selected row, "" for none

	table   *widget.Table
	content *fyne.Container

	onSelect func(row int) // the selection changed (row is -1 when cleared)
	onDouble func(row int) // a row was double-clicked
	onButton func(row int) // the row's button was tapped
	onSort   func()        // the sort column or direction changed: the tab orders its rows again
	onShown  func()        // a column was hidden or shown again (fitWidth)
	pressed  func()        // a mouse button went down on a cell (UI.sawInput)

	// menuFor builds a row's right-click menu (nil: no menu); menu and
	// popup are the last one shown (tests).
	menuFor func(row int) *fyne.Menu
	menu    *fyne.Menu
	popup   *widget.PopUpMenu

	// sortCol is the column the tab sorts its rows by (-1: the tab's own
	// order), largest first when sortDesc. Rows keep their keys, so the
	// selection follows its row wherever the sort puts it.
	sortCol  int
	sortDesc bool

	// shown holds the indexes into cols of the columns on screen, in
	// order; the table's column i is cols[shown[i]].
	shown []int

	refreshes    int // how often the table was refreshed; tests watch it
	width        float32
	stretchWidth float32 // the stretch column's width at that table width
}

// newGridTable builds the table widget for cols.
func newGridTable(cols []column) *gridTable {
	g := &gridTable{cols: cols, sortCol: -1, shown: allColumns(len(cols))}
	g.table = widget.NewTable(g.length, g.create, g.updateCell)
	g.table.ShowHeaderRow = true
	g.table.CreateHeader = func() fyne.CanvasObject { return container.New(cellLayout{}, newHeaderLabel(g)) }
	g.table.UpdateHeader = g.updateHeader
	g.table.OnSelected = func(id widget.TableCellID) {
		g.table.UnselectAll() // rows are highlighted by their own background
		g.selectRow(id.Row)
	}
	for i, c := range cols {
		g.table.SetColumnWidth(i, c.width)
	}
	if lines := headerLines(cols); lines > 1 {
		// Only the header row grows: a taller header template would make
		// every row as tall.
		l := widget.NewLabelWithStyle(strings.Repeat("X\n", lines-1)+"X", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		g.table.SetRowHeight(-1, l.MinSize().Height)
	}
	g.content = container.New(&stretchLayout{g: g}, g.table)
	return g
}

// headerLines is the number of lines of the longest title.
func headerLines(cols []column) int {
	n := 1
	for _, c := range cols {
		n = max(n, strings.Count(c.title, "\n")+1)
	}
	return n
}

// update replaces the rows; it refreshes the table only if something
// visible changed and reports whether it did.
func (g *gridTable) update(keys []string, rows [][]string, progress []float64) bool {
	changed := len(rows) != len(g.rows) || len(progress) != len(g.progress)
	for i := 0; !changed && i < len(rows); i++ {
		changed = keys[i] != g.keys[i] || !sameStrings(rows[i], g.rows[i]) ||
			(progress != nil && progress[i] != g.progress[i])
	}
	had := g.selectedRow() >= 0
	g.keys, g.rows, g.progress = keys, rows, progress
	if !changed {
		return false
	}
	// A selected row that went away clears the selection; a key selected
	// before its row arrived (a download just started) stays pending.
	if had && g.selectedRow() < 0 {
		g.selected = ""
		g.notifySelect()
	}
	g.refresh()
	return true
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (g *gridTable) refresh() {
	g.refreshes++
	g.table.Refresh()
}

// selectedRow is the index of the selected row, or -1.
func (g *gridTable) selectedRow() int {
	if g.selected == "" {
		return -1
	}
	for i, k := range g.keys {
		if k == g.selected {
			return i
		}
	}
	return -1
}

// selectRow selects a row by index (out of range clears the selection).
func (g *gridTable) selectRow(row int) {
	key := ""
	if row >= 0 && row < len(g.keys) {
		key = g.keys[row]
	}
	g.selectKey(key)
}

// selectKey selects the row with key, even before that row exists.
func (g *gridTable) selectKey(key string) {
	if key == g.selected {
		return
	}
	g.selected = key
	g.refresh()
	g.notifySelect()
}

func (g *gridTable) notifySelect() {
	if g.onSelect != nil {
		g.onSelect(g.selectedRow())
	}
}

func allColumns(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

func (g *gridTable) length() (int, int) { return len(g.rows), len(g.shown) }

// hiddenCols lists the columns a narrow window hides, in cols order.
func (g *gridTable) hiddenCols() []int {
	var out []int
	for i := range g.cols {
		if !slices.Contains(g.shown, i) {
			out = append(out, i)
		}
	}
	return out
}

func (g *gridTable) updateHeader(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Col >= 0 && id.Col < len(g.shown) {
		col := g.shown[id.Col]
		h := o.(*fyne.Container).Objects[0].(*headerLabel)
		h.col = col
		setText(&h.Label, g.headerTitle(col))
	}
}

// headerTitle is col's title with an arrow when the rows are sorted by it.
func (g *gridTable) headerTitle(col int) string {
	title := g.cols[col].title
	if col != g.sortCol {
		return title
	}
	if g.sortDesc {
		return title + " ↓"
	}
	return title + " ↑"
}

// sortBy is a click on col's header: sort by it (largest first for
// numbers), then the other way, then back to the tab's own order.
func (g *gridTable) sortBy(col int) {
	if col < 0 || col >= len(g.cols) || !g.cols[col].sortable {
		return
	}
	first := g.cols[col].sortFirstDesc()
	switch {
	case g.sortCol != col:
		g.sortCol, g.sortDesc = col, first
	case g.sortDesc == first:
		g.sortDesc = !first
	default:
		g.sortCol = -1
	}
	g.refresh()
	if g.onSort != nil {
		g.onSort()
	}
}

// sortOrder returns the order of n items the tab should show: 0..n-1 when
// unsorted, else stably sorted by cmp on the sort column (ties keep the
// tab's own order).
func (g *gridTable) sortOrder(n int, cmp func(col, a, b int) int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if g.sortCol < 0 {
		return order
	}
	col, desc := g.sortCol, g.sortDesc
	slices.SortStableFunc(order, func(a, b int) int {
		if desc {
			return cmp(col, b, a)
		}
		return cmp(col, a, b)
	})
	return order
}

// sortedRows returns rows in the order sortOrder gives for them, compared
// by compare on the sort column; rows as they are when the tab is unsorted.
// The Library and Transfers tabs share it.
func sortedRows[T any](g *gridTable, rows []T, compare func(col int, a, b T) int) []T {
	if g.sortCol < 0 {
		return rows
	}
	order := g.sortOrder(len(rows), func(col, a, b int) int { return compare(col, rows[a], rows[b]) })
	out := make([]T, len(rows))
	for i, at := range order {
		out[i] = rows[at]
	}
	return out
}

// showMenu selects row and opens its right-click menu at pos (absolute).
func (g *gridTable) showMenu(row int, pos fyne.Position, c fyne.Canvas) {
	g.selectRow(row)
	if g.menuFor == nil || c == nil || row < 0 || row >= len(g.keys) {
		return
	}
	g.menu = g.menuFor(row)
	if g.menu == nil {
		return
	}
	g.popup = widget.NewPopUpMenu(g.menu, c)
	g.popup.ShowAtPosition(pos)
}

// create makes one reusable cell: a selection background under a label, a
// progress bar and a button, of which update shows the one the column needs.
func (g *gridTable) create() fyne.CanvasObject {
	bg := canvas.NewRectangle(color.Transparent)
	bg.CornerRadius = theme.SelectionRadiusSize()
	l := newCellLabel(g)
	bar := widget.NewProgressBar()
	bar.Hide()
	btn := widget.NewButton("", nil)
	btn.Importance = widget.LowImportance
	btn.Hide()
	return container.New(cellLayout{}, bg, l, bar, btn)
}

// cellLayout stacks a cell's objects, but lets its labels spill half their
// inner padding into the gaps between columns: their text keeps a quarter
// less space on each side, so that narrow columns (an 800 px window) still
// hold a whole rate or size.
type cellLayout struct{}

// cellBleed is how far a cell label reaches past each side of its cell.
func cellBleed() float32 { return theme.InnerPadding() / 2 }

func (cellLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	b := cellBleed()
	for _, o := range objs {
		switch o.(type) {
		case *cellLabel, *headerLabel:
			o.Resize(fyne.NewSize(size.Width+2*b, size.Height))
			o.Move(fyne.NewPos(-b, 0))
		default:
			o.Resize(size)
			o.Move(fyne.NewPos(0, 0))
		}
	}
}

func (cellLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m.SubtractWidthHeight(2*cellBleed(), 0)
}

// textWidth is the width a cell or header label needs for s in a table
// column (its text, and its padding less the bleed).
func textWidth(s string, bold bool) float32 {
	return fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{Bold: bold}).Width + 2*(theme.InnerPadding()-cellBleed())
}

func (g *gridTable) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row >= len(g.rows) || id.Col >= len(g.shown) {
		return
	}
	at := g.shown[id.Col]
	objs := o.(*fyne.Container).Objects
	bg, l := objs[0].(*canvas.Rectangle), objs[1].(*cellLabel)
	bar, btn := objs[2].(*widget.ProgressBar), objs[3].(*widget.Button)
	g.paintSelection(bg, id.Row)
	l.row, l.col = id.Row, at
	col, text := g.cols[at], g.rows[id.Row][at]
	// The label stays under a progress bar (with no text) so that a tap or
	// right-click there still reaches the row.
	setVisible(l, col.kind != cellButton)
	setVisible(bar, col.kind == cellProgress)
	setVisible(btn, col.kind == cellButton && text != "")
	switch col.kind {
	case cellText, cellNumber:
		l.set(text, col.kind == cellNumber)
	case cellProgress:
		l.set("", false)
		v := g.progress[id.Row]
		setVisible(bar, v != noProgress)
		if v != noProgress && bar.Value != v {
			bar.SetValue(v)
		}
	case cellButton:
		g.updateButton(btn, col, id.Row, text)
	}
}

func (g *gridTable) paintSelection(bg *canvas.Rectangle, row int) {
	var want color.Color = color.Transparent
	if g.selected != "" && g.keys[row] == g.selected {
		want = theme.Color(theme.ColorNameSelection)
	}
	if bg.FillColor != want {
		bg.FillColor = want
		bg.Refresh()
	}
}

func (g *gridTable) updateButton(btn *widget.Button, col column, row int, text string) {
	btn.OnTapped = func() {
		if g.onButton != nil {
			g.onButton(row)
		}
	}
	if btn.Text != text {
		btn.SetText(text)
	}
	if on := text == col.enabled; on == btn.Disabled() {
		if on {
			btn.Enable()
		} else {
			btn.Disable()
		}
	}
}

func setVisible(o fyne.CanvasObject, v bool) {
	if v != o.Visible() {
		if v {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// fitWidth gives the stretch column whatever width the others leave,
// hiding the columns that give way (by hide rank) while it would be
// narrower than its room.
func (g *gridTable) fitWidth(total float32) {
	if total == g.width {
		return
	}
	g.width = total
	stretch := slices.IndexFunc(g.cols, func(c column) bool { return c.stretch })
	shown := allColumns(len(g.cols))
	rest := g.restWidth(total, shown)
	last := 0
	for _, c := range g.cols {
		last = max(last, c.hide)
	}
	for rank := 1; stretch >= 0 && rest < g.cols[stretch].room && rank <= last; rank++ {
		shown = slices.DeleteFunc(shown, func(i int) bool { return g.cols[i].hide == rank })
		rest = g.restWidth(total, shown)
	}
	changed := !slices.Equal(shown, g.shown)
	g.shown = shown
	if stretch >= 0 {
		g.stretchWidth = max(rest, g.cols[stretch].narrowest())
	}
	for i, at := range g.shown {
		w := g.cols[at].width
		if at == stretch {
			w = g.stretchWidth
		}
		g.table.SetColumnWidth(i, w)
	}
	if changed {
		g.refresh()
		if g.onShown != nil {
			g.onShown()
		}
	}
}

// restWidth is what the shown columns other than the stretch column leave
// of total.
func (g *gridTable) restWidth(total float32, shown []int) float32 {
	pad := theme.Padding()
	rest := total - theme.ScrollBarSize() - 2*pad
	for _, i := range shown {
		if !g.cols[i].stretch {
			rest -= g.cols[i].width + pad
		}
	}
	return rest
}

// stretchLayout lets the table fill its space and widens its stretch column.
type stretchLayout struct{ g *gridTable }

func (s *stretchLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	// After the resize, so that the refresh draws the cells at this size.
	s.g.fitWidth(size.Width)
}

func (s *stretchLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return objs[0].MinSize()
}

// cellLabel is a table label that selects its row on tap and reports
// double-clicks, which widget.Table alone does not.
type cellLabel struct {
	widget.Label
	g        *gridTable
	row, col int // the cell the label currently shows
}

func newCellLabel(g *gridTable) *cellLabel {
	l := &cellLabel{g: g}
	l.Truncation = fyne.TextTruncateEllipsis
	l.ExtendBaseWidget(l)
	return l
}

// set changes the text and alignment only when they differ. Numbers are
// right-aligned and not truncated: their columns are wide enough, and
// measuring for an ellipsis is the costliest part of a redraw.
func (l *cellLabel) set(text string, number bool) {
	align, trunc := fyne.TextAlignLeading, fyne.TextTruncateEllipsis
	if number {
		align, trunc = fyne.TextAlignTrailing, fyne.TextTruncateOff
	}
	if l.Text == text && l.Alignment == align && l.Truncation == trunc {
		return
	}
	l.Alignment, l.Truncation = align, trunc
	l.SetText(text)
}

// Tapped selects the row.
func (l *cellLabel) Tapped(*fyne.PointEvent) { l.g.selectRow(l.row) }

// MouseDown tells the window a cell was pressed: being double-tappable,
// the cell gets its Tapped only after Fyne's double-tap delay, which an
// idle window's parked loop must not stretch (see UI.sawInput).
func (l *cellLabel) MouseDown(*desktop.MouseEvent) {
	if l.g.pressed != nil {
		l.g.pressed()
	}
}

// MouseUp does nothing: MouseDown is what matters (desktop.Mouseable).
func (l *cellLabel) MouseUp(*desktop.MouseEvent) {}

// TappedSecondary selects the row and opens its menu.
func (l *cellLabel) TappedSecondary(e *fyne.PointEvent) {
	l.g.showMenu(l.row, e.AbsolutePosition, fyne.CurrentApp().Driver().CanvasForObject(l))
}

// headerLabel is a column title; a tap sorts by its column.
type headerLabel struct {
	widget.Label
	g   *gridTable
	col int
}

func newHeaderLabel(g *gridTable) *headerLabel {
	// No truncation: titles fit, and headers redraw with every refresh.
	h := &headerLabel{g: g}
	h.TextStyle = fyne.TextStyle{Bold: true}
	h.ExtendBaseWidget(h)
	return h
}

// Tapped sorts by the header's column.
func (h *headerLabel) Tapped(*fyne.PointEvent) { h.g.sortBy(h.col) }

// DoubleTapped selects the row and runs the table's double-click action.
func (l *cellLabel) DoubleTapped(*fyne.PointEvent) {
	l.g.selectRow(l.row)
	if l.g.onDouble != nil {
		l.g.onDouble(l.row)
	}
}
