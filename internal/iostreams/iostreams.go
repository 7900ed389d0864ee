// Package iostreams holds the standard streams of one rcluster run and the
// decisions that depend on them, such as whether to color the output.
package iostreams

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// Color is redis-cli's rule: on when TERM contains "xterm", whether or not
	// stdout is a terminal; NO_COLOR turns it off.
	Color bool
	// ErrTTY reports whether stderr is a terminal (progress bars go there).
	ErrTTY bool
	// OutTTY reports whether stdout is a terminal.
	OutTTY bool

	in *bufio.Reader
}

// System returns the process' streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		Color:  ColorFromEnv(os.Getenv),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// ColorFromEnv applies redis-cli's color rule to an environment.
func ColorFromEnv(getenv func(string) string) bool {
	if _, set := lookup(getenv, "NO_COLOR"); set {
		return false
	}
	return strings.Contains(getenv("TERM"), "xterm")
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// Test returns streams backed by buffers: stdin, stdout, stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Reader returns one buffered reader over In, shared by every prompt of the
// run so that piped answers are consumed line by line.
func (s *IOStreams) Reader() *bufio.Reader {
	if s.in == nil {
		s.in = bufio.NewReader(s.In)
	}
	return s.in
}

// CheckedWriter passes writes to W and keeps the first error, so that a run
// whose output was cut (a full disk, a closed pipe) can end in failure
// even where the writer's caller had no way to report it.
type CheckedWriter struct {
	W   io.Writer
	mu  sync.Mutex
	err error
}

func (c *CheckedWriter) Write(b []byte) (int, error) {
	n, err := c.W.Write(b)
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// Err is the first write error, or nil.
func (c *CheckedWriter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
