package ui

import (
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// GLFWWaiter parks Fyne's GLFW loop while the window is idle (see
// EventWaiter): Fyne 2.7 would otherwise poll and check for redraws 60
// times a second, which is most of an idle window's CPU. Once the driver
// has stopped, GLFW is terminated and go-gl panics on any call: a wait or
// wake racing with the window's close then does nothing instead.
func GLFWWaiter() EventWaiter {
	return EventWaiter{
		Wait: func(d time.Duration) {
			defer afterTerminate()
			glfw.WaitEventsTimeout(d.Seconds())
		},
		Wake: func() {
			defer afterTerminate()
			glfw.PostEmptyEvent()
		},
	}
}

// afterTerminate swallows go-gl's panic for a GLFW call made after the
// driver terminated GLFW.
func afterTerminate() {
	if r := recover(); r != nil {
		if err, ok := r.(*glfw.Error); !ok || err.Code.String() != "NotInitialized" { // go-gl does not export the code
			panic(r)
		}
	}
}
