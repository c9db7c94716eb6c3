// Package locks names the mutex type of the engine's owners. A normal
// build uses sync.Mutex; a build with the tag "deadlock" uses
// github.com/sasha-s/go-deadlock, which records the order in which locks
// are taken and reports any two taken in both orders (a deadlock waiting
// to happen) and any lock held too long. Run the suite with it:
//
//	go test -tags 'sqlite_fts5 deadlock' ./engine/...
package locks
