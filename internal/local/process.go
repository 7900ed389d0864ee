package local

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ownership is what a recorded pid is now.
type Ownership int

const (
	// Gone: no process has the pid (or it is a zombie).
	Gone Ownership = iota
	// Ours: the pid is a redis-server running in the node's directory or
	// serving the node's port.
	Ours
	// Foreign: the pid now belongs to another process; it must not be touched.
	Foreign
)

func (o Ownership) String() string {
	switch o {
	case Gone:
		return "not running"
	case Ours:
		return "running"
	}
	return "pid reused by another process"
}

// procInfo is what the system tells about a process.
type procInfo struct {
	// cmdline is the command line (argv joined by spaces); redis-server
	// rewrites it to "redis-server HOST:PORT [cluster]".
	cmdline string
	// cwd is the working directory, "" when it cannot be read.
	cwd string
}

// Check tells whether n's recorded pid is still n's redis-server.
func Check(n Node) Ownership {
	if n.Pid <= 0 || !Alive(n.Pid) {
		return Gone
	}
	info, ok := readProc(n.Pid)
	if !ok {
		if !Alive(n.Pid) {
			return Gone
		}
		return Foreign
	}
	return owns(n, info)
}

// owns applies the rule: the process is a redis-server (or valkey-server)
// and its working directory is the node's directory or its command line
// names the node's port.
func owns(n Node, info procInfo) Ownership {
	fields := strings.Fields(info.cmdline)
	if len(fields) == 0 {
		return Foreign
	}
	switch filepath.Base(fields[0]) {
	case "redis-server", "valkey-server":
	default:
		return Foreign
	}
	if info.cwd != "" && sameDir(info.cwd, n.Dir) {
		return Ours
	}
	suffix := ":" + strconv.Itoa(n.Port)
	for _, f := range fields[1:] {
		if strings.HasSuffix(f, suffix) {
			return Ours
		}
	}
	return Foreign
}

func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// StopResult is what Stop did.
type StopResult int

const (
	// Stopped: the process was ours and has exited.
	Stopped StopResult = iota
	// NotRunning: the pid was not running any more.
	NotRunning
	// LeftAlone: the pid belongs to another process, which was not signalled.
	LeftAlone
)

// Stop sends SIGTERM to n's redis-server after checking that the pid is
// still it, waits up to timeout for it to exit, then sends SIGKILL.
func Stop(n Node, timeout time.Duration) (StopResult, error) {
	switch Check(n) {
	case Gone:
		return NotRunning, nil
	case Foreign:
		return LeftAlone, nil
	}
	if err := terminate(n.Pid); err != nil {
		return Stopped, fmt.Errorf("stopping %s (pid %d): %w", n.Addr(), n.Pid, err)
	}
	if waitGone(n.Pid, timeout) {
		return Stopped, nil
	}
	if err := kill(n.Pid); err != nil {
		return Stopped, fmt.Errorf("killing %s (pid %d): %w", n.Addr(), n.Pid, err)
	}
	if waitGone(n.Pid, 5*time.Second) {
		return Stopped, nil
	}
	return Stopped, fmt.Errorf("%s (pid %d) did not exit", n.Addr(), n.Pid)
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for Alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
