//go:build !linux || wayland

package ui

// GLFWWaiter parks Fyne's GLFW loop while the window is idle (see
// EventWaiter): Fyne 2.7 would otherwise poll and check for redraws 60
// times a second, which is most of an idle window's CPU.
func GLFWWaiter() EventWaiter {
	return EventWaiter{Wait: glfwWait, Wake: glfwWake}
}
