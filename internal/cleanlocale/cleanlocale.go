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
