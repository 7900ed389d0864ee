package manager

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// pollInterval is how often rcluster looks at the nodes while waiting;
// redis-cli looks once a second.
const pollInterval = 50 * time.Millisecond

// clusterPoll is the pause between two looks at all the nodes: short on small
// clusters, longer on large ones, where every look costs each node a
// CLUSTER NODES of the whole cluster and slows down the gossip being
// waited for.
func (m *Manager) clusterPoll() time.Duration {
	return max(pollInterval, time.Duration(len(m.Nodes)*len(m.Nodes))*50*time.Microsecond)
}

// waitForJoin prints "Waiting for the cluster to join", a dot for every
// second that the nodes do not yet agree, and fails at the deadline with
// redis-cli's link diagnostics naming the unreachable cluster bus ports.
func (m *Manager) waitForJoin(ctx context.Context, deadline time.Time) error {
	m.P.Plain("Waiting for the cluster to join\n")
	start := time.Now()
	checkAfter := time.Duration(20+int(float32(len(m.Nodes))*0.15)) * time.Second
	dots, reported := 0, time.Duration(0)
	for {
		texts := m.clusterNodesTexts(ctx)
		if consistent(texts) {
			break
		}
		elapsed := time.Since(start)
		m.intro.introduce(ctx, texts)
		for ; time.Duration(dots+1)*time.Second <= elapsed; dots++ {
			m.P.Plain(".")
		}
		if time.Now().After(deadline) {
			if !m.printLinkProblems(texts) {
				m.P.Plain("\n")
			}
			m.P.Err("[ERR] The nodes did not agree about the configuration within %s.\n", elapsed.Round(time.Second))
			return ErrReported
		}
		if elapsed-reported > checkAfter {
			reported = elapsed
			m.printLinkProblems(texts)
		}
		if err := sleep(ctx, m.clusterPoll()); err != nil {
			return err
		}
	}
	m.P.Plain("\n")
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// printLinkProblems prints redis-cli's "may be unreachable" report for the
// links that nodes see as disconnected or in handshake, from the nodes'
// CLUSTER NODES replies (texts). It reports whether anything was printed.
func (m *Manager) printLinkProblems(texts []string) bool {
	order := cluster.NewDict()
	from := map[string][]string{}
	for i, n := range m.Nodes {
		for _, raw := range strings.Split(texts[i], "\n") {
			l, err := cluster.ParseLine(raw)
			if err != nil || l.Myself() {
				continue
			}
			flags := strings.Join(l.Flags, ",")
			if !strings.Contains(flags, "disconnected") && !strings.Contains(flags, "handshake") &&
				!strings.Contains(l.LinkState, "disconnected") {
				continue
			}
			order.Find(l.Addr)
			order.Add(l.Addr)
			from[l.Addr] = append(from[l.Addr], n.Addr())
		}
	}
	if order.Len() == 0 {
		return false
	}
	m.P.Plain("\n")
	m.P.Err("Warning: %d node(s) may be unreachable\n", order.Len())
	for _, addr := range order.Keys() {
		if ip, _, bus, _, ok := cluster.SplitNodeAddr(addr); ok && bus != 0 {
			m.P.Err(" - The port %d of node %s may be unreachable from:\n", bus, ip)
		} else {
			m.P.Err(" - Node %s may be unreachable from:\n", addr)
		}
		for _, f := range from[addr] {
			m.P.Err("   %s\n", f)
		}
		m.P.Err("Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports are different from standard instance ports.\n")
	}
	return true
}

// waitSettled waits until every node reports cluster_state:ok, all agree on
// the slot map and know the same nodes. With matchModel (create, add-node)
// every node must also have the role of the loaded model itself; how the
// others see it is left to gossip: on a new large cluster with a long node
// timeout that can take a minute, and the next command does not need it
// (redis-cli's loading takes every node's role from the node itself).
// Without it (changes to a running cluster) all nodes must agree on the
// roles too.
func (m *Manager) waitSettled(ctx context.Context, deadline time.Time, matchModel bool) error {
	for {
		problems, texts := m.settleProblems(ctx, matchModel)
		m.intro.introduce(ctx, texts)
		if len(problems) > 0 && m.fresh != nil && consistent(texts) {
			m.endRejoinDelay(ctx, m.fresh)
			m.fresh = nil
			continue
		}
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			m.P.Err("[ERR] The cluster did not settle in time:\n")
			for _, p := range problems {
				m.P.Err("   %s\n", p)
			}
			return ErrReported
		}
		if err := sleep(ctx, m.clusterPoll()); err != nil {
			return err
		}
	}
}

// settleProblems lists what keeps the cluster from being settled; empty
// when it is.
func (m *Manager) settleProblems(ctx context.Context, matchModel bool) (problems, texts []string) {
	type view struct {
		state string
		known map[string]bool
		roles map[string]string // node ID -> master ID, as this node sees them
		self  *cluster.Line
		err   error
	}
	views := make([]view, len(m.Nodes))
	texts = make([]string, len(m.Nodes))
	each(len(m.Nodes), func(i int) {
		v := &views[i]
		c := m.Nodes[i].Client
		info, err := node.ClusterInfo(ctx, c)
		if err != nil {
			v.err = err
			return
		}
		v.state, _ = node.InfoField(info, "cluster_state")
		text, err := node.ClusterNodes(ctx, c)
		texts[i] = text
		var lines []*cluster.Line
		if err == nil {
			lines, err = cluster.ParseNodes(text)
		}
		v.err = err
		v.known = map[string]bool{}
		v.roles = map[string]string{}
		for _, l := range lines {
			v.known[l.ID] = true
			v.roles[l.ID] = l.MasterID
			if l.Myself() {
				v.self = l
			}
		}
	})
	ref := views[0].known
	if matchModel {
		ref = map[string]bool{}
		for _, n := range m.Nodes {
			ref[n.ID] = true
		}
	}
	for i, n := range m.Nodes {
		v := views[i]
		if v.err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", n.Addr(), v.err))
			continue
		}
		if v.state != "ok" {
			problems = append(problems, fmt.Sprintf("%s: cluster_state:%s", n.Addr(), v.state))
		}
		if matchModel && v.self != nil && v.self.MasterID != n.MasterID {
			problems = append(problems, fmt.Sprintf("%s: is not yet %s", n.Addr(), roleOf(n.MasterID)))
		}
		for id := range ref {
			if !v.known[id] {
				problems = append(problems, fmt.Sprintf("%s: does not know node %s yet", n.Addr(), id))
			}
		}
		if len(v.known) != len(ref) {
			problems = append(problems, fmt.Sprintf("%s: knows %d nodes, expected %d", n.Addr(), len(v.known), len(ref)))
		}
		// After a change to a running cluster (a replica moved, a drained
		// master turned replica) all nodes must also agree on the roles.
		if !matchModel {
			for id, master := range views[0].roles {
				if got, ok := v.roles[id]; ok && got != master {
					problems = append(problems, fmt.Sprintf("%s: does not yet see %s as %s", n.Addr(), id, roleOf(master)))
				}
			}
		}
	}
	if len(problems) == 0 && !consistent(texts) {
		problems = append(problems, "nodes do not agree about the slots configuration")
	}
	return problems, texts
}

func roleOf(master string) string {
	if master == "" {
		return "a master"
	}
	return "a replica of " + master
}

// WaitSettled waits, until deadline, for the nodes to agree on slots and
// roles and to report cluster_state:ok, naming what did not settle.
func (m *Manager) WaitSettled(ctx context.Context, deadline time.Time) error {
	return m.waitSettled(ctx, deadline, false)
}
