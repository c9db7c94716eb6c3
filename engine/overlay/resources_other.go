//go:build !unix

package overlay

// descriptorsAllow assumes room where there is no descriptor limit to read.
func descriptorsAllow(int) bool { return true }
