package manager

import (
	"context"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/settle"
)

// clusterPoll is the pause between two looks at all the nodes.
func (m *Manager) clusterPoll() time.Duration { return settle.Poll(len(m.Nodes)) }

// waitForJoin prints "Waiting for the cluster to join", a dot for every
// second that the nodes do not yet agree, and fails at the deadline with
// redis-cli's link diagnostics naming the unreachable cluster bus ports.
func (m *Manager) waitForJoin(ctx context.Context, deadline time.Time) error {
	text := report.WaitText{P: m.P}
	text.Joining()
	start := time.Now()
	checkAfter := time.Duration(20+int(float32(len(m.Nodes))*0.15)) * time.Second
	dots, reported := 0, time.Duration(0)
	for {
		texts := m.Views(ctx)
		if consistent(texts) {
			break
		}
		elapsed := time.Since(start)
		m.intro.introduce(ctx, texts)
		for ; time.Duration(dots+1)*time.Second <= elapsed; dots++ {
			text.Dot()
		}
		if time.Now().After(deadline) {
			if !m.printLinkProblems(texts) {
				text.EndLine()
			}
			text.JoinTimedOut(elapsed)
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
	text.EndLine()
	return nil
}

func sleep(ctx context.Context, d time.Duration) error { return settle.Sleep(ctx, d) }

// printLinkProblems prints redis-cli's "may be unreachable" report for the
// links that nodes see as disconnected or in handshake, from the nodes'
// CLUSTER NODES replies (texts). It reports whether anything was printed.
func (m *Manager) printLinkProblems(texts []string) bool {
	order := m.P.Dialect.NewDict()
	from := map[string][]string{}
	for i, n := range m.Nodes {
		for raw := range strings.SplitSeq(texts[i], "\n") {
			l, ok := cluster.SplitLine(raw)
			if !ok || l.HasFlag("myself") {
				continue
			}
			if !strings.Contains(l.Flags, "disconnected") && !strings.Contains(l.Flags, "handshake") &&
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
	var nodes []report.UnreachableNode
	for _, addr := range order.Keys() {
		n := report.UnreachableNode{Addr: addr, From: from[addr]}
		if ip, _, bus, _, ok := cluster.SplitNodeAddr(addr); ok && bus != 0 {
			n.BusIP, n.BusPort = ip, bus
		}
		nodes = append(nodes, n)
	}
	report.WaitText{P: m.P}.Unreachable(nodes)
	return true
}

// waitSettled waits until the cluster has settled (pkg/settle): with
// matchModel (create, add-node) every node has the role of the loaded
// model. While nodes join, it introduces those gossip has not yet, and
// ends the new masters' rejoin delay once the slot owners agree.
func (m *Manager) waitSettled(ctx context.Context, deadline time.Time, matchModel bool) error {
	for {
		look := settle.Check(ctx, &m.Cluster, settle.Options{MatchModel: matchModel, KeepViews: m.intro != nil})
		m.intro.introduce(ctx, look.Views)
		if len(look.Problems) > 0 && m.fresh != nil && look.SameSlots {
			m.endRejoinDelay(ctx, m.fresh)
			m.fresh = nil
			continue
		}
		if len(look.Problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			texts := make([]string, len(look.Problems))
			for i, p := range look.Problems {
				texts[i] = p.String()
			}
			report.WaitText{P: m.P}.NotSettled(texts, maxSettleProblems)
			return ErrReported
		}
		if err := sleep(ctx, m.clusterPoll()); err != nil {
			return err
		}
	}
}

// maxSettleProblems is how many of the settle wait's problems are printed.
const maxSettleProblems = 20

// WaitSettled waits, until deadline, for the nodes to agree on slots and
// roles and to report cluster_state:ok, naming what did not settle.
func (m *Manager) WaitSettled(ctx context.Context, deadline time.Time) error {
	return m.waitSettled(ctx, deadline, false)
}
