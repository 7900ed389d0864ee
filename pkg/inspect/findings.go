package inspect

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// The finders of redis-cli's cluster check (clusterManagerCheckCluster),
// one per check. They only read: fixing is the caller's business.

// Disagreement is nodes that do not agree about the slot map.
type Disagreement struct {
	// Nodes are the nodes that did not answer, see no slots, or see a slot
	// map other than the entry node's; the entry node is one of them when
	// it sees no slots.
	Nodes []*Node
}

// Disagreement returns nil when every loaded node sees the same slot map
// (redis-cli's "All nodes agree about slots configuration"). The first
// call after loading compares the slot maps the nodes reported while
// loading, milliseconds before; later calls ask every node for CLUSTER
// NODES again (redis-cli asks again each time: on a large cluster that
// second round costs as much as the load). Each reply is reduced to its
// signature as it comes in: the replies together hold a line per pair of
// nodes.
func (c *Cluster) Disagreement(ctx context.Context) *Disagreement {
	sigs := make([]string, len(c.Nodes))
	fresh := c.slotMapsFresh
	c.slotMapsFresh = false
	node.Each(len(c.Nodes), func(i int) {
		if fresh {
			sigs[i] = c.Nodes[i].slotMap
			return
		}
		text, _ := node.ClusterNodes(ctx, c.Nodes[i].Client)
		sigs[i], _ = SlotMapSignature(text)
	})
	idx := Disagreeing(sigs)
	if len(idx) == 0 {
		return nil
	}
	d := &Disagreement{}
	for _, i := range idx {
		d.Nodes = append(d.Nodes, c.Nodes[i])
	}
	return d
}

// Views is every loaded node's CLUSTER NODES reply, in node order ("" when
// a node did not answer).
func (c *Cluster) Views(ctx context.Context) []string {
	texts := make([]string, len(c.Nodes))
	node.Each(len(c.Nodes), func(i int) { texts[i], _ = node.ClusterNodes(ctx, c.Nodes[i].Client) })
	return texts
}

// SlotMapSignature is redis-cli's summary of the slot map a node sees,
// from its CLUSTER NODES reply: for every node with slots, "id:tok,tok"
// with the tokens sorted, all sorted and joined by "|". ok is false when
// the node sees no slots or did not answer (text "").
func SlotMapSignature(text string) (sig string, ok bool) {
	var cfgs, toks []string
	for raw := range strings.SplitSeq(text, "\n") {
		l, ok := cluster.SplitLine(raw)
		if !ok {
			continue
		}
		if toks = l.SlotTokens(toks[:0]); len(toks) == 0 {
			continue
		}
		sort.Strings(toks)
		cfgs = append(cfgs, l.ID+":"+strings.Join(toks, ","))
	}
	if len(cfgs) == 0 {
		return "", false
	}
	sort.Strings(cfgs)
	return strings.Join(cfgs, "|"), true
}

// Disagreeing returns the indexes of the signatures (in node order, ""
// for a node that sees no slots or did not answer) that are "" or differ
// from the first: none when all nodes agree. A lone node agrees with
// itself.
func Disagreeing(sigs []string) []int {
	if len(sigs) <= 1 {
		return nil
	}
	var out []int
	for i, sig := range sigs {
		if sig == "" || sig != sigs[0] {
			out = append(out, i)
		}
	}
	return out
}

// OpenSlots is one node's slots in one open state.
type OpenSlots struct {
	Node *Node
	// State is node.Migrating or node.Importing.
	State node.SlotState
	// Slots are the open slots, each with the node on the other side.
	Slots []cluster.SlotPeer
}

// OpenSlots lists the slots in migrating or importing state, in node
// order, a node's migrating slots before its importing ones. The lists are
// copies: they stay as found while a fixer closes slots.
func (c *Cluster) OpenSlots() []OpenSlots {
	var out []OpenSlots
	for _, n := range c.Nodes {
		if len(n.Migrating) > 0 {
			out = append(out, OpenSlots{Node: n, State: node.Migrating, Slots: slices.Clone(n.Migrating)})
		}
		if len(n.Importing) > 0 {
			out = append(out, OpenSlots{Node: n, State: node.Importing, Slots: slices.Clone(n.Importing)})
		}
	}
	return out
}

// PeerState says why the node on the other side of an open slot cannot
// take part in the move any more.
type PeerState int

const (
	// PeerUnreachable: the entry node knows the peer, but it could not be
	// loaded.
	PeerUnreachable PeerState = iota + 1
	// PeerUnknown: no node of the cluster has the peer's ID.
	PeerUnknown
	// PeerReplica: the peer is now a replica.
	PeerReplica
)

// PeerGone is an open slot whose peer cannot take part in the move.
type PeerGone struct {
	Node  *Node
	State node.SlotState
	cluster.SlotPeer
	Peer PeerState
}

// PeersGone lists the open slots of open whose peer is unreachable,
// unknown or now a replica: what makes them harder to repair.
func (c *Cluster) PeersGone(open []OpenSlots) []PeerGone {
	var out []PeerGone
	for _, o := range open {
		for _, p := range o.Slots {
			var why PeerState
			switch peer := c.NodeByID(p.NodeID); {
			case peer == nil && c.EntryLine(p.NodeID) != nil:
				why = PeerUnreachable
			case peer == nil:
				why = PeerUnknown
			case peer.IsReplica():
				why = PeerReplica
			default:
				continue
			}
			out = append(out, PeerGone{Node: o.Node, State: o.State, SlotPeer: p, Peer: why})
		}
	}
	return out
}

