//go:build !(unix && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le))

package storage

import "errors"

// canMap: content is not mapped here; uploads are read into buffers.
const canMap = false

func mapFD(int, int64) ([]byte, error) { return nil, errors.New("storage: mmap not supported here") }

func unmapFile([]byte) error { return nil }
