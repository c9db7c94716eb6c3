package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// fakeWaiter stands in for GLFW's WaitEventsTimeout and PostEmptyEvent: a
// wait ends when Wake is called, when input is sent, or at its timeout.
type fakeWaiter struct {
	waits  chan time.Duration // each wait's timeout, as it starts
	wake   chan struct{}
	input  chan struct{}
	wakes  int
	waited int
}

func newFakeWaiter() *fakeWaiter {
	return &fakeWaiter{waits: make(chan time.Duration, 16), wake: make(chan struct{}, 1), input: make(chan struct{}, 1)}
}

func (f *fakeWaiter) waiter() EventWaiter {
	return EventWaiter{
		Wait: func(d time.Duration) {
			f.waited++
			f.waits <- d
			select {
			case <-f.wake:
			case <-f.input:
			case <-time.After(d):
			}
		},
		Wake: func() {
			f.wakes++
			select {
			case f.wake <- struct{}{}:
			default:
			}
		},
	}
}

// TestParkOnlyWhenIdle: the loop is parked only once snapshots have
// stopped changing what the window shows, never while a field has the
// focus (its cursor blinks), and a park ends at its timeout.
func TestParkOnlyWhenIdle(t *testing.T) {
	u, _ := newTestUI(t)
	f := newFakeWaiter()
	u.SetEventWaiter(f.waiter())
	u.ShowTab("transfers")
	u.Refresh(idleSnapshot(0))
	if u.idle() {
		t.Fatal("a window that just showed its first snapshot counts as idle")
	}
	for sec := 1; sec <= idleAfter; sec++ {
		u.Refresh(idleSnapshot(0))
	}
	if !u.idle() {
		t.Fatalf("%d unchanged snapshots in a row: the window should count as idle", idleAfter)
	}
	start := time.Now()
	if r := u.park(); r != parkedUntilWork {
		t.Fatalf("an idle park that nothing ended returned %v, want parkedUntilWork (its timeout)", r)
	}
	if el := time.Since(start); el < waitTimeout*9/10 {
		t.Fatalf("the park lasted %v, want its timeout %v", el, waitTimeout)
	}
	u.ShowTab("search")
	u.win.Canvas().Focus(u.search.entry)
	if u.win.Canvas().Focused() == nil {
		t.Fatal("the search field did not take the focus")
	}
	if r := u.park(); r != notParked {
		t.Fatalf("with the search field focused, park returned %v, want notParked", r)
	}
	if f.waited != 1 {
		t.Fatalf("the driver waited %d times, want 1 (not while a field had the focus)", f.waited)
	}
	if u.idle() {
		t.Fatal("after the user chose a tab the window still counts as idle")
	}
}

// TestParkEndsForWork: work handed to the Fyne goroutine through u.do
// wakes a parked loop at once, and the park does not count as input; an
// input event ends it too, and counts.
func TestParkEndsForWork(t *testing.T) {
	u, _ := newTestUI(t)
	u.hop = nil // u.do goes through fyne.Do, which the test driver runs at once
	f := newFakeWaiter()
	u.SetEventWaiter(f.waiter())

	done := make(chan parkResult)
	go func() { done <- u.park() }()
	<-f.waits
	ran := make(chan bool, 1)
	u.do(func() { ran <- true })
	select {
	case r := <-done:
		if r != parkedUntilWork {
			t.Fatalf("a park ended by u.do returned %v, want parkedUntilWork", r)
		}
	case <-time.After(waitTimeout / 2):
		t.Fatal("u.do did not end the park")
	}
	if !<-ran || f.wakes != 1 {
		t.Fatalf("the work ran, and Wake was called %d times, want 1", f.wakes)
	}

	go func() { done <- u.park() }()
	<-f.waits
	f.input <- struct{}{}
	if r := <-done; r != parkedUntilInput {
		t.Fatalf("a park ended by input returned %v, want parkedUntilInput", r)
	}
	u.do(func() {}) // nothing parked: no wake
	if f.wakes != 1 {
		t.Fatalf("u.do with no park under way called Wake (%d calls in all, want 1)", f.wakes)
	}
}

// TestInputHoldsOffPark: once a park ends for input, or a table cell is
// pressed (its tap comes only after Fyne's double-tap delay, through a
// queue that does not wake a park), the loop is not parked again for
// inputHoldOff, though the window stays idle.
func TestInputHoldsOffPark(t *testing.T) {
	u, _ := newTestUI(t)
	u.ShowTab("transfers")
	for range idleAfter + 1 {
		u.Refresh(idleSnapshot(0))
	}
	if d := u.holdOff(); d != 0 {
		t.Fatalf("an idle window holds parking off for %v, want 0", d)
	}
	cell := u.transfers.grid.create().(*fyne.Container).Objects[1].(*cellLabel)
	cell.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	if d := u.holdOff(); d <= inputHoldOff/2 || d > inputHoldOff {
		t.Fatalf("just after a press on a cell, parking is held off for %v, want about %v", d, inputHoldOff)
	}

	v, _ := newTestUI(t)
	f := newFakeWaiter()
	v.SetEventWaiter(f.waiter())
	for range idleAfter + 1 {
		v.Refresh(idleSnapshot(0))
	}
	f.input <- struct{}{}
	if r := v.park(); r != parkedUntilInput {
		t.Fatalf("a park ended by input returned %v, want parkedUntilInput", r)
	}
	if d := v.holdOff(); d <= inputHoldOff/2 {
		t.Fatalf("just after a park ended for input, parking is held off for %v, want about %v", d, inputHoldOff)
	}
}
