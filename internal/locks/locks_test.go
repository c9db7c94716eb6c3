package locks

import "testing"

// TestMutexLocks: the type works as a mutex in either build.
func TestMutexLocks(t *testing.T) {
	var mu Mutex
	mu.Lock()
	locked := !mu.TryLock()
	mu.Unlock()
	if !locked {
		t.Fatal("a locked Mutex could be locked again")
	}
}
