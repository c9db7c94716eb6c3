package cleanlocale

import "testing"

func TestIsPOSIX(t *testing.T) {
	for v, want := range map[string]bool{"C": true, "C.UTF-8": true, "POSIX": true,
		"en_GB.UTF-8": false, "de_DE": false, "Cyrl": false} {
		if isPOSIX(v) != want {
			t.Errorf("isPOSIX(%q) = %v, want %v", v, !want, want)
		}
	}
}
