package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Median returns the middle value of v (the mean of the two middle ones
// for an even count); 0 for none. v is left as it was.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile returns the p-quantile (p from 0 to 1) of ds, which need not
// be sorted: the value below which a share p of them lie; 0 for none. ds
// is left as it was.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// Join writes every run's figure with format, separated by commas: the
// "each run" column beside a median.
func Join(v []float64, format string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(s, ", ")
}

// Mark is the word a table shows for a target: "met" or "MISSED".
func Mark(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// Targets collects a row's targets, each marked met or missed, for its
// "target or note" cell.
type Targets struct {
	checks []string
}

// Check adds the target what, met if ok.
func (t *Targets) Check(ok bool, what string) {
	t.checks = append(t.checks, Mark(ok)+": "+what)
}

// String is the targets in the order checked, separated by semicolons.
func (t *Targets) String() string {
	return strings.Join(t.checks, "; ")
}
