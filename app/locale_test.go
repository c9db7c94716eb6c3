package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoLocaleComplaint runs CLI verbs under the POSIX locale, the default
// on servers and under Xvfb: Fyne used to print "Fyne error: Error parsing
// user locale C" (three lines) at every start, the CLI included.
func TestNoLocaleComplaint(t *testing.T) {
	for _, env := range []string{"LANG=C", "LC_ALL=C.UTF-8", "LC_ALL=POSIX"} {
		var stderr bytes.Buffer
		cmd := exec.Command(shoalBin, "ratio", "--data", t.TempDir())
		cmd.Env = append(cleanEnv(), env)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s shoal ratio: %v\n%s", env, err, stderr.String())
		}
		if strings.Contains(stderr.String(), "locale") {
			t.Errorf("%s: shoal ratio complains about the locale:\n%s", env, stderr.String())
		}
	}
}

// cleanEnv is the environment without locale variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			out = append(out, kv)
		}
	}
	return out
}
