package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestRunDispatch checks the command table against the usage text: every
// verb is listed there and reaches its own flags, help prints the usage,
// and an unknown word is refused with the usage on stderr.
func TestRunDispatch(t *testing.T) {
	for name := range commands {
		if !strings.Contains(usage, "\n  "+name+" ") {
			t.Errorf("usage does not list %q", name)
		}
		var out, errs bytes.Buffer
		if err := run([]string{name, "-h"}, &out, &errs); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("shoal %s -h: %v, want flag.ErrHelp", name, err)
		}
		if !strings.Contains(errs.String(), "Usage of "+name) {
			t.Errorf("shoal %s -h printed %q, want its own flags", name, errs.String())
		}
	}
	var out, errs bytes.Buffer
	if err := run([]string{"help"}, &out, &errs); err != nil || out.String() != usage {
		t.Errorf("shoal help: %v, printed %q", err, out.String())
	}
	out.Reset()
	err := run([]string{"frobnicate"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) || !strings.Contains(errs.String(), "Commands:") {
		t.Errorf("shoal frobnicate: %v, stderr %q", err, errs.String())
	}
}
