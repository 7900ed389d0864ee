package manager

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rcluster/rcluster/internal/report"
)

// TestRunJobsNoStartAfterFailure runs a failing job and a later one many
// times: the later job waits for the failing one (it shares its node, or
// waits for its slot of parallelism) and must never start.
func TestRunJobsNoStartAfterFailure(t *testing.T) {
	cases := []struct {
		name     string
		parallel int
		shared   bool
	}{
		{"shares a node", 2, true},
		{"waits for a slot", 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for trial := 0; trial < 200; trial++ {
				m := &Manager{P: &report.Printer{Out: io.Discard, ErrOut: io.Discard}}
				a, b := &Node{}, &Node{}
				second := b
				if c.shared {
					second = a
				}
				var started atomic.Bool
				fail := errors.New("move failed")
				jobs := []job{
					{nodes: []*Node{a}, run: func(*Manager) error { return fail }},
					{nodes: []*Node{second}, run: func(*Manager) error { started.Store(true); return nil }},
				}
				if err := m.runJobs(jobs, c.parallel); err != fail {
					t.Fatalf("trial %d: runJobs = %v, want the first job's error", trial, err)
				}
				if started.Load() {
					t.Fatalf("trial %d: a job started after an earlier one failed", trial)
				}
			}
		})
	}
}

// TestRunJobsWholeLines has jobs write lines piece by piece to stderr at
// once: every line must come out whole.
func TestRunJobsWholeLines(t *testing.T) {
	var errOut bytes.Buffer
	m := &Manager{P: &report.Printer{Out: io.Discard, ErrOut: &errOut}}
	const jobsN, linesN = 4, 50
	var jobs []job
	var ready sync.WaitGroup
	ready.Add(jobsN)
	for i := 0; i < jobsN; i++ {
		name := string(rune('a' + i))
		jobs = append(jobs, job{nodes: []*Node{{}}, run: func(w *Manager) error {
			ready.Done()
			ready.Wait() // all jobs write at the same time
			for l := 0; l < linesN; l++ {
				w.P.Stderr("%s", name)
				w.P.Stderr("%s", name)
				w.P.Stderr("%s\n", name)
			}
			return nil
		}})
	}
	if err := m.runJobs(jobs, jobsN); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if len(lines) != jobsN*linesN {
		t.Fatalf("got %d lines, want %d", len(lines), jobsN*linesN)
	}
	for _, l := range lines {
		if len(l) != 3 || strings.Count(l, l[:1]) != 3 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}
