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
