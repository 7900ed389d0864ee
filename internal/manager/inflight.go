package manager

import (
	"fmt"
	"slices"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
)

// InFlight records what a run has open on the cluster right now (a slot
// being moved or repaired), so that a run ended at once by a signal can
// say what it may have left open. Its methods are safe on a nil InFlight.
type InFlight struct {
	mu   sync.Mutex
	open map[int]string
	next int
}

// start records what and returns the function that forgets it.
func (f *InFlight) start(what string) (done func()) {
	if f == nil {
		return func() {}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open == nil {
		f.open = map[int]string{}
	}
	k := f.next
	f.next++
	f.open[k] = what
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.open, k)
	}
}

// startMove records slots open between src and dst (addresses).
func (f *InFlight) startMove(slots []int, src, dst string) (done func()) {
	return f.start(fmt.Sprintf("%s from %s to %s", report.SlotsText(slots), src, dst))
}

// List is what is open now, in the order it was opened.
func (f *InFlight) List() []string {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]int, 0, len(f.open))
	for k := range f.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = f.open[k]
	}
	return out
}
