package manager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// pollInterval is how often rcluster looks at the nodes while waiting;
// redis-cli looks once a second.
const pollInterval = 50 * time.Millisecond

// clusterPoll is the pause between two looks at all the nodes: every look
// costs each node a CLUSTER NODES with a line per node, and the replies
// come in a few at a time, so the pause grows with the cluster, linearly
// (2 ms a node: 0.3 s at 150 nodes), from pollInterval up to a second.
func (m *Manager) clusterPoll() time.Duration {
	return min(time.Second, max(pollInterval, time.Duration(len(m.Nodes))*2*time.Millisecond))
}

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

// waitSettled waits until every node reports cluster_state:ok, knows the
// same nodes, agrees on the slot owners, and has
// the role the change leaves it in: with matchModel (create, add-node) the
// role of the loaded model; otherwise (changes to a running cluster) a
// replica's master must be a master itself (a master that lost its last
// slot turns replica, and its replicas follow). How the other nodes see a
// node's role is not waited for: Redis spreads it only by the node's own
// pings to peers picked at random, which takes minutes on hundreds of
// nodes, and the next command does not need it (loading takes every
// node's role from the node itself). Slot owners do spread at once: a
// node that takes a slot tells every node. (Their config epochs do not
// always: after a rebalance of 150 nodes most still saw an owner's older
// epoch a minute later.)
func (m *Manager) waitSettled(ctx context.Context, deadline time.Time, matchModel bool) error {
	for {
		problems, texts, sameSlots := m.settleProblems(ctx, matchModel)
		m.intro.introduce(ctx, texts)
		if len(problems) > 0 && m.fresh != nil && sameSlots {
			m.endRejoinDelay(ctx, m.fresh)
			m.fresh = nil
			continue
		}
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			report.WaitText{P: m.P}.NotSettled(problems, maxSettleProblems)
			return ErrReported
		}
		if err := sleep(ctx, m.clusterPoll()); err != nil {
			return err
		}
	}
}

// maxSettleProblems is how many of the settle wait's problems are printed.
const maxSettleProblems = 20

// nodeLook is what one look at a node found, reduced as its reply came in:
// of the other nodes, only those that differ from the reference node's view.
type nodeLook struct {
	err   error
	state string // cluster_state
	self  bool   // its own line was found
	// master is its own role: its master's ID, "" when it is a master.
	master string
	known  int
	// missing are the reference's nodes that it does not know.
	missing []string
	// sameSlots: it sees the reference's slot owners.
	sameSlots bool
}

// settleReference is what the other nodes are compared with: the nodes to
// know (nil when node 0 did not answer) and node 0's slot map.
type settleReference struct {
	ids   map[string]bool
	slots string
}

// look asks node n for CLUSTER INFO and CLUSTER NODES in one round trip and
// reduces the replies against ref. For node 0 (first) it fills ref in:
// the slot map, and the known nodes unless already set (matchModel). It
// returns the CLUSTER NODES text too when keep (for the introducer).
func (m *Manager) look(ctx context.Context, n *Node, ref *settleReference, first, keep bool) (l nodeLook, text string) {
	res := n.Client.Pipeline(ctx, []node.Cmd{{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}})
	info, err := node.Str(res[0].Val, res[0].Err)
	if err == nil {
		text, err = node.Str(res[1].Val, res[1].Err)
	}
	if l.err = err; err != nil {
		return l, ""
	}
	l.state, _ = node.InfoField(info, "cluster_state")
	slots, _ := inspect.SlotMapSignature(text)
	fillIDs := first && ref.ids == nil
	if first {
		ref.slots = slots
		if fillIDs {
			ref.ids = map[string]bool{}
		}
	}
	l.sameSlots = slots != "" && slots == ref.slots
	seen := 0
	for raw := range strings.SplitSeq(text, "\n") {
		f, ok := cluster.SplitLine(raw)
		if !ok {
			continue
		}
		l.known++
		if fillIDs {
			ref.ids[strings.Clone(f.ID)] = true
		}
		if ref.ids[f.ID] {
			seen++
		}
		if !l.self && f.HasFlag("myself") {
			l.self, l.master = true, strings.Clone(f.MasterID)
		}
	}
	if seen < len(ref.ids) {
		known := map[string]bool{}
		for raw := range strings.SplitSeq(text, "\n") {
			if f, ok := cluster.SplitLine(raw); ok {
				known[f.ID] = true
			}
		}
		for id := range ref.ids {
			if !known[id] {
				l.missing = append(l.missing, id)
			}
		}
		slices.Sort(l.missing)
	}
	if !keep {
		text = ""
	}
	return l, text
}

