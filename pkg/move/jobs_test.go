package move

import (
	"errors"
	"sync/atomic"
	"testing"
)

// TestRunJobsNoStartAfterFailure runs a failing job and a later one many
// times: the later job waits for the failing one (it conflicts with it, or
// waits for its slot of parallelism) and must never start.
func TestRunJobsNoStartAfterFailure(t *testing.T) {
	cases := []struct {
		name     string
		parallel int
		conflict bool
	}{
		{"conflicts", 2, true},
		{"waits for a slot", 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for trial := 0; trial < 200; trial++ {
				var started atomic.Bool
				fail := errors.New("move failed")
				run := func(i int) error {
					if i == 0 {
						return fail
					}
					started.Store(true)
					return nil
				}
				conflict := func(int, int) bool { return c.conflict }
				if err := runJobs(2, conflict, c.parallel, run); err != fail {
					t.Fatalf("trial %d: runJobs = %v, want the first job's error", trial, err)
				}
				if started.Load() {
					t.Fatalf("trial %d: a job started after an earlier one failed", trial)
				}
			}
		})
	}
}

// TestRunJobsConflictsInOrder: jobs that conflict never overlap and run in
// their order; others do run at once.
func TestRunJobsConflictsInOrder(t *testing.T) {
	var running, most atomic.Int32
	var order []int
	var orderMu = make(chan struct{}, 1)
	conflict := func(a, b int) bool { return a%2 == b%2 } // evens conflict, odds conflict
	err := runJobs(6, conflict, 4, func(i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		orderMu <- struct{}{}
		order = append(order, i)
		<-orderMu
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if most.Load() > 2 {
		t.Fatalf("%d jobs ran at once; only one even and one odd may", most.Load())
	}
	last := map[int]int{0: -1, 1: -1}
	for _, i := range order {
		if i < last[i%2] {
			t.Fatalf("job %d ran after job %d it conflicts with: %v", i, last[i%2], order)
		}
		last[i%2] = i
	}
}
