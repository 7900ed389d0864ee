package manager

import (
	"bytes"
	"io"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
)

// job is one unit of work (the moves of one source and target) that may run
// beside others. Jobs that share a node run in their order; the output of
// every job is printed in job order, as the same work done one job after
// the other would print it.
type job struct {
	nodes []*Node
	run   func(m *Manager) error
}

// runJobs runs jobs, at most parallel at a time, with redis-cli's output
// unchanged. No job starts after one has failed; it returns the first
// failure in job order.
func (m *Manager) runJobs(jobs []job, parallel int) error {
	if parallel < 1 {
		parallel = 1
	}
	out := newOrderedWriter(m.P.Out, len(jobs))
	done := make([]chan struct{}, len(jobs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	errs := make([]error, len(jobs))
	var failed sync.Once
	stop := make(chan struct{})
	sem := make(chan struct{}, parallel)
	// stderr is shared by the jobs a line at a time, so that their lines
	// never mix.
	errOut := report.NewLines(m.P.ErrOut)
	var wg sync.WaitGroup
	for i, j := range jobs {
		// Wait for the earlier jobs that share a node with this one, then
		// for a free slot. A failed job closes stop before it frees its
		// node or slot, so a job that waited for it always sees stop here.
		for k := 0; k < i; k++ {
			if sharesNode(jobs[k], j) {
				<-done[k]
			}
		}
		sem <- struct{}{}
		if stopped(stop) {
			<-sem
			for k := i; k < len(jobs); k++ {
				close(done[k])
				out.finish(k)
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			wm := *m
			stderr := errOut.Writer()
			wm.P = m.P.WithOut(out.writer(i), stderr)
			errs[i] = j.run(&wm)
			if err := stderr.Flush(); errs[i] == nil {
				errs[i] = err
			}
			if errs[i] != nil {
				failed.Do(func() { close(stop) })
			}
			out.finish(i)
			close(done[i])
		}()
	}
	wg.Wait()
	return firstErr(errs)
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func sharesNode(a, b job) bool {
	for _, x := range a.nodes {
		for _, y := range b.nodes {
			if x == y {
				return true
			}
		}
	}
	return false
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// orderedWriter lets n writers write concurrently while the output reads as
// if writer 0 wrote everything, then writer 1, and so on: the current writer
// writes through, later ones are buffered until their turn.
type orderedWriter struct {
	mu   sync.Mutex
	out  io.Writer
	cur  int
	bufs []bytes.Buffer
	done []bool
}

func newOrderedWriter(out io.Writer, n int) *orderedWriter {
	return &orderedWriter{out: out, bufs: make([]bytes.Buffer, n), done: make([]bool, n)}
}

type orderedPart struct {
	o *orderedWriter
	i int
}

func (o *orderedWriter) writer(i int) io.Writer { return orderedPart{o, i} }

func (p orderedPart) Write(b []byte) (int, error) {
	p.o.mu.Lock()
	defer p.o.mu.Unlock()
	if p.i == p.o.cur {
		return p.o.out.Write(b)
	}
	return p.o.bufs[p.i].Write(b)
}

// finish marks writer i done and hands the output over to the next ones.
func (o *orderedWriter) finish(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[i] = true
	for o.cur < len(o.done) && o.done[o.cur] {
		o.cur++
		if o.cur < len(o.bufs) {
			_, _ = o.out.Write(o.bufs[o.cur].Bytes()) // stdout is a CheckedWriter: a failed write fails the run
			o.bufs[o.cur].Reset()
		}
	}
}
