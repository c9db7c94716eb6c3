package storage

import (
	"errors"
	"fmt"
	"unsafe"
)

// DirectAlign is the alignment, in memory and on disk, that writes which
// bypass the page cache need. Buffers meant for WriteThrough should come
// from AlignedBuffer.
const DirectAlign = 4096

// AlignedBuffer returns a zeroed buffer of n bytes whose first byte sits
// at a multiple of DirectAlign, so WriteThrough can hand it to the disk
// without copying.
func AlignedBuffer(n int) []byte {
	raw := make([]byte, n+DirectAlign)
	skip := (DirectAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))))%DirectAlign) % DirectAlign
	return raw[skip : skip+n : skip+n]
}

// hugePage is the size of a transparent huge page on the common 64-bit
// systems (x86-64, arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// HugeBuffer is AlignedBuffer for a large arena that lives long: its n
// bytes start on a huge-page boundary and, where the system offers it
// (Linux's MADV_HUGEPAGE), are backed by transparent huge pages once
// touched. A piece buffer arena of 32 MiB then costs 16 page faults
// instead of 8192, direct writes pin a few large pages instead of 256
// small ones per MiB, and hashing and copying miss the TLB less. The
// memory is ordinary Go heap: it is freed when the last slice of it goes.
// Below one huge page it is just AlignedBuffer.
func HugeBuffer(n int) []byte {
	if n < hugePage {
		return AlignedBuffer(n)
	}
	raw := make([]byte, n+hugePage)
	skip := (hugePage - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))))%hugePage) % hugePage
	b := raw[skip : skip+n : skip+n]
	adviseHuge(b)
	return b
}

// aligned reports whether b starts at a multiple of DirectAlign.
func aligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%DirectAlign == 0
}

// WriteThrough writes p at offset off of the torrent's byte space like
// WriteAt, but sends the whole aligned pages of each file straight to the
// disk (O_DIRECT on Linux) rather than through the page cache. It is for
// data that is final, such as a verified piece: a download then costs no
// page-cache copy, which on some machines is the slowest step of all.
// Unaligned heads and tails, filesystems that refuse direct I/O, and other
// systems fall back to WriteAt's path. Durability still needs SyncPiece.
func (s *Files) WriteThrough(p []byte, off int64) (int, error) {
	return s.span(p, off, s.writeThroughFile)
}

// writeThroughFile writes chunk at offset at of file i: the aligned middle
// directly when it can, the rest buffered.
func (s *Files) writeThroughFile(i int, chunk []byte, at int64) (int, error) {
	n := int64(len(chunk)) / DirectAlign * DirectAlign
	if s.layout.Files[i].Pad || s.noDirect.Load() || at%DirectAlign != 0 || n == 0 || !aligned(chunk) {
		return s.segment(i, chunk, at, true)
	}
	done, err := s.writeDirect(i, chunk[:n], at)
	if errors.Is(err, errDirectUnsupported) {
		s.noDirect.Store(true)
		return s.segment(i, chunk, at, true)
	}
	if err != nil {
		return done, err
	}
	m, err := s.segment(i, chunk[n:], at+n, true)
	return done + m, err
}

// errDirectUnsupported means direct writes are not possible here (the
// system or the filesystem refuses them); buffered writes still work.
var errDirectUnsupported = errors.New("storage: direct I/O unsupported")

// writeDirect writes an aligned chunk through file i's direct handle.
func (s *Files) writeDirect(i int, chunk []byte, at int64) (int, error) {
	h, err := s.acquire(i, true)
	if err != nil {
		return 0, err
	}
	defer s.release(h)
	d, err := s.directFile(h)
	if err != nil {
		return 0, err
	}
	n, err := d.WriteAt(chunk, at)
	if err != nil {
		if directRefused(err) && n == 0 {
			return 0, fmt.Errorf("%w: %w", errDirectUnsupported, err)
		}
		return n, fmt.Errorf("storage: write %s: %w", s.layout.Files[i].Path, err)
	}
	return n, nil
}
