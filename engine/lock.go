package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFile is the name, inside the data folder, of the file whose lock says
// "a Shoal process owns this folder". It holds the owner's PID, for the
// message a second process shows; the lock itself, not the PID, decides.
const lockFile = "shoal.lock"

// ErrDataDirInUse is what Open returns (wrapped in a *DataDirInUseError) when
// another Shoal process already uses the data folder. Test for it with
// errors.Is; errors.As gives the folder and the other process's PID.
var ErrDataDirInUse = errors.New("engine: data folder in use")

// DataDirInUseError says which folder is taken and by which process.
type DataDirInUseError struct {
	Dir string // the data folder, as given in Config.DataDir
	PID int    // the process holding it; 0 when it could not be read
}

// Error is one line for people: what happened and what to do.
func (e *DataDirInUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("Shoal is already running with this data folder (%s, %s). "+
		"Use that window, or quit it first, or pass --data for another folder.", e.Dir, who)
}

// Is makes errors.Is(err, ErrDataDirInUse) hold.
func (e *DataDirInUseError) Is(target error) bool { return target == ErrDataDirInUse }

// dirLock is a held data-folder lock; release gives it up.
type dirLock struct{ f *os.File }

// lockDataDir takes the data folder for this process, before anything in it
// is opened. The lock is an flock(2) on an open file, so the kernel drops it
// when the process dies however it dies: a PID left in the file by a killed
// process is simply overwritten.
func lockDataDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("engine: data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("engine: lock data folder: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: lock data folder: %w", err)
	}
	if !held {
		pid := readPID(f)
		f.Close()
		return nil, &DataDirInUseError{Dir: dir, PID: pid}
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: lock data folder: %w", err)
	}
	return &dirLock{f: f}, nil
}

// release unlocks the folder. The file stays: removing it would race with
// a process that has opened it and is about to lock it.
func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}
