package manager

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
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
	each(len(masters), func(i int) {
		sizes[i].n, sizes[i].err = node.Int(masters[i].Client.Do(ctx, "DBSIZE"))
	})
	var keys int64
	m.Keys = map[*Node]int64{}
	for i, n := range masters {
		if err := sizes[i].err; err != nil {
			m.P.ReplyError(n.Addr(), replyText(err))
			return
		}
		replicas := 0
		for _, r := range m.Nodes {
			if r.IsReplica() && r.MasterID == n.ID {
				replicas++
			}
		}
		m.P.Plain("%s (%.8s...) -> %d keys | %d slots | %d slaves.\n",
			n.Addr(), n.ID, sizes[i].n, n.Slots.Count(), replicas)
		keys += sizes[i].n
		m.Keys[n] = sizes[i].n
	}
	m.P.Success("[OK] %d keys in %d masters.\n", keys, len(masters))
	m.P.Plain("%.2f keys per slot on average.\n", float64(float32(keys)/float32(cluster.NumSlots)))
}

// configSignature is redis-cli's summary of the slot map a node sees, from
// its CLUSTER NODES reply: for every node with slots, "id:tok,tok" with the
// tokens sorted, all sorted and joined by "|". ok is false when the node sees
// no slots or did not answer (text "").
func configSignature(text string) (sig string, ok bool) {
	var cfgs []string
	for _, raw := range strings.Split(text, "\n") {
		l, err := cluster.ParseLine(raw)
		if err != nil || len(l.SlotTokens) == 0 {
			continue
		}
		toks := append([]string(nil), l.SlotTokens...)
		sort.Strings(toks)
		cfgs = append(cfgs, l.ID+":"+strings.Join(toks, ","))
	}
	if len(cfgs) == 0 {
		return "", false
	}
	sort.Strings(cfgs)
	return strings.Join(cfgs, "|"), true
}

// IsConfigConsistent reports whether every loaded node sees the same slot map.
func (m *Manager) IsConfigConsistent(ctx context.Context) bool {
	return consistent(m.clusterNodesTexts(ctx))
}

// consistent reports whether the nodes' CLUSTER NODES replies (texts, in
// node order, "" for a node that did not answer) all show the same slot map.
// A lone node agrees with itself.
func consistent(texts []string) bool {
	if len(texts) <= 1 {
		return true
	}
	first, ok := configSignature(texts[0])
	if !ok {
		return false
	}
	for _, t := range texts[1:] {
		if sig, ok := configSignature(t); !ok || sig != first {
			return false
		}
	}
	return true
}

// clusterNodesTexts is every node's CLUSTER NODES reply ("" when a node
// did not answer).
func (m *Manager) clusterNodesTexts(ctx context.Context) []string {
	texts := make([]string, len(m.Nodes))
	each(len(m.Nodes), func(i int) { texts[i], _ = node.ClusterNodes(ctx, m.Nodes[i].Client) })
	return texts
}

