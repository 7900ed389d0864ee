package manager

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// ShowClusterInfo prints the per-master summary that info and check start
// with (clusterManagerShowClusterInfo).
func (m *Manager) ShowClusterInfo(ctx context.Context) {
	var masters []*Node
	for _, n := range m.Nodes {
		if n.IsMaster() && n.ID != "" {
			masters = append(masters, n)
		}
	}
	type dbsize struct {
		n   int64
		err error
	}
	sizes := make([]dbsize, len(masters))
	node.Each(len(masters), func(i int) {
		sizes[i].n, sizes[i].err = node.Int(masters[i].Client.Do(ctx, "DBSIZE"))
	})
	var keys int64
	m.Keys = map[*Node]int64{}
	text := report.CheckText{P: m.P}
	for i, n := range masters {
		if err := sizes[i].err; err != nil {
			m.P.ReplyError(n.Addr(), report.ReplyText(err))
			return
		}
		replicas := 0
		for _, r := range m.Nodes {
			if r.IsReplica() && r.MasterID == n.ID {
				replicas++
			}
		}
		text.MasterLine(n.Addr(), n.ID, sizes[i].n, n.Slots.Count(), replicas)
		keys += sizes[i].n
		m.Keys[n] = sizes[i].n
	}
	text.KeysSummary(keys, len(masters))
}

// Check runs redis-cli's cluster check (clusterManagerCheckCluster) and
// returns its result. quiet leaves out the node listing. It only reads.
func (m *Manager) Check(ctx context.Context, quiet bool) bool {
	return m.check(ctx, quiet, nil)
}

// Fix runs the check and, between its phases, the repairs of what it
// finds, as redis-cli's fix does, and returns its result.
func (m *Manager) Fix(ctx context.Context) bool {
	return m.check(ctx, false, m.newFixer())
}

// check is the check, with the repairs of fix (nil: none).
func (m *Manager) check(ctx context.Context, quiet bool, fix *fixer) bool {
	if len(m.Nodes) == 0 {
		return false
	}
	text := report.CheckText{P: m.P}
	text.Performing(m.Nodes[0].Addr())
	result := true
	if !quiet {
		m.ShowNodes()
	}
	if m.Disagreement(ctx) != nil {
		m.onError(report.NodesDisagree)
		m.problem("nodes_disagree", "nodes don't agree about the slots configuration", "", nil, nil)
		result = false
	} else {
		text.SlotsAgree()
	}

	text.CheckingOpenSlots()
	open := m.OpenSlots()
	m.Repairs.AddOpen(open)
	openSlots := m.P.Dialect.NewDict()
	for _, o := range open {
		slots := make([]string, len(o.Slots))
		nums := make([]int, len(o.Slots))
		for i, p := range o.Slots {
			slots[i] = strconv.Itoa(p.Slot)
			nums[i] = p.Slot
			openSlots.Add(slots[i])
		}
		addr := o.Node.Addr()
		m.onError(report.OpenSlotsError(addr, string(o.State), slots))
		m.problem("open_slots", "node "+addr+" has slots in "+string(o.State)+" state", addr, nums, nil)
	}
	if openSlots.Len() > 0 {
		result = false
		slots := openSlots.Keys()
		text.OpenSlots(slots)
		m.openSlotDetails(ctx, open)
		if fix != nil {
			nums := make([]int, len(slots))
			for i, s := range slots {
				nums[i] = cluster.Atoi(s)
			}
			result = fix.openSlots(ctx, nums)
			if m.Aborted {
				return false
			}
		}
	}

	// Coverage is found once the open slots were fixed, before the
	// stranded keys are, as redis-cli's check does.
	uncovered := m.Uncovered()
	// --search-multiple-owners reports stranded keys its own way, as
	// redis-cli does.
	if !m.Opts.SearchMultipleOwners && !m.checkStrandedKeys(ctx, open, fix) {
		result = false
		if m.Aborted {
			return false
		}
	}

	text.CheckingCoverage()
	if uncovered.Count() == 0 {
		text.AllCovered()
	} else {
		m.onError(report.NotAllCovered)
		m.Repairs.Uncovered = uncovered
		m.Problems = append(m.Problems, report.Problem{Kind: "uncovered_slots",
			Message: "not all 16384 slots are covered by nodes", Ranges: report.Ranges(&uncovered)})
		result = false
		if fix != nil {
			if fix.uncovered(ctx, &uncovered) {
				result = true
			}
			if m.Aborted {
				return false
			}
		}
	}

	if m.Opts.SearchMultipleOwners && !m.checkMultipleOwners(ctx, fix) {
		result = false
	}
	return result
}

