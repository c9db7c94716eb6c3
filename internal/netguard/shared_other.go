//go:build !(linux && (amd64 || arm64 || 386 || arm || riscv64 || ppc64 || ppc64le || s390x || loong64))

package netguard

// setReuse does nothing off Linux (or where SO_REUSEPORT is not 15): TCP hole punching from the listen
// port is then left to uTP.
func setReuse(uintptr) error { return nil }
