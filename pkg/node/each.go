package node

import (
	"context"
	"sync"
)

// Each runs f for every index in [0, n) concurrently, at most 64 at once,
// and waits for all: one round trip to many nodes at a time.
func Each(n int, f func(i int)) {
	const limit = 64
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// PipelineAll sends cmds to c in pipelines of 1024 and returns every
// result, in order: a node is not asked thousands of commands in one
// round trip.
func PipelineAll(ctx context.Context, c Client, cmds []Cmd) []Result {
	const batch = 1024
	out := make([]Result, 0, len(cmds))
	for len(cmds) > 0 {
		k := min(batch, len(cmds))
		out = append(out, c.Pipeline(ctx, cmds[:k])...)
		cmds = cmds[k:]
	}
	return out
}
