package ui

import (
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// glfwWait parks the loop in GLFW's own wait, where the X11 waiter is not
// built or finds no X connection. Once the driver has stopped, GLFW is
// terminated and go-gl panics on any call: a wait or wake racing with the
// window's close then does nothing instead.
func glfwWait(d time.Duration) {
	defer afterTerminate()
	glfw.WaitEventsTimeout(d.Seconds())
}

// glfwWake ends a glfwWait; safe from any goroutine.
func glfwWake() {
	defer afterTerminate()
	glfw.PostEmptyEvent()
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
