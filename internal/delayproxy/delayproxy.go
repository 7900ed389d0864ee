// Package delayproxy is a TCP proxy that delays each direction of every
// connection by a fixed time, for tests and benchmarks that need a network
// round trip on one machine (netem is not available everywhere).
//
// Every chunk read from one side is stamped with the time it arrived and
// written to the other side once Delay has passed since that stamp. Reading
// goes on while earlier chunks wait, so a connection keeps its throughput and
// only gains latency: a request answered at once costs 2*Delay, a pipeline
// of them costs 2*Delay in all, not 2*Delay each.
package delayproxy

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Proxy accepts connections on its listener and forwards each to Target.
type Proxy struct {
	Target string
	Delay  time.Duration

	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

// Listen starts a proxy on addr that forwards to target with delay each way.
func Listen(addr, target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Target: target, Delay: delay, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Close stops accepting, closes every forwarded connection and waits for
// their goroutines to end.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.done = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// track registers c so that Close closes it; false once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// dialTimeout bounds the connection to the target.
const dialTimeout = 5 * time.Second

// forward joins client to a new connection to the target until both
// directions have ended.
func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.Target, dialTimeout)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	defer server.Close()
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); pipe(server, client, p.Delay) }()
	go func() { defer both.Done(); pipe(client, server, p.Delay) }()
	both.Wait()
}

// chunk is one read from the source and the time it may be written.
type chunk struct {
	data []byte
	due  time.Time
}

// queuedChunks bounds the bytes in flight per direction (at most this many
// reads of up to readSize bytes, 2 MiB: 400 MB/s at 5 ms), so a slow reader
// slows its writer down as a real network's window would. Both stay small
// because a 60-node cluster bus alone is 3,500 connections.
const (
	queuedChunks = 128
	readSize     = 16 << 10
)

// pipe copies src to dst, each chunk Delay after it was read. When src
// ends, dst's write side is closed (a half close passes through); when
// either side fails, both are closed.
func pipe(dst, src net.Conn, delay time.Duration) {
	queue := make(chan chunk, queuedChunks)
	go func() {
		defer close(queue)
		buf := make([]byte, readSize)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range queue {
		if failed {
			continue // drain so that the reader can end
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			src.Close()
			dst.Close()
		}
	}
	if failed {
		return
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}