// FailingWithOpenSlots lists the masters of open that report
// cluster_state:fail, in node order: a master ignores the owner changes
// of a slot it imports, so its open slot can keep it failing.
func (c *Cluster) FailingWithOpenSlots(ctx context.Context, open []OpenSlots) []*Node {
	var masters []*Node
	for _, o := range open {
		if o.Node.IsMaster() && (len(masters) == 0 || masters[len(masters)-1] != o.Node) {
			masters = append(masters, o.Node)
		}
	}
	failing := make([]bool, len(masters))
	node.Each(len(masters), func(i int) {
		info, _ := node.ClusterInfo(ctx, masters[i].Client)
		state, _ := node.InfoField(info, "cluster_state")
		failing[i] = state == "fail"
	})
	var out []*Node
	for i, n := range masters {
		if failing[i] {
			out = append(out, n)
		}
	}
	return out
}

// StrandedKeys is a master holding keys in slots that another master owns
// and that are not open: clients never reach them.
type StrandedKeys struct {
	Node  *Node
	Slots cluster.SlotSet
}

// StrandedKeys finds keys on masters in slots that another master owns,
// leaving out the slots of open (an open slot's keys are expected on two
// nodes). redis-cli's check does not look; a move cut short and a
// forgotten node leave them.
func (c *Cluster) StrandedKeys(ctx context.Context, open []OpenSlots) []StrandedKeys {
	var skip cluster.SlotSet
	for _, o := range open {
		for _, p := range o.Slots {
			skip.Add(p.Slot)
		}
	}
	covered := c.Covered()
	masters := c.Masters()
	found := make([]cluster.SlotSet, len(masters))
	node.Each(len(masters), func(i int) {
		if hasKeysOutsideOwned(ctx, masters[i]) {
			found[i] = keysOutsideOwned(ctx, masters[i])
		}
	})
	var out []StrandedKeys
	for i, n := range masters {
		var mine cluster.SlotSet
		for s := 0; s < cluster.NumSlots; s++ {
			if found[i].Has(s) && covered.Has(s) && !skip.Has(s) {
				mine.Add(s)
			}
		}
		if mine.Count() > 0 {
			out = append(out, StrandedKeys{Node: n, Slots: mine})
		}
	}
	return out
}

// Uncovered is the set of slots no loaded node owns (empty when all 16384
// are covered).
func (c *Cluster) Uncovered() cluster.SlotSet {
	covered := c.Covered()
	var missing cluster.SlotSet
	for s := 0; s < cluster.NumSlots; s++ {
		if !covered.Has(s) {
			missing.Add(s)
		}
	}
	return missing
}

// MultipleOwners is a slot owned by, or holding keys on, more than one
// master (redis-cli's --cluster-search-multiple-owners).
type MultipleOwners struct {
	Slot int
	// Owners are the masters that own the slot or hold keys in it, in
	// node order.
	Owners []*Node
}

// MultipleOwners lists the slots with more than one owner, in slot order.
func (c *Cluster) MultipleOwners(ctx context.Context) []MultipleOwners {
	masters := c.Masters()
	// keys[i] holds, for master i, which slots it does not own but has keys in.
	keys := make([]cluster.SlotSet, len(masters))
	node.Each(len(masters), func(i int) { keys[i] = keysOutsideOwned(ctx, masters[i]) })
	var out []MultipleOwners
	for slot := 0; slot < cluster.NumSlots; slot++ {
		var owners []*Node
		for i, n := range masters {
			if n.Slots.Has(slot) || keys[i].Has(slot) {
				owners = append(owners, n)
			}
		}
		if len(owners) > 1 {
			out = append(out, MultipleOwners{Slot: slot, Owners: owners})
		}
	}
	return out
}

// keysOutsideOwned asks a master, in pipelined batches, which slots it
// does not own it holds keys in.
func keysOutsideOwned(ctx context.Context, n *Node) cluster.SlotSet {
	var slots []int
	for s := 0; s < cluster.NumSlots; s++ {
		if !n.Slots.Has(s) {
			slots = append(slots, s)
		}
	}
	return slotsWithKeys(ctx, n, slots)
}

// hasKeysOutsideOwned reports whether a master may hold keys in slots it
// does not own: false only when, in one transaction, its DBSIZE equals the
// sum of its owned slots' key counts. Asking this first spares the 16384
// COUNTKEYSINSLOT of keysOutsideOwned on every master of a healthy cluster,
// where a master owns a few hundred slots. A master owning most slots is
// asked the long way at once.
func hasKeysOutsideOwned(ctx context.Context, n *Node) bool {
	owned := n.Slots.Slots()
	if len(owned) > cluster.NumSlots/2 {
		return true
	}
	cmds := []node.Cmd{{"DBSIZE"}}
	for _, s := range owned {
		cmds = append(cmds, node.CountKeysInSlotCmd(s))
	}
	res, err := n.Client.Transaction(ctx, cmds)
	if err != nil {
		return true
	}
	total, err := node.Int(res[0].Val, res[0].Err)
	for _, r := range res[1:] {
		c, cerr := node.Int(r.Val, r.Err)
		if cerr != nil {
			err = cerr
		}
		total -= c
	}
	return err != nil || total != 0
}

// slotsWithKeys returns which of slots n holds keys in, asking in
// pipelines of COUNTKEYSINSLOT.
func slotsWithKeys(ctx context.Context, n *Node, slots []int) cluster.SlotSet {
	var out cluster.SlotSet
	cmds := make([]node.Cmd, len(slots))
	for i, s := range slots {
		cmds[i] = node.CountKeysInSlotCmd(s)
	}
	for i, r := range node.PipelineAll(ctx, n.Client, cmds) {
		if c, err := node.Int(r.Val, r.Err); err == nil && c > 0 {
			out.Add(slots[i])
		}
	}
	return out
}