// Check runs redis-cli's cluster check (clusterManagerCheckCluster) and
// returns its result. quiet leaves out the node listing.
func (m *Manager) Check(ctx context.Context, quiet bool) bool {
	if len(m.Nodes) == 0 {
		return false
	}
	m.P.Info(">>> Performing Cluster Check (using node %s)\n", m.Nodes[0].Addr())
	result := true
	if !quiet {
		m.ShowNodes()
	}
	if !m.IsConfigConsistent(ctx) {
		m.onError("[ERR] Nodes don't agree about configuration!")
		m.problem("nodes_disagree", "nodes don't agree about the slots configuration", "", nil, nil)
		result = false
	} else {
		m.P.Success("[OK] All nodes agree about slots configuration.\n")
	}

	m.P.Info(">>> Check for open slots...\n")
	open := cluster.NewDict()
	for _, n := range m.Nodes {
		for _, kind := range []struct {
			state string
			peers []cluster.SlotPeer
		}{{"migrating", n.Migrating}, {"importing", n.Importing}} {
			if len(kind.peers) == 0 {
				continue
			}
			slots := make([]string, len(kind.peers))
			for i, p := range kind.peers {
				slots[i] = strconv.Itoa(p.Slot)
				open.Add(slots[i])
			}
			m.onError("[WARNING] Node " + n.Addr() + " has slots in " + kind.state + " state " + strings.Join(slots, ",") + ".")
			nums := make([]int, len(kind.peers))
			for i, p := range kind.peers {
				nums[i] = p.Slot
			}
			m.problem("open_slots", "node "+n.Addr()+" has slots in "+kind.state+" state", n.Addr(), nums, nil)
		}
	}
	if open.Len() > 0 {
		result = false
		slots := open.Keys()
		m.P.Err("[WARNING] The following slots are open: %s.\n", strings.Join(slots, ","))
		if m.Opts.Fix {
			for _, s := range slots {
				if result = m.FixOpenSlot(ctx, cluster.Atoi(s)); !result {
					break
				}
			}
			if m.Aborted {
				return false
			}
		}
	}

	m.P.Info(">>> Check slots coverage...\n")
	var covered cluster.SlotSet
	for _, n := range m.Nodes {
		covered.Union(&n.Slots)
	}
	if covered.Count() == cluster.NumSlots {
		m.P.Success("[OK] All %d slots covered.\n", cluster.NumSlots)
	} else {
		m.onError("[ERR] Not all 16384 slots are covered by nodes.\n")
		var missing cluster.SlotSet
		for s := 0; s < cluster.NumSlots; s++ {
			if !covered.Has(s) {
				missing.Add(s)
			}
		}
		m.Problems = append(m.Problems, report.Problem{Kind: "uncovered_slots",
			Message: "not all 16384 slots are covered by nodes", Ranges: report.Ranges(&missing)})
		result = false
		if m.Opts.Fix {
			if fixed := m.FixSlotsCoverage(ctx, &covered); fixed > 0 {
				result = true
			}
			if m.Aborted {
				return false
			}
		}
	}

	if m.Opts.SearchMultipleOwners && !m.checkMultipleOwners(ctx) {
		result = false
	}
	return result
}

// ShowNodes prints every loaded node's block.
func (m *Manager) ShowNodes() {
	for _, n := range m.Nodes {
		m.P.Plain("%s\n", report.NodeBlock(n.Node, 0, false))
	}
}

// checkMultipleOwners looks for slots owned by, or holding keys on, more
// than one master. It returns false when some remain (after fixing, if fix).
func (m *Manager) checkMultipleOwners(ctx context.Context) bool {
	m.P.Info(">>> Check for multiple slot owners...\n")
	masters := m.Masters()
	// keys[i] holds, for master i, which slots it does not own but has keys in.
	keys := make([]cluster.SlotSet, len(masters))
	each(len(masters), func(i int) { keys[i] = keysOutsideOwned(ctx, masters[i]) })
	ok := true
	remaining := 0
	for slot := 0; slot < cluster.NumSlots; slot++ {
		var owners []*Node
		for i, n := range masters {
			if n.Slots.Has(slot) || keys[i].Has(slot) {
				owners = append(owners, n)
			}
		}
		if len(owners) <= 1 {
			continue
		}
		ok = false
		remaining++
		m.P.Err("[WARNING] Slot %d has %d owners:\n", slot, len(owners))
		var addrs []string
		for _, n := range owners {
			addrs = append(addrs, n.Addr())
		}
		m.problem("multiple_owners", fmt.Sprintf("slot %d has %d owners", slot, len(owners)), "", []int{slot}, addrs)
		for _, n := range owners {
			m.P.Err("    %s\n", n.Addr())
		}
		if m.Opts.Fix {
			if !m.FixMultipleSlotOwners(ctx, slot, owners) {
				m.P.Err("Failed to fix multiple owners for slot %d\n", slot)
				break
			}
			remaining--
			ok = true
		}
	}
	if remaining == 0 {
		m.P.Success("[OK] No multiple owners found.\n")
	}
	return ok
}

// keysOutsideOwned asks a master, in pipelined batches, how many keys it
// holds in every slot it does not own.
func keysOutsideOwned(ctx context.Context, n *Node) cluster.SlotSet {
	var out cluster.SlotSet
	var slots []int
	for s := 0; s < cluster.NumSlots; s++ {
		if !n.Slots.Has(s) {
			slots = append(slots, s)
		}
	}
	const batch = 1024
	for len(slots) > 0 {
		k := min(batch, len(slots))
		cmds := make([]node.Cmd, k)
		for i := 0; i < k; i++ {
			cmds[i] = node.CountKeysInSlotCmd(slots[i])
		}
		for i, r := range n.Client.Pipeline(ctx, cmds) {
			if c, err := node.Int(r.Val, r.Err); err == nil && c > 0 {
				out.Add(slots[i])
			}
		}
		slots = slots[k:]
	}
	return out
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
