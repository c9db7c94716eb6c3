package assets

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestIconPNG(t *testing.T) {
	t.Parallel()
	img, err := png.Decode(bytes.NewReader(IconPNG))
	if err != nil {
		t.Fatalf("decode icon: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("icon is %v, want 256x256", b)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha = %d, want transparent corner", a)
	}
	colours := map[color.RGBA]bool{}
	for y := 0; y < 256; y += 4 {
		for x := 0; x < 256; x += 4 {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("icon has %d distinct colours on a 4px grid; looks blank", len(colours))
	}
}

func TestDesktopFile(t *testing.T) {
	t.Parallel()
	text := string(DesktopFile)
	for _, want := range []string{
		"[Desktop Entry]\n",
		"\nType=Application\n",
		"\nName=Shoal\n",
		"\nExec=shoal %U\n",
		"\nMimeType=x-scheme-handler/magnet;application/x-bittorrent;\n",
		"\nIcon=io.github.shoalp2p.shoal\n",
		"\nTerminal=false\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("desktop file lacks %q", want)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(text), "\n")[1:] {
		if line != "" && !strings.Contains(line, "=") {
			t.Errorf("line %d %q is not key=value", i+2, line)
		}
	}
}

// TestGenerateIcon rewrites icon.png when SHOAL_GEN_ICON=1. It is how the
// committed icon was made; it is skipped in normal runs.
func TestGenerateIcon(t *testing.T) {
	if os.Getenv("SHOAL_GEN_ICON") != "1" {
		t.Skip("set SHOAL_GEN_ICON=1 to regenerate icon.png")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawIcon(256)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("icon.png", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fish is one fish of the shoal: centre, body half-length and a tint.
type fish struct {
	x, y, size float64
	tint       color.RGBA
}

var shoal = []fish{
	{0.60, 0.40, 0.17, color.RGBA{0xf5, 0xfb, 0xff, 0xff}},
	{0.34, 0.30, 0.11, color.RGBA{0xbf, 0xe9, 0xff, 0xff}},
	{0.36, 0.56, 0.13, color.RGBA{0xd6, 0xf1, 0xff, 0xff}},
	{0.66, 0.68, 0.12, color.RGBA{0xa8, 0xe0, 0xfb, 0xff}},
	{0.17, 0.44, 0.07, color.RGBA{0x8f, 0xd3, 0xf5, 0xff}},
	{0.20, 0.73, 0.08, color.RGBA{0x8f, 0xd3, 0xf5, 0xff}},
	{0.45, 0.80, 0.06, color.RGBA{0x7c, 0xc8, 0xef, 0xff}},
}

// drawIcon renders the icon with 4×4 supersampling.
func drawIcon(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	const ss = 4
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(n)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(n)
					c := sample(x, y)
					al := float64(c.A) / 255
					r += float64(c.R) * al
					g += float64(c.G) * al
					b += float64(c.B) * al
					a += al
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(r / a), G: uint8(g / a), B: uint8(b / a),
				A: uint8(math.Round(a / (ss * ss) * 255)),
			})
		}
	}
	return img
}

// sample returns the colour at (x, y) in unit coordinates.
func sample(x, y float64) color.RGBA {
	if !inRoundedSquare(x, y, 0.03, 0.19) {
		return color.RGBA{}
	}
	// Deep navy at the bottom, bright sea blue at the top.
	top := [3]float64{0x1e, 0x9b, 0xd7}
	bot := [3]float64{0x0a, 0x2a, 0x6b}
	bg := color.RGBA{
		uint8(top[0] + (bot[0]-top[0])*y),
		uint8(top[1] + (bot[1]-top[1])*y),
		uint8(top[2] + (bot[2]-top[2])*y), 0xff,
	}
	for _, bub := range [][3]float64{{0.82, 0.22, 0.035}, {0.88, 0.13, 0.022}, {0.78, 0.12, 0.015}} {
		d := math.Hypot(x-bub[0], y-bub[1])
		if d < bub[2] && d > bub[2]*0.6 {
			return color.RGBA{0xd6, 0xf1, 0xff, 0xff}
		}
	}
	for _, f := range shoal {
		if c, ok := f.at(x, y, bg); ok {
			return c
		}
	}
	return bg
}

func inRoundedSquare(x, y, margin, radius float64) bool {
	lo, hi := margin+radius, 1-margin-radius
	dx := math.Max(math.Max(lo-x, x-hi), 0)
	dy := math.Max(math.Max(lo-y, y-hi), 0)
	if x < margin || x > 1-margin || y < margin || y > 1-margin {
		return false
	}
	return math.Hypot(dx, dy) <= radius
}

// at reports the fish's colour at (x, y): an ellipse body facing right, a
// forked tail behind it and a dark eye.
func (f fish) at(x, y float64, bg color.RGBA) (color.RGBA, bool) {
	u := (x - f.x) / f.size
	v := (y - f.y) / f.size
	if math.Hypot(u-0.55, v+0.08) < 0.09 {
		return bg, true // the eye shows the sea through it
	}
	if u*u+(v*v)/(0.42*0.42) <= 1 {
		return f.tint, true
	}
	// Tail: a triangle from the body's back, forked by a notch at its end.
	if u < -0.85 && u > -1.4 {
		spread := (-0.85 - u) * 0.85
		notch := (-1.22 - u) * 1.3
		if math.Abs(v) <= spread && math.Abs(v) >= notch {
			return f.tint, true
		}
	}
	return color.RGBA{}, false
}

// TestMetaInfo checks the AppStream metadata against the desktop file (same
// id, the same media types) and, where appstreamcli is installed, against
// the AppStream specification.
func TestMetaInfo(t *testing.T) {
	t.Parallel()
	const name = "io.github.shoalp2p.shoal.metainfo.xml"
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ID         string   `xml:"id"`
		Launchable string   `xml:"launchable"`
		MediaTypes []string `xml:"provides>mediatype"`
	}
	if err := xml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if c.ID != "io.github.shoalp2p.shoal" || c.Launchable != c.ID+".desktop" {
		t.Errorf("id %q launchable %q", c.ID, c.Launchable)
	}
	want := "\nMimeType=" + strings.Join(c.MediaTypes, ";") + ";\n"
	if len(c.MediaTypes) == 0 || !strings.Contains(string(DesktopFile), want) {
		t.Errorf("metainfo provides %v; the desktop file lacks %q", c.MediaTypes, strings.TrimSpace(want))
	}
	if _, err := exec.LookPath("appstreamcli"); err != nil {
		t.Log("appstreamcli missing (make deps installs appstream): not validated against the specification")
		return
	}
	if out, err := exec.Command("appstreamcli", "validate", "--no-net", name).CombinedOutput(); err != nil {
		t.Errorf("appstreamcli validate: %v\n%s", err, out)
	}
}
