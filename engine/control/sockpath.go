package control

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// maxSockPath is the longest socket path bind and connect take directly
// (sun_path is 108 bytes on Linux, 104 on the BSDs, with a final NUL).
const maxSockPath = 103

// shortPath returns a name for the socket file at path that fits in a
// sockaddr_un. A data folder deep enough to pass the limit is reached on
// Linux through /proc/self/fd, by a descriptor of the folder held until
// done is called.
func shortPath(path string) (name string, done func(), err error) {
	if len(path) <= maxSockPath {
		return path, func() {}, nil
	}
	if runtime.GOOS != "linux" {
		return "", nil, fmt.Errorf("socket path %s is %d bytes, longer than the system allows (%d)", path, len(path), maxSockPath)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return "", nil, err
	}
	name = fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	if len(name) > maxSockPath {
		dir.Close()
		return "", nil, fmt.Errorf("socket name %s is too long", filepath.Base(path))
	}
	return name, func() { dir.Close() }, nil
}
