package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// rttMain prints, in seconds, the median time of a PING to one node: the
// round trip the delay proxy really gives (its nominal 2 x DELAY plus its
// own scheduling), which the latency benchmark's floor is computed from.
func rttMain(args []string) {
	fs := flag.NewFlagSet("rtt", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:30001", "the node to ping")
	n := fs.Int("n", 200, "number of PINGs")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits

	c := redis.NewClient(&redis.Options{Addr: *addr, Protocol: 2, DisableIdentity: true, PoolSize: 1})
	defer c.Close()
	ctx := context.Background()
	times := make([]time.Duration, 0, *n)
	for i := 0; i < *n+1; i++ {
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if i > 0 { // the first one also connects
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	fmt.Printf("%.6f\n", times[len(times)/2].Seconds())
}
