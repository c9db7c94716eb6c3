package words

import "testing"

// TestMoveReason: the failures a disk gives are worded for people, and
// anything else keeps only its innermost reason, after "the system said".
func TestMoveReason(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"engine: move: mkdir /mnt/usb/a: not a directory", "a file of that name is in the way"},
		{"engine: move: /srv/x already holds Film.mkv", "that folder already holds something named Film.mkv"},
		{"engine: move: rename /a /b: permission denied", "Shoal may not write there"},
		{"engine: move: open /media/cd/a: read-only file system", "that disk is read-only"},
		{"engine: move: write /d/a: no space left on device", "the disk there is full"},
		{"engine: move: stat /media/usb: no such file or directory", "that folder is gone (was a drive unplugged?)"},
		{"engine: move: read /d/a: input/output error", "the disk reported a read or write error"},
		{"engine: move: open /mnt/fat/a:b: invalid argument", "that disk does not accept one of the file names"},
		{"engine: move: something new", "the system said: something new"},
		{"", "the move did not finish"},
	} {
		if got := MoveReason(tc.err, "Film.mkv"); got != tc.want {
			t.Errorf("MoveReason(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
