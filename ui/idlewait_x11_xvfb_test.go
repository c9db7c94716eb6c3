//go:build linux && !wayland

package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/jezek/xgb/xproto"
)

// TestXWaiterXvfb: on a real X connection the idle wait parks in Go's
// poller and ends when it should: at its timeout when nothing happens, at
// once for a wake that came before it, soon for a wake or an X event that
// comes during it. A wake is spent by the wait it ended: the next wait
// runs to its timeout (left set, it ended every other park at once, which
// the window took for input and ran Fyne's loop freely for a second).
func TestXWaiterXvfb(t *testing.T) {
	if realApp == nil {
		t.Skip("needs SHOAL_XVFB=1 under xvfb-run (a real GLFW window)")
	}
	fyne.SetCurrentApp(realApp)
	title := fmt.Sprintf("Shoal idle wait test %d", time.Now().UnixNano()) // not an earlier run's window
	var win fyne.Window
	fyne.DoAndWait(func() {
		win = realApp.NewWindow(title)
		win.Show()
	})
	defer fyne.DoAndWait(win.Hide) // closing the last window would quit the app the other tests run in
	x, err := newXDNDSource(title) // a second X client, to send the window an event
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()

	w := &xWaiter{}
	wait := func(d time.Duration) time.Duration {
		var took time.Duration
		fyne.DoAndWait(func() {
			start := time.Now()
			w.wait(d)
			took = time.Since(start)
		})
		return took
	}
	const short = 300 * time.Millisecond
	settle := func() { time.Sleep(200 * time.Millisecond) } // Fyne's ticks read what the X server sent (map, expose, the test's event)
	settle()
	if d := wait(short); d < short*9/10 {
		t.Fatalf("a wait with nothing to end it took %v, want its timeout %v", d, short)
	}
	if w.st.Load() == nil {
		t.Fatal("the waiter found no X connection: it fell back to GLFW's wait")
	}
	w.wake()
	if d := wait(short); d > short/3 {
		t.Fatalf("a wait after a wake took %v, want it to return at once", d)
	}
	if d := wait(short); d < short*9/10 {
		t.Fatalf("the wait after one woken before it took %v, want its timeout %v: the wake was not spent", d, short)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		w.wake()
	}()
	if d := wait(5 * time.Second); d > time.Second {
		t.Fatalf("a wait woken after 50 ms took %v", d)
	}
	if d := wait(short); d < short*9/10 {
		t.Fatalf("the wait after one woken midway took %v, want its timeout %v: the wake was not spent", d, short)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		ev := xproto.ClientMessageEvent{Format: 32, Window: x.target, Type: x.atoms["UTF8_STRING"],
			Data: xproto.ClientMessageDataUnionData32New(make([]uint32, 5))}
		if err := xproto.SendEventChecked(x.conn, false, x.target, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
			t.Error(err)
		}
	}()
	if d := wait(5 * time.Second); d > time.Second {
		t.Fatalf("a wait that an X event reached after 50 ms took %v", d)
	}
	settle()
	if d := wait(short); d < short*9/10 {
		t.Fatalf("the wait after an X event took %v, want its timeout %v (GLFW's tick read the event)", d, short)
	}
}
