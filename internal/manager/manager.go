package manager

import (
	"context"
	"errors"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/repair"
)

// ErrReported means the failure was already reported in redis-cli's words;
// the command exits 1 without printing anything more.
var ErrReported = errors.New("failure already reported")

// Node is a loaded node and its connection.
type Node = inspect.Node

// Options are the cluster manager's flags that change how checks run.
type Options struct {
	SearchMultipleOwners bool
	// FixWithUnreachable lets fix repair with masters unreachable.
	FixWithUnreachable bool
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

	// Cluster is the loaded cluster: the nodes, the entry node's view and
	// what could not be loaded.
	inspect.Cluster
	// InFlight, when set, records the slots this run has open (shared by
	// the CLI with its signal handler).
	InFlight *InFlight
	// Errors records what the check reported as errors (clusterManagerOnError).
	Errors []string
	// Keys holds every master's DBSIZE once ShowClusterInfo ran.
	Keys map[*Node]int64
	// Problems is what loading and checking found, for -o json.
	Problems []report.Problem
	// Repairs is what the check found, by the repair each finding needs
	// (fix --dry-run).
	Repairs repair.Plan
	// Progress, when set, shows a progress bar of slot moves on a terminal.
	Progress *report.Progress
	// Plan is what the command planned, for -o json.
	Plan any
	// Confirm asks fix's questions; nil answers yes (--yes).
	Confirm func(msg string) bool
	// Aborted is set when a repair stopped the run, as redis-cli's exit(1).
	Aborted bool
	// batchDone, when set, is told after every batch of slots of a reshard
	// or rebalance plan that its move i moved n more (apply's record).
	batchDone func(i, n int)
}

// New returns a Manager printing through p and connecting with dial.
func New(p *report.Printer, dial node.Dialer, opts Options) *Manager {
	return &Manager{P: p, Dial: dial, Opts: opts}
}

// reportConnect prints a failed connection (err from Dial) as redis-cli
// does and reports whether the connection is usable (err nil).
func (m *Manager) reportConnect(addr string, err error) bool {
	if err == nil {
		return true
	}
	m.P.ConnectFailed(addr, err)
	return false
}

// Connect opens a connection to n, printing redis-cli's message on failure.
func (m *Manager) Connect(ctx context.Context, n *Node) bool {
	c, err := m.Dial(ctx, n.Host, n.Port)
	if !m.reportConnect(n.Addr(), err) {
		return false
	}
	n.Client = c
	return true
}

// onError records and prints a check error (clusterManagerOnError).
func (m *Manager) onError(msg string) {
	m.Errors = append(m.Errors, msg)
	m.P.Err("%s\n", msg)
}
