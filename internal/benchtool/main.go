// Command benchtool loads and verifies test keys on a cluster for the
// benchmark scripts in scripts/: every value is derived from its key, so a
// verification after a migration proves that no key was lost or changed.
// Its proxy mode puts a delay on the network (see internal/delayproxy).
//
//	go run ./internal/benchtool load   -addr 127.0.0.1:30001 -keys 2000000 -size 100
//	go run ./internal/benchtool verify -addr 127.0.0.1:30001 -keys 2000000 -size 100
//	go run ./internal/benchtool proxy  -delay 1ms -listen 127.0.0.2 -target 127.0.0.1 -ports 30001-30006,40001-40006
//	go run ./internal/benchtool rtt    -addr 127.0.0.2:30001
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "proxy" {
		proxyMain(os.Args[2:])
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "rtt" {
		rttMain(os.Args[2:])
		return
	}
	if len(os.Args) < 2 || (os.Args[1] != "load" && os.Args[1] != "verify") {
		fmt.Fprintln(os.Stderr, "usage: benchtool load|verify -addr HOST:PORT -keys N -size BYTES [-prefix P]")
		fmt.Fprintln(os.Stderr, "       benchtool proxy -delay D -listen HOST -target HOST -ports FROM-TO[,FROM-TO...]")
		fmt.Fprintln(os.Stderr, "       benchtool rtt -addr HOST:PORT [-n N]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:30001", "any node of the cluster")
	keys := fs.Int("keys", 100000, "number of keys")
	size := fs.Int("size", 100, "value size in bytes")
	prefix := fs.String("prefix", "bench", "key prefix")
	password := fs.String("a", "", "password")
	_ = fs.Parse(os.Args[2:]) // ExitOnError: a bad flag exits

	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{*addr}, Password: *password, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	ctx := context.Background()
	start := time.Now()
	var err error
	if os.Args[1] == "load" {
		err = load(ctx, c, *keys, *size, *prefix)
	} else {
		err = verify(ctx, c, *keys, *size, *prefix)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s %d keys of %d bytes in %v\n", os.Args[1], *keys, *size, time.Since(start).Round(time.Millisecond))
}

func key(prefix string, i int) string { return fmt.Sprintf("%s:%d", prefix, i) }

func value(k string, size int) string {
	v := strings.Repeat(k+"|", size/(len(k)+1)+1)
	return v[:size]
}

const batch = 10000

func load(ctx context.Context, c *redis.ClusterClient, n, size int, prefix string) error {
	for i := 0; i < n; i += batch {
		p := c.Pipeline()
		for j := i; j < i+batch && j < n; j++ {
			k := key(prefix, j)
			p.Set(ctx, k, value(k, size), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	return nil
}

func verify(ctx context.Context, c *redis.ClusterClient, n, size int, prefix string) error {
	bad := 0
	for i := 0; i < n; i += batch {
		p := c.Pipeline()
		cmds := make([]*redis.StringCmd, 0, batch)
		for j := i; j < i+batch && j < n; j++ {
			cmds = append(cmds, p.Get(ctx, key(prefix, j)))
		}
		_, _ = p.Exec(ctx) // each command's reply is read below
		for j, cmd := range cmds {
			k := key(prefix, i+j)
			if v, err := cmd.Result(); err != nil || v != value(k, size) {
				if bad < 10 {
					fmt.Fprintf(os.Stderr, "key %s: %v\n", k, err)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("verify: %d of %d keys missing or wrong", bad, n)
	}
	return nil
}
