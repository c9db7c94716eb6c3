// Command fynefloor is an empty Fyne window of Shoal's size, titled
// "Shoal": the idle-library bench measures it beside the GUI as the floor
// of any Fyne app's idle cost on the same X server and renderer.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.github.shoalp2p.fynefloor")
	w := a.NewWindow("Shoal")
	w.SetContent(widget.NewLabel("An empty Fyne window: the floor under an idle Fyne app"))
	w.Resize(fyne.NewSize(1000, 650))
	w.ShowAndRun()
}
