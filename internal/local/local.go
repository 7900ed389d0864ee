// Package local runs a throwaway Redis Cluster made of redis-server processes
// on this machine, for `rcluster local up/down/status`: it writes each node's
// config file, starts the daemons, records what it started in a state file
// and stops exactly those processes again.
//
// Every node lives in DIR/PORT (redis.conf, nodes.conf, dump.rdb,
// redis.pid, redis.log); DIR/local.json records the nodes and their pids.
package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/node"
)

// ServerBinary is the program looked up in PATH.
const ServerBinary = "redis-server"

// StateFileName is the state file in the cluster directory.
const StateFileName = "local.json"

// BusPortOffset is the distance of a node's cluster bus port from its port.
const BusPortOffset = 10000

// ErrNoServer is returned by FindServer when redis-server is not in PATH.
var ErrNoServer = errors.New("redis-server was not found in PATH")

// FindServer returns the path of redis-server.
func FindServer() (string, error) {
	p, err := exec.LookPath(ServerBinary)
	if err != nil {
		return "", ErrNoServer
	}
	return p, nil
}

// Node is one server of the local cluster.
type Node struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Pid  int    `json:"pid"`
	// Dir is the node's directory (absolute): the daemon's working directory.
	Dir string `json:"dir"`
}

// Addr returns "host:port".
func (n Node) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// State is what `local up` started, as recorded in DIR/local.json.
type State struct {
	// Dir is the cluster directory (absolute).
	Dir string `json:"dir"`
	// Server is the redis-server binary that was started.
	Server  string    `json:"server"`
	Started time.Time `json:"started"`
	Nodes   []Node    `json:"nodes"`
}

// StatePath returns the state file of the cluster directory dir.
func StatePath(dir string) string { return filepath.Join(dir, StateFileName) }

// LoadState reads dir's state file; the error wraps fs.ErrNotExist when
// there is none.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(StatePath(dir))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatePath(dir), err)
	}
	return &s, nil
}

// Save writes the state file atomically.
func (s *State) Save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := StatePath(s.Dir) + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, StatePath(s.Dir))
}

// RemoveState deletes dir's state file (and nothing else).
func RemoveState(dir string) error {
	err := os.Remove(StatePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Config is one node's configuration.
type Config struct {
	Host string
	Port int
	// Dir is the node's directory (absolute).
	Dir string
	// NodeTimeoutMS is cluster-node-timeout; 0 means 5000.
	NodeTimeoutMS int
	// Password, if set, becomes requirepass and masterauth.
	Password string
	// KeepData keeps the nodes.conf and data files of an earlier run, so
	// that the node comes back as the cluster member it was, with its keys.
	KeepData bool
}

// File names inside a node's directory.
const (
	ConfigFile  = "redis.conf"
	NodesFile   = "nodes.conf"
	PidFile     = "redis.pid"
	LogFile     = "redis.log"
	DataFile    = "dump.rdb"
	defaultNode = 5000
)

// DataFiles are the files and directories of a node's directory that hold
// its cluster membership and keys: a fresh start removes them.
var DataFiles = []string{NodesFile, DataFile, "appendonly.aof", "appendonlydir"}

// Text returns the redis.conf of the node.
func (c Config) Text() string {
	timeout := c.NodeTimeoutMS
	if timeout <= 0 {
		timeout = defaultNode
	}
	lines := []string{
		"# Written by rcluster local up; rewritten at every start.",
		"port " + strconv.Itoa(c.Port),
		"bind " + c.Host,
		"daemonize yes",
		"dir " + quote(c.Dir),
		"pidfile " + quote(filepath.Join(c.Dir, PidFile)),
		"logfile " + quote(filepath.Join(c.Dir, LogFile)),
		"cluster-enabled yes",
		"cluster-config-file " + NodesFile,
		"cluster-node-timeout " + strconv.Itoa(timeout),
		// A save point makes redis-server write dump.rdb when it is
		// stopped, which `local up --keep-data` starts from.
		"save 3600 1",
		"appendonly no",
	}
	if c.Password != "" {
		lines = append(lines, "requirepass "+quote(c.Password), "masterauth "+quote(c.Password))
	}
	return strings.Join(lines, "\n") + "\n"
}

// quote writes a config value as a double-quoted string (redis.conf reads
// the escapes Go's strconv.Quote writes for printable text).
func quote(s string) string { return strconv.Quote(s) }

// WriteConfig creates the node's directory and writes its redis.conf; it
// removes the pid file of an earlier run and, unless c.KeepData, its
// nodes.conf and data (DataFiles) so that the node starts empty. It returns
// the config file's path.
func WriteConfig(c Config) (string, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", err
	}
	remove := []string{PidFile}
	if !c.KeepData {
		remove = append(remove, DataFiles...)
	}
	for _, name := range remove {
		if err := os.RemoveAll(filepath.Join(c.Dir, name)); err != nil {
			return "", err
		}
	}
	path := filepath.Join(c.Dir, ConfigFile)
	perm := os.FileMode(0o644)
	if c.Password != "" {
		perm = 0o600
	}
	if err := os.WriteFile(path, []byte(c.Text()), perm); err != nil {
		return "", err
	}
	return path, os.Chmod(path, perm)
}

// HasClusterConfig reports whether the node directory dir holds the
// nodes.conf of an earlier run.
func HasClusterConfig(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, NodesFile))
	return err == nil && fi.Size() > 0
}

