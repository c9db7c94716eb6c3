//go:build unix && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package storage

import "syscall"

// canMap: content is mapped on 64-bit Unix systems, where address space
// is plentiful.
const canMap = true

func mapFD(fd int, length int64) ([]byte, error) {
	return syscall.Mmap(fd, 0, int(length), syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmapFile(data []byte) error {
	if data == nil {
		return nil
	}
	return syscall.Munmap(data)
}
