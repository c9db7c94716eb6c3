//go:build !linux

package storage

import "os"

// directFile is unavailable off Linux: writes stay buffered.
func (s *Files) directFile(*handle) (*os.File, error) { return nil, errDirectUnsupported }

func directRefused(error) bool { return false }

// adviseHuge is Linux-only advice; elsewhere b keeps the system's pages.
func adviseHuge([]byte) {}
