package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// Words for people: no error text from inside the engine reaches a dialog
// as is. showError names what the user tried (the op of act), says what
// happened and what to do, in sentences keyed on the engine's exported
// errors (errors.Is); the raw text stays under "Details" for a bug report.

// opError is an engine call's error with what the user asked for, worded
// to follow "Could not" ("pause big-buck-bunny.mkv").
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// userError is a message the UI wrote itself for people: shown as is.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

// sayf makes a userError.
func sayf(format string, a ...any) error { return &userError{fmt.Sprintf(format, a...)} }

// explanation is what a dialog tells about an error.
type explanation struct {
	title   string // "Could not pause x"
	text    string // what happened and what to do
	details string // the raw error, for a bug report; "" when text says it all
}

// wording maps one kind of engine error to a sentence. The first match in
// wordings wins, so the more specific kinds come first.
type wording struct {
	is   func(error) bool
	text func(n engine.NetStatus) string
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func fixed(s string) func(engine.NetStatus) string {
	return func(engine.NetStatus) string { return s }
}

var wordings = []wording{
	{isErr(engine.ErrNoSupernode), func(n engine.NetStatus) string {
		return fmt.Sprintf("Shoal is still joining the network (%s). Search will work once it has found a supernode; "+
			"this usually takes under a minute.", plural(n.DHTNodes, "DHT node"))
	}},
	{isErr(engine.ErrEmptyQuery), fixed("Type one or more words to search for, then press Enter.")},
	{isErr(engine.ErrBadTorrent), fixed("This .torrent file is damaged or incomplete, so Shoal cannot read it. " +
		"Download it again from where you found it.")},
	{isErr(fs.ErrNotExist), fixed("The file or folder is not there any more: it may have been moved, renamed or deleted. " +
		"Check where it is now and try again.")},
	{isErr(engine.ErrBadLink), fixed("Shoal cannot read this link. A magnet link starts with \"magnet:?xt=urn:btih:\"; " +
		"copy it again from the web page. A .torrent file may be damaged or only partly downloaded; download it again.")},
	{isErr(engine.ErrExists), fixed("That folder already holds a file or folder of the same name. " +
		"Choose another folder, or move or rename what is there first. Nothing was moved.")},
	{isErr(engine.ErrNotFinished), fixed("Only a finished download can be moved. Wait until it reaches 100%, then try again.")},
	{isErr(engine.ErrNoMetadata), fixed("Shoal does not know this torrent's files yet: it is still asking peers for them. " +
		"Try again once the transfer shows a size.")},
	{isErr(engine.ErrNotFound), fixed("That transfer is no longer in the list: it was removed already. Nothing else changed.")},
	{isErr(engine.ErrClosed), fixed("Shoal is shutting down, so this was not done. Start Shoal again and retry.")},
	{isErr(syscall.ENOSPC), fixed("The disk is full. Free some space, then try again.")},
	{isErr(fs.ErrPermission), fixed("Shoal is not allowed to read or write there. Check the permissions of the file or folder, " +
		"or choose another download folder in Settings.")},
	{isErr(context.DeadlineExceeded), fixed("This took too long and Shoal gave up. Check the network connection and try again.")},
}

// unexpected is the text for an error no wording knows.
const unexpected = "Something unexpected went wrong. Try again; if it keeps happening, " +
	"the details below help a bug report."

// explain words err for a dialog; n is the network as the status bar
// shows it.
func explain(err error, n engine.NetStatus) explanation {
	var x explanation
	var op *opError
	if errors.As(err, &op) {
		x.title = "Could not " + words.Clip(op.op, 60)
	} else {
		x.title = "Shoal could not do that"
	}
	var said *userError
	if errors.As(err, &said) {
		x.text = capitalise(said.msg)
		return x
	}
	for _, w := range wordings {
		if w.is(err) {
			x.text = w.text(n)
			return x
		}
	}
	x.text, x.details = unexpected, err.Error()
	return x
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// showError shows err in words for people in a dialog over the main
// window, which Escape and Enter close.
func (u *UI) showError(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	x := explain(err, u.status.last)
	msg := widget.NewLabel(x.text)
	msg.Wrapping = fyne.TextWrapWord
	content := fyne.CanvasObject(msg)
	if x.details != "" {
		raw := widget.NewLabel(x.details)
		raw.Wrapping = fyne.TextWrapWord
		raw.Selectable = true
		content = container.NewVBox(msg, widget.NewAccordion(widget.NewAccordionItem("Details", raw)))
	}
	d := dialog.NewCustom(x.title, "Close", content, u.win)
	d.Resize(fyne.NewSize(500, 150+msg.MinSize().Height*float32(1+len(x.text)/60)))
	u.keyed(d, d.Hide, d.Hide)
	d.Show()
}

// troubleText words a transfer's or share's error string (the engine
// hands these over as text) for the table and notifications.
func troubleText(err string) string {
	e := strings.ToLower(err)
	switch {
	case strings.Contains(e, "no space left"):
		return "the disk is full; free some space, then resume"
	case strings.Contains(e, "permission denied"), strings.Contains(e, "read-only file system"):
		return "Shoal may not write to the download folder; check its permissions"
	case strings.Contains(e, "no such file"):
		return "files are missing from the download folder; resume to fetch them again"
	case err == "":
		return "stopped by an error"
	default:
		return err
	}
}

// moveTrouble says what became of a finished download that could not
// move to the folder chosen in Settings (engine.TransferSnapshot.MoveErr),
// and what to do about it.
func moveTrouble(t engine.TransferSnapshot) string {
	return fmt.Sprintf("%s stays in %s and keeps seeding from there: Shoal could not move it to %s, because %s. "+
		"Choose another folder in Settings > Downloads, or use Move to… on it.",
		displayName(t), t.Dir, t.MoveTo, moveReason(t))
}

// moveReason words why a move failed (words.MoveReason).
func moveReason(t engine.TransferSnapshot) string { return words.MoveReason(t.MoveErr, displayName(t)) }

// The status bar explains itself in tooltips.

func dhtTip(n engine.NetStatus) string {
	s := "DHT nodes: other BitTorrent nodes Shoal knows. Through them it finds peers for magnet links " +
		"and the supernodes that answer searches."
	if n.DHTNodes == 0 {
		s += " None yet: Shoal is still joining the network, or this computer is offline."
	}
	return s
}

func peersTip(engine.NetStatus) string {
	return "Peers: computers Shoal exchanges data with right now, over all transfers."
}

func supernodeTip(n engine.NetStatus) string {
	switch {
	case n.IsSupernode:
		leaves := fmt.Sprintf("%d leaves", n.Leaves)
		if n.Leaves == 1 {
			leaves = "1 leaf"
		}
		return "This computer is a supernode: " + leaves + " (other Shoal users) send it the names of what they share, " +
			"and it answers searches for them."
	case len(n.Supernodes) == 0:
		return "Not linked to a supernode yet. Searches need one; Shoal finds one through the DHT, " +
			"which usually takes under a minute."
	default:
		return "Searches go through these supernodes, which index what their users share: " +
			strings.Join(n.Supernodes, ", ") + "."
	}
}

func ratesTip(engine.NetStatus) string {
	return "Total download (↓) and upload (↑) speed. Speed limits in force show in [brackets]; set them in Settings."
}

func altTip(engine.NetStatus) string {
	return "The alternative speed limits apply now, by hand or by schedule (Settings)."
}