// settleProblems lists what keeps the cluster from being settled (empty
// when it is), with the nodes' CLUSTER NODES replies while an introducer
// needs them, and whether all nodes see the same slot owners. Node 0 is
// looked at first, as the reference; the others then in parallel.
func (m *Manager) settleProblems(ctx context.Context, matchModel bool) (problems, texts []string, sameSlots bool) {
	ref := &settleReference{}
	if matchModel {
		ref.ids = map[string]bool{}
		for _, n := range m.Nodes {
			ref.ids[n.ID] = true
		}
	}
	keep := m.intro != nil
	looks := make([]nodeLook, len(m.Nodes))
	texts = make([]string, len(m.Nodes))
	looks[0], texts[0] = m.look(ctx, m.Nodes[0], ref, true, keep)
	node.Each(len(m.Nodes)-1, func(i int) { looks[i+1], texts[i+1] = m.look(ctx, m.Nodes[i+1], ref, false, keep) })

	ownRole := map[string]*nodeLook{}
	for i, n := range m.Nodes {
		if looks[i].self {
			ownRole[n.ID] = &looks[i]
		}
	}
	sameSlots = true
	for i, n := range m.Nodes {
		l := looks[i]
		if l.err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", n.Addr(), l.err))
			sameSlots = false
			continue
		}
		if l.state != "ok" {
			problems = append(problems, fmt.Sprintf("%s: cluster_state:%s", n.Addr(), l.state))
		}
		switch master := ownRole[l.master]; {
		case matchModel && l.self && l.master != n.MasterID:
			problems = append(problems, fmt.Sprintf("%s: is not yet %s", n.Addr(), roleOf(n.MasterID)))
		case !matchModel && master != nil && master.master != "":
			problems = append(problems, fmt.Sprintf("%s: replicates %s, which is itself a replica (of %s)", n.Addr(), l.master, master.master))
		}
		for _, id := range l.missing {
			problems = append(problems, fmt.Sprintf("%s: does not know node %s yet", n.Addr(), id))
		}
		if ref.ids != nil && l.known != len(ref.ids) {
			problems = append(problems, fmt.Sprintf("%s: knows %d nodes, expected %d", n.Addr(), l.known, len(ref.ids)))
		}
		sameSlots = sameSlots && l.sameSlots
	}
	if len(m.Nodes) > 1 && !sameSlots {
		problems = append(problems, "nodes do not agree about the slots configuration"+m.disagreeing(looks))
	}
	if !keep {
		texts = nil
	}
	return problems, texts, sameSlots || len(m.Nodes) <= 1
}

// disagreeing names the nodes whose look does not agree with node 0's, as
// ": a, b see it otherwise than <node 0>" (at most five of them named).
func (m *Manager) disagreeing(looks []nodeLook) string {
	var addrs []string
	for i := range looks {
		if looks[i].err == nil && !looks[i].sameSlots {
			addrs = append(addrs, m.Nodes[i].Addr())
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	if len(addrs) > 5 {
		addrs = append(addrs[:5], fmt.Sprintf("%d more", len(addrs)-5))
	}
	return ": " + strings.Join(addrs, ", ") + " see it otherwise than " + m.Nodes[0].Addr()
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
