// Package cleanlocale stops Fyne from complaining about the C locale.
//
// Fyne's lang package reads the locale from LC_ALL, LC_MESSAGES and LANG
// when it is initialised and logs "Fyne error: Error parsing user locale C"
// for the POSIX locale (C, C.UTF-8, POSIX), which is the default on
// servers, in containers and under Xvfb, so every command printed it, the
// CLI verbs included. This package's init runs before Fyne's (it imports
// only what Fyne's lang package imports first, and Go initialises ready
// packages in import-path order; TestNoLocaleComplaint in app checks it)
// and gives such variables the user's language from another of them, or
// English. Import it for its side effect
// from package main, first.
package cleanlocale

import (
	"os"
	"strings"
)

// Original holds the values it replaced, by variable name.
var Original = map[string]string{}

func init() {
	names := []string{"LC_ALL", "LC_MESSAGES", "LANG"}
	lang := "en_US.UTF-8"
	for _, name := range names {
		if v := os.Getenv(name); v != "" && !isPOSIX(v) {
			lang = v // the user's own language, where one is set
			break
		}
	}
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok && isPOSIX(v) {
			Original[name] = v
			os.Setenv(name, lang)
		}
	}
}

// isPOSIX reports whether v names the C/POSIX locale, which has no
// language for Fyne to parse.
func isPOSIX(v string) bool {
	base, _, _ := strings.Cut(v, ".")
	return base == "C" || base == "POSIX"
}
