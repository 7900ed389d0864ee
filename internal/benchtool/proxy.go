package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rcluster/rcluster/internal/delayproxy"
)

// proxyMain forwards listen:port to target:port for every port given, each
// direction delayed, until SIGINT or SIGTERM. It prints "ready" once every
// port listens.
func proxyMain(args []string) {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	delay := fs.Duration("delay", time.Millisecond, "delay of each direction (a round trip costs twice this)")
	listen := fs.String("listen", "127.0.0.2", "host to listen on")
	target := fs.String("target", "127.0.0.1", "host to forward to")
	portList := fs.String("ports", "", "ports, as FROM-TO or single ports, separated by commas")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits
	ports, err := parsePorts(*portList)
	if err != nil || len(ports) == 0 {
		fmt.Fprintf(os.Stderr, "proxy: bad -ports %q\n", *portList)
		os.Exit(2)
	}
	var proxies []*delayproxy.Proxy
	for _, port := range ports {
		p, err := delayproxy.Listen(net.JoinHostPort(*listen, strconv.Itoa(port)), net.JoinHostPort(*target, strconv.Itoa(port)), *delay)
		if err != nil {
			fmt.Fprintln(os.Stderr, "proxy:", err)
			os.Exit(1)
		}
		proxies = append(proxies, p)
	}
	fmt.Printf("ready: %d ports on %s, %v each way\n", len(ports), *listen, *delay)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, p := range proxies {
		_ = p.Close()
	}
}

func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(from)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(to); err != nil {
				return nil, err
			}
		}
		for p := a; p <= b; p++ {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
