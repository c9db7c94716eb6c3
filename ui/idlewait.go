package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// Fyne's GLFW driver polls for input and redraws 60 times a second even
// when nothing changes: under Xvfb and llvmpipe an empty Fyne 2.7 window
// costs about 2% of a core that way, nearly all of it the Go scheduler
// handing the locked main thread back and forth for each tick. An idle
// Shoal window instead parks that loop: it runs a function on the Fyne
// goroutine (where the loop would poll) that blocks (GLFWWaiter: on the X
// connection) until an input event arrives, another goroutine hands the
// window work through u.do (which wakes the wait), or waitTimeout passes;
// then the loop runs one ordinary tick (drawing whatever changed) and the
// next wait starts. After input the loop runs freely for inputHoldOff, so
// that what the input started (hover effects, a button's tap animation, a
// row's tap, which Fyne delivers late) plays at Fyne's full frame rate.

// EventWaiter is how the window parks the driver's loop while idle. The
// app wires it to GLFWWaiter (a wait on the X connection in Go's poller,
// or GLFW's WaitEventsTimeout and PostEmptyEvent); left unset (tests,
// Fyne's test driver), the loop is never parked.
type EventWaiter struct {
	// Wait blocks the main thread until an event from the window system,
	// a Wake or the timeout; what arrived is handled by the loop's next
	// tick, or by Wait itself (GLFW's wait runs the handlers).
	Wait func(timeout time.Duration)
	// Wake ends a Wait early; safe from any goroutine.
	Wake func()
}

const (
	// afterPark is the pause after a park that input did not end: long
	// enough for the loop to run a tick and draw what changed meanwhile.
	afterPark = 20 * time.Millisecond
	// waitTimeout bounds a parked loop: work handed to Fyne without u.do
	// (Fyne's own goroutines, an animation started without input) waits
	// at most this long.
	waitTimeout = 500 * time.Millisecond
	// inputHoldOff is how long after input the loop runs unparked.
	inputHoldOff = time.Second
	// notIdleRetry is how soon the window looks again when it was not
	// idle (a snapshot changed something, or a field has the focus).
	notIdleRetry = 250 * time.Millisecond
)

// SetEventWaiter lets the window park the driver's loop while idle (see
// EventWaiter). Call it before Start.
func (u *UI) SetEventWaiter(w EventWaiter) { u.waiter = w }

// parkLoop parks the driver's loop whenever the window is idle, until ctx
// ends. It runs on its own goroutine.
func (u *UI) parkLoop(ctx context.Context) {
	for ctx.Err() == nil {
		pause := u.holdOff()
		if pause == 0 {
			var r parkResult
			fyne.DoAndWait(func() { r = u.park() })
			pause = notIdleRetry
			if r != notParked {
				pause = afterPark
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// holdOff is how long to wait before parking the loop: 0 when the window
// is idle now. Safe from any goroutine.
func (u *UI) holdOff() time.Duration {
	if since := time.Since(time.Unix(0, u.lastInput.Load())); since < inputHoldOff {
		return inputHoldOff - since
	}
	if !u.idle() {
		return notIdleRetry
	}
	return 0
}

// sawInput notes user input, which holds off parking for inputHoldOff.
// A park that input ended notes it; so does a press on a table cell,
// whose tap Fyne delivers from a goroutine only after its double-tap
// delay (through its own queue, which does not wake a park). Safe from
// any goroutine.
func (u *UI) sawInput() { u.lastInput.Store(time.Now().UnixNano()) }

// idle reports whether the last snapshots changed nothing shown and the
// user did nothing meanwhile (see busy), or the window is in the
// background. Safe from any goroutine.
func (u *UI) idle() bool {
	return u.background.Load() || u.quiet.Load() >= idleAfter
}

// parkResult says how a park ended.
type parkResult int

const (
	notParked        parkResult = iota // the window had work or a focused field
	parkedUntilWork                    // the timeout, or work handed over through u.do
	parkedUntilInput                   // an input event (or Fyne's own empty event)
)

// park blocks the Fyne goroutine in the waiter's Wait, unless work
// is queued for it or a field has the focus (its cursor blinks). It runs
// on the Fyne goroutine.
func (u *UI) park() parkResult {
	if c := u.win.Canvas(); c.Focused() != nil {
		return notParked
	}
	// Set waiting before reading queued, as u.do counts its work before
	// reading waiting: either do sees the wait and wakes it, or the wait
	// sees the work and does not start.
	u.waiting.Store(true)
	defer u.waiting.Store(false)
	if u.queued.Load() > 0 {
		return notParked
	}
	u.woken.Store(false)
	start := time.Now()
	u.waiter.Wait(waitTimeout)
	if u.woken.Load() || time.Since(start) >= waitTimeout*9/10 {
		return parkedUntilWork
	}
	u.sawInput()
	return parkedUntilInput
}

// wakeParked ends a park under way, for work just handed to the Fyne
// goroutine. Safe from any goroutine.
func (u *UI) wakeParked() {
	if u.waiter.Wake != nil && u.waiting.Load() {
		u.woken.Store(true)
		u.waiter.Wake()
	}
}
