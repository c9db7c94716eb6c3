//go:build !unix

package sim

// RaiseFileLimit does nothing where there is no descriptor limit to raise.
func RaiseFileLimit() (uint64, error) { return 0, nil }
