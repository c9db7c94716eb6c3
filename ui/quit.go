package ui

import "fyne.io/fyne/v2"

// Quit stops the app: Ctrl+Q, the tray's Quit and Ctrl-C in the terminal
// all end here. Call it on the Fyne goroutine.
//
// It stops the driver without closing the windows first, unlike
// fyne.App.Quit. App.Quit marks every window closing and only then stops
// the driver, and the GLFW loop may still poll events in between; a
// pointer motion delivered to a closing window makes Fyne 2.7 call
// SetInputMode on its nil viewport and crash (seen at SIGINT under Xvfb,
// TestTwoLinksAtOnceStartOneApp). Stopping the driver alone ends the loop,
// which then terminates GLFW and every window with it.
func (u *UI) Quit() { u.onQuit() }

// quitDriver is the default onQuit.
func quitDriver(a fyne.App) func() {
	return func() { a.Driver().Quit() }
}