// checkStrandedKeys prints a line per master holding keys in slots
// another master owns (inspect.StrandedKeys) only when there are some,
// repairs them with fix, and reports whether none are left.
func (m *Manager) checkStrandedKeys(ctx context.Context, open []inspect.OpenSlots, fix *fixer) bool {
	var slots cluster.SlotSet
	for _, f := range m.StrandedKeys(ctx, open) {
		slots.Union(&f.Slots)
		m.Repairs.AddStranded(f)
		m.onError(report.StrandedKeysError(f.Node.Addr(), f.Slots.String()))
		m.problem("stranded_keys", "node "+f.Node.Addr()+" has keys in slots it does not own", f.Node.Addr(), f.Slots.Slots(), nil)
	}
	if slots.Count() == 0 || fix == nil {
		return slots.Count() == 0
	}
	return fix.strandedKeys(ctx, slots.Slots())
}

// openSlotDetails adds to the problems (-o json only: redis-cli's text
// for open slots stays as it is) what makes open slots harder to repair:
// a peer that is now a replica, unreachable or unknown, and a master that
// its open slot keeps at cluster_state:fail.
func (m *Manager) openSlotDetails(ctx context.Context, open []inspect.OpenSlots) {
	verbs := map[node.SlotState]string{node.Migrating: "migrating to", node.Importing: "importing from"}
	whys := map[inspect.PeerState]string{inspect.PeerUnreachable: "which cannot be reached",
		inspect.PeerUnknown: "which the cluster does not know", inspect.PeerReplica: "which is now a replica"}
	for _, g := range m.PeersGone(open) {
		addr := g.Node.Addr()
		m.problem("open_slot_peer_gone", fmt.Sprintf("node %s has slot %d %s %s, %s", addr, g.Slot, verbs[g.State], g.NodeID, whys[g.Peer]),
			addr, []int{g.Slot}, nil)
	}
	for _, n := range m.FailingWithOpenSlots(ctx, open) {
		m.problem("cluster_state_fail", "node "+n.Addr()+", which has open slots, reports cluster_state:fail", n.Addr(), nil, nil)
	}
}

// ShowNodes prints every loaded node's block.
func (m *Manager) ShowNodes() {
	for _, n := range m.Nodes {
		m.P.ListNode(n.Node, false)
	}
}

// checkMultipleOwners prints the slots owned by, or holding keys on, more
// than one master (inspect.MultipleOwners) and fixes them one after the
// other with fix. It returns false when some remain.
func (m *Manager) checkMultipleOwners(ctx context.Context, fix *fixer) bool {
	text := report.CheckText{P: m.P}
	text.CheckingMultipleOwners()
	remaining := 0
	for _, f := range m.MultipleOwners(ctx) {
		remaining++
		m.Repairs.MultipleOwners++
		var addrs []string
		for _, n := range f.Owners {
			addrs = append(addrs, n.Addr())
		}
		text.SlotOwners(f.Slot, addrs)
		m.problem("multiple_owners", fmt.Sprintf("slot %d has %d owners", f.Slot, len(f.Owners)), "", []int{f.Slot}, addrs)
		if fix != nil {
			if !fix.multipleOwners(ctx, f) {
				break
			}
			remaining--
		}
	}
	if remaining == 0 {
		text.NoMultipleOwners()
	}
	return remaining == 0
}

func (m *Manager) problem(kind, msg, node string, slots []int, nodes []string) {
	m.Problems = append(m.Problems, report.Problem{Kind: kind, Message: msg, Node: node, Slots: slots, Nodes: nodes})
}

// Doc describes the loaded cluster and what was found, for -o json.
func (m *Manager) Doc(ok bool) report.ClusterDoc {
	d := report.ClusterDoc{OK: ok, Nodes: []report.NodeDoc{}, Problems: m.Problems}
	if d.Problems == nil {
		d.Problems = []report.Problem{}
	}
	if len(m.Nodes) > 0 {
		d.Entry = m.Nodes[0].Addr()
	}
	var covered cluster.SlotSet
	for _, n := range m.Nodes {
		var keys *int64
		if k, ok := m.Keys[n]; ok {
			keys = &k
			d.Keys += k
		}
		if n.IsMaster() {
			d.Masters++
		}
		covered.Union(&n.Slots)
		d.Nodes = append(d.Nodes, report.NodeOf(n.Node, keys))
	}
	d.Covered = covered.Count()
	return d
}