// BusyPort is a port that cannot be listened on.
type BusyPort struct {
	Port int
	// Bus is set when Port is the cluster bus port of node port Port-10000.
	Bus bool
}

// BusyPorts returns, in order, the ports (and cluster bus ports) among
// ports that cannot be listened on at host.
func BusyPorts(host string, ports []int) []BusyPort {
	var busy []BusyPort
	for _, p := range ports {
		if !CanListen(host, p) {
			busy = append(busy, BusyPort{Port: p})
		}
		if !CanListen(host, p+BusPortOffset) {
			busy = append(busy, BusyPort{Port: p + BusPortOffset, Bus: true})
		}
	}
	return busy
}

// CanListen reports whether a TCP listener can be opened on host:port.
func CanListen(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// Start writes the node's config and starts redis-server (server) on it,
// then waits until the daemon wrote its pid file and answers PING. It
// returns the node with its pid.
func Start(ctx context.Context, server string, c Config, timeout time.Duration) (Node, error) {
	n := Node{Host: c.Host, Port: c.Port, Dir: c.Dir}
	conf, err := WriteConfig(c)
	if err != nil {
		return n, err
	}
	logPath := filepath.Join(c.Dir, LogFile)
	var logOffset int64
	if fi, err := os.Stat(logPath); err == nil {
		logOffset = fi.Size()
	}
	// With daemonize yes the command returns once the daemon has forked;
	// configuration errors are printed before that.
	cmd := exec.CommandContext(ctx, server, conf)
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return n, fmt.Errorf("%s %s: %v: %s", server, conf, err, lastLines(out.String(), 5))
	}
	deadline := time.Now().Add(timeout)
	for {
		if n.Pid == 0 {
			n.Pid = readPid(filepath.Join(c.Dir, PidFile))
		}
		log := logSince(logPath, logOffset)
		// A daemon that fails (a port taken meanwhile) exits before it
		// writes its pid file, but its log lines carry its pid.
		if pid := n.Pid; pid != 0 || logPid(log) != 0 {
			if pid == 0 {
				pid = logPid(log)
			}
			if !Alive(pid) {
				return Node{Host: c.Host, Port: c.Port, Dir: c.Dir}, fmt.Errorf("redis-server %s exited at start-up: %s", n.Addr(), lastLines(log, 3))
			}
		}
		// The log line proves that this daemon, not another process that
		// happens to own the port, bound its sockets.
		if n.Pid != 0 && strings.Contains(log, "Ready to accept connections") && ping(n.Addr()) {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("redis-server %s did not start within %v: %s", n.Addr(), timeout, lastLines(log, 3))
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// logPid returns the pid of the last log line ("PID:ROLE date ..."), 0 if
// there is none.
func logPid(log string) int {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		head, _, ok := strings.Cut(lines[i], ":")
		if !ok {
			continue
		}
		if pid, err := strconv.Atoi(head); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

func logSince(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < off {
		return ""
	}
	return string(b[off:])
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ping reports whether a server answers PING at addr (node.PingConn).
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	return node.PingConn(c)
}
