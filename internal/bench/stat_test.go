package bench

import (
	"slices"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9, 5}, 5},
	} {
		in := slices.Clone(c.in)
		if got := Median(in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("Median(%v) reordered its argument to %v", c.in, in)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, c := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{ms(9), 0.95, 9 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 0.5, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 0, time.Millisecond},
		{ms(5, 1, 4, 2, 3), 0.95, 5 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 1, 5 * time.Millisecond},
	} {
		in := slices.Clone(c.in)
		if got := Percentile(in, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("Percentile(%v) reordered its argument to %v", c.in, in)
		}
	}
}

func TestJoinAndMark(t *testing.T) {
	if got := Join([]float64{1.25, 30, 0.5}, "%.1f"); got != "1.2, 30.0, 0.5" {
		t.Errorf("Join = %q", got)
	}
	if got := Join(nil, "%.1f"); got != "" {
		t.Errorf("Join(nil) = %q, want empty", got)
	}
	if Mark(true) != "met" || Mark(false) != "MISSED" {
		t.Errorf("Mark: %q, %q", Mark(true), Mark(false))
	}
}

func TestTargets(t *testing.T) {
	var tg Targets
	if got := tg.String(); got != "" {
		t.Errorf("no targets: %q", got)
	}
	tg.Check(true, "fds < 300")
	tg.Check(false, "ready ≤ 3 s")
	if got, want := tg.String(), "met: fds < 300; MISSED: ready ≤ 3 s"; got != want {
		t.Errorf("Targets = %q, want %q", got, want)
	}
}
