package move

import "sync"

// runJobs runs jobs 0..n-1, at most parallel at a time, a job only after
// every earlier one it conflicts with has ended. No job starts after one
// has failed; it returns the first failure in job order.
func runJobs(n int, conflict func(a, b int) bool, parallel int, run func(i int) error) error {
	if parallel < 1 {
		parallel = 1
	}
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	errs := make([]error, n)
	var failed sync.Once
	stop := make(chan struct{})
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		// Wait for the earlier jobs this one conflicts with, then for a
		// free slot. A failed job closes stop before it frees its slot or
		// ends, so a job that waited for it always sees stop here.
		for k := 0; k < i; k++ {
			if conflict(k, i) {
				<-done[k]
			}
		}
		sem <- struct{}{}
		if stopped(stop) {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			defer func() { <-sem }()
			if errs[i] = run(i); errs[i] != nil {
				failed.Do(func() { close(stop) })
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
