package manager

import (
	"context"
	"errors"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// ErrReported means the failure was already reported in redis-cli's words;
// the command exits 1 without printing anything more.
var ErrReported = errors.New("failure already reported")

// Node is a loaded node and its connection.
type Node struct {
	*cluster.Node
	Client node.Client
}

// Options are the cluster manager's flags that change how checks run.
type Options struct {
	SearchMultipleOwners bool
	Fix                  bool
	FixWithUnreachable   bool
	// Migrate configures key migration (timeout, pipeline, replace, auth).
	Migrate migrate.Options
	// Parallel is how many moves (one source to one target) may run at
	// once; moves that share a node never do.
	Parallel int
}

// Manager holds one run's node list, connections and error log.
type Manager struct {
	P    *report.Printer
	Dial node.Dialer
	Opts Options

	Nodes []*Node
	// intro, while nodes join, introduces those gossip has not yet.
	intro *introducer
	// fresh, while nodes join, are the new masters whose rejoin delay
	// rcluster ends.
	fresh *newMasters
	// UnreachableMasters counts masters the entry node knows of that could
	// not be loaded (used by fix).
	UnreachableMasters int
	// Errors records what the check reported as errors (clusterManagerOnError).
	Errors []string
	// EntryView is the entry node's CLUSTER NODES, including the nodes that
	// could not be loaded.
	EntryView []*cluster.Line
	// Keys holds every master's DBSIZE once ShowClusterInfo ran.
	Keys map[*Node]int64
	// Problems is what loading and checking found, for -o json.
	Problems []report.Problem
	// Progress, when set, shows a progress bar of slot moves on a terminal.
	Progress *report.Progress
	// Plan is what the command planned, for -o json.
	Plan any
	// Confirm asks fix's questions; nil answers yes (--yes).
	Confirm func(msg string) bool
	// Aborted is set when a fixer stopped the run, as redis-cli's exit(1).
	Aborted bool
}

// New returns a Manager printing through p and connecting with dial.
func New(p *report.Printer, dial node.Dialer, opts Options) *Manager {
	return &Manager{P: p, Dial: dial, Opts: opts}
}

// Close closes every connection.
func (m *Manager) Close() {
	for _, n := range m.Nodes {
		if n.Client != nil {
			n.Client.Close()
			n.Client = nil
		}
	}
}

// connectResult is what connecting to a node produced, kept so that messages
// can be printed in node order after connecting concurrently.
type connectResult struct {
	client node.Client
	err    error
}

func (m *Manager) dial(ctx context.Context, host string, port int) connectResult {
	c, err := m.Dial(ctx, host, port)
	return connectResult{c, err}
}

// report prints a connection failure as redis-cli does and reports whether
// the connection is usable.
func (m *Manager) reportConnect(addr string, r connectResult) bool {
	if r.err == nil {
		return true
	}
	var ce *node.ConnectError
	var ae *node.AuthError
	var te *node.TLSError
	switch {
	case errors.As(r.err, &te):
		m.P.Stderr("TLS Error: %s\n", te.Msg)
	case errors.As(r.err, &ce):
		m.P.ConnectError(addr, ce.Reason)
	case errors.As(r.err, &ae):
		m.P.ReplyError(addr, ae.Msg)
	default:
		m.P.ConnectError(addr, r.err.Error())
	}
	return false
}

// Connect opens a connection to n, printing redis-cli's message on failure.
func (m *Manager) Connect(ctx context.Context, n *Node) bool {
	r := m.dial(ctx, n.Host, n.Port)
	if !m.reportConnect(n.Addr(), r) {
		return false
	}
	n.Client = r.client
	return true
}

// each runs f for every index concurrently (bounded) and waits.
func each(n int, f func(i int)) {
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

// Masters returns the loaded masters, in list order.
func (m *Manager) Masters() []*Node {
	var out []*Node
	for _, n := range m.Nodes {
		if n.IsMaster() {
			out = append(out, n)
		}
	}
	return out
}

// NodeByID finds a loaded node by its full ID (case-insensitive).
func (m *Manager) NodeByID(id string) *Node {
	for _, n := range m.Nodes {
		if equalFold(n.ID, id) {
			return n
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// onError records and prints a check error (clusterManagerOnError).
func (m *Manager) onError(msg string) {
	m.Errors = append(m.Errors, msg)
	m.P.Err("%s\n", msg)
}
