package delayproxy

import (
	"bytes"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"
)

// echoServer answers every connection with what it reads and closes after
// the peer's half close.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T, delay time.Duration) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", echoServer(t), delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c.(*net.TCPConn)
}

// Bytes arrive complete and in order, in both directions, with writes of
// every size interleaved with reads; the half close passes through.
func TestBytesAndOrderKept(t *testing.T) {
	p := startProxy(t, time.Millisecond)
	c := dial(t, p)
	data := make([]byte, 4<<20)
	rand.New(rand.NewSource(1)).Read(data)
	go func() {
		rest := data
		r := rand.New(rand.NewSource(2))
		for len(rest) > 0 {
			n := min(len(rest), 1+r.Intn(100000))
			if _, err := c.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, want the %d sent, in order", len(got), len(data))
	}
}

// A request answered at once takes one round trip of the proxy: 2*delay.
func TestRoundTripIsTwiceTheDelay(t *testing.T) {
	const delay = 20 * time.Millisecond
	p := startProxy(t, delay)
	c := dial(t, p)
	buf := make([]byte, 4)
	for i := 0; i < 5; i++ {
		start := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		rtt := time.Since(start)
		if rtt < 2*delay || rtt > 2*delay+100*time.Millisecond {
			t.Fatalf("round trip %v, want about %v", rtt, 2*delay)
		}
	}
}

// Chunks sent one after the other are delayed together, not one delay
// after the other: 50 writes 2 ms apart through a 20 ms proxy all come back
// within about 100 ms + 40 ms, where a sleep per read would take over 2 s.
func TestDelayDoesNotSerialise(t *testing.T) {
	const delay = 20 * time.Millisecond
	p := startProxy(t, delay)
	c := dial(t, p)
	const writes = 50
	start := time.Now()
	go func() {
		for i := 0; i < writes; i++ {
			c.Write([]byte{byte(i)})
			time.Sleep(2 * time.Millisecond)
		}
	}()
	buf := make([]byte, writes)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	for i, b := range buf {
		if b != byte(i) {
			t.Fatalf("byte %d is %d: order lost", i, b)
		}
	}
	if took < 2*delay || took > 700*time.Millisecond {
		t.Fatalf("50 writes took %v; want about %v", took, writes*2*time.Millisecond+2*delay)
	}
}

// Close ends the listener and every forwarded connection.
func TestCloseEndsConnections(t *testing.T) {
	p := startProxy(t, time.Millisecond)
	c := dial(t, p)
	c.Write([]byte("x"))
	io.ReadFull(c, make([]byte, 1))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after Close")
	}
	if _, err := net.DialTimeout("tcp", p.Addr().String(), time.Second); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}

// A target that is down: the client's connection is closed, nothing hangs.
func TestTargetDown(t *testing.T) {
	// Port 0 refuses every connection; a port closed by the test could be
	// taken by another process meanwhile.
	p, err := Listen("127.0.0.1:0", "127.0.0.1:0", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := dial(t, p)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read from a proxy to nowhere: %v, want EOF", err)
	}
}
