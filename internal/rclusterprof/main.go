// Command rclusterprof is rcluster with profiles, to find where a command
// spends its time and memory (docs/performance.md, "known causes"):
//
//	RCLUSTER_CPUPROFILE=cpu.out RCLUSTER_TRACE=trace.out RCLUSTER_HEAPPROFILE=heap.out \
//	  go run ./internal/rclusterprof check 127.0.0.1:7000
//	go tool pprof -top cpu.out; go tool trace trace.out
//
// With RCLUSTER_MEMSTATS=1 it prints, on stderr at exit, the largest heap,
// the memory the Go runtime held from the system during the run and the
// total allocated.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"

	"github.com/rcluster/rcluster/internal/cli"
	"github.com/rcluster/rcluster/internal/iostreams"
)

func main() {
	os.Exit(run())
}

func run() int {
	if path := os.Getenv("RCLUSTER_CPUPROFILE"); path != "" {
		f := create(path)
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("RCLUSTER_TRACE"); path != "" {
		f := create(path)
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fail(err)
		}
		defer trace.Stop()
	}
	if os.Getenv("RCLUSTER_MEMSTATS") != "" {
		stop := watchMemory()
		defer stop()
	}
	code := cli.Main(os.Args[1:], iostreams.System(), os.Getenv)
	if path := os.Getenv("RCLUSTER_HEAPPROFILE"); path != "" {
		f := create(path)
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fail(err)
		}
	}
	return code
}

// watchMemory samples the runtime's memory every 5 ms until stopped, then
// prints the peaks.
func watchMemory() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var heap, sys, stacks uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap, sys, stacks = max(heap, ms.HeapInuse), max(sys, ms.Sys), max(stacks, ms.StackInuse)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		sample()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "memstats: peak heap in use %d KB, stacks %d KB, runtime total from the OS %d KB, allocated %d KB, %d goroutines at exit\n",
			heap>>10, stacks>>10, sys>>10, ms.TotalAlloc>>10, runtime.NumGoroutine())
	}
}

func create(path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	return f
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rclusterprof:", err)
	os.Exit(1)
}
