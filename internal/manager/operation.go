package manager

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/node"
)

// One changing operation at a time. Every connection of a command that
// changes the cluster carries a client name (CLIENT SETNAME) that says which
// command runs, on which host, in which process and since when. Before its
// first write, another run looks for such names in every node's CLIENT LIST
// and refuses to start. The marker lives and dies with the connections: a
// run that ends or crashes leaves none, and one whose connections have all
// been idle for StaleAfter (a hung or stopped process) no longer counts.

const operationPrefix = "rcluster-op"

// StaleAfter is how long all of a run's connections must have been idle
// for its marker to be ignored (a MIGRATE of a big key keeps one busy for
// at most its --timeout, a minute by default).
const StaleAfter = 5 * time.Minute

// OperationName is the client name of a run of command that started at
// start in this process.
func OperationName(command string, start time.Time) string {
	host, _ := os.Hostname()
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r <= ' ' || r == ':' || r > '~' {
				return '_'
			}
			return r
		}, s)
	}
	return strings.Join([]string{operationPrefix, clean(command), clean(host), strconv.Itoa(os.Getpid()), strconv.FormatInt(start.Unix(), 10)}, ":")
}

// Operation is another run of rcluster that is changing the cluster.
type Operation struct {
	Name    string
	Command string
	Host    string
	PID     int
	Since   time.Time
	// Idle is the least idle time of its connections, over all nodes.
	Idle time.Duration
	// Nodes are the addresses of the nodes it is connected to.
	Nodes []string
	// clients are its connection ids per node, to end a stale run.
	clients map[*Node][]string
}

// Stale tells whether the run has shown no sign of life for StaleAfter.
func (o *Operation) Stale() bool { return o.Idle >= StaleAfter }

// String describes the run in one sentence.
func (o *Operation) String() string {
	nodes := o.Nodes[0]
	if len(o.Nodes) > 1 {
		nodes += fmt.Sprintf(" and %d more nodes", len(o.Nodes)-1)
	}
	return fmt.Sprintf("%s started %s by process %d on host %s (connected to %s, last active %s ago)",
		o.Command, o.Since.UTC().Format("2006-01-02 15:04:05 UTC"), o.PID, o.Host, nodes, o.Idle.Round(time.Second))
}

// parseOperationName reads a name made by OperationName.
func parseOperationName(name string) (*Operation, bool) {
	f := strings.Split(name, ":")
	if len(f) != 5 || f[0] != operationPrefix {
		return nil, false
	}
	pid, err1 := strconv.Atoi(f[3])
	unix, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	return &Operation{Name: name, Command: f[1], Host: f[2], PID: pid, Since: time.Unix(unix, 0)}, true
}

// clientListEntry is one line of CLIENT LIST.
type clientListEntry struct {
	id, name string
	idle     time.Duration
}

func parseClientList(text string) []clientListEntry {
	var out []clientListEntry
	for _, line := range strings.Split(text, "\n") {
		var e clientListEntry
		for _, field := range strings.Fields(line) {
			k, v, _ := strings.Cut(field, "=")
			switch k {
			case "id":
				e.id = v
			case "name":
				e.name = v
			case "idle":
				s, _ := strconv.Atoi(v)
				e.idle = time.Duration(s) * time.Second
			}
		}
		if e.name != "" {
			out = append(out, e)
		}
	}
	return out
}

// OtherOperations returns the runs of rcluster, other than the one named
// self, that hold connections to the loaded nodes, oldest first. Nodes that
// cannot answer CLIENT LIST (an ACL without it) are passed over.
func (m *Manager) OtherOperations(ctx context.Context, self string) []*Operation {
	lists := make([][]clientListEntry, len(m.Nodes))
	node.Each(len(m.Nodes), func(i int) {
		if c := m.Nodes[i].Client; c != nil {
			if v, err := c.Do(ctx, "CLIENT", "LIST"); err == nil {
				text, _ := v.(string)
				lists[i] = parseClientList(text)
			}
		}
	})
	byName := map[string]*Operation{}
	for i, list := range lists {
		n := m.Nodes[i]
		for _, e := range list {
			if e.name == self {
				continue
			}
			op := byName[e.name]
			if op == nil {
				var ok bool
				if op, ok = parseOperationName(e.name); !ok {
					continue
				}
				op.Idle, op.clients = e.idle, map[*Node][]string{}
				byName[e.name] = op
			}
			if len(op.clients[n]) == 0 {
				op.Nodes = append(op.Nodes, n.Addr())
			}
			op.clients[n] = append(op.clients[n], e.id)
			op.Idle = min(op.Idle, e.idle)
		}
	}
	var out []*Operation
	for _, op := range byName {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Since.Before(out[j].Since) || out[i].Since.Equal(out[j].Since) && out[i].Name < out[j].Name
	})
	return out
}

// EndOperation closes the connections of a stale run on every node, so
// that if its process wakes up it cannot go on writing with them.
func (m *Manager) EndOperation(ctx context.Context, op *Operation) {
	for n, ids := range op.clients {
		for _, id := range ids {
			_, _ = n.Client.Do(ctx, "CLIENT", "KILL", "ID", id)
		}
	}
}
