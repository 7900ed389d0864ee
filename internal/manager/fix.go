package manager

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// The fixers of redis-cli's fix command (clusterManagerFix*). They run only
// when Opts.Fix is set, from inside Check, at the points redis-cli runs them.

// refuseUnreachable stops the run, as redis-cli's exit(1), when masters are
// unreachable and --fix-with-unreachable-masters was not given.
func (m *Manager) refuseUnreachable(what string) bool {
	if m.UnreachableMasters > 0 && !m.Opts.FixWithUnreachable {
		m.P.Warn(m.P.Words().UnreachableFix, what, m.UnreachableMasters)
		m.Aborted = true
		return true
	}
	return false
}

// clearSlot sends SETSLOT STABLE, printing an error reply.
func (m *Manager) clearSlot(ctx context.Context, n *Node, slot int) bool {
	if !m.replied(n, node.SetSlot(ctx, n.Client, slot, node.Stable, "")) {
		return false
	}
	n.SetStable(slot)
	return true
}

// setSlot sends SETSLOT slot state id, printing an error reply.
func (m *Manager) setSlot(ctx context.Context, n *Node, slot int, state node.SlotState, id string) bool {
	return m.replied(n, node.SetSlot(ctx, n.Client, slot, state, id))
}

// replied prints redis-cli's message for n's error reply, if there was
// one, and reports whether the command succeeded.
func (m *Manager) replied(n *Node, err error) bool {
	if err != nil {
		m.P.ReplyError(n.Addr(), replyText(err))
		return false
	}
	return true
}

// countKeys is CLUSTER COUNTKEYSINSLOT; -1 on error.
func (m *Manager) countKeys(ctx context.Context, n *Node, slot int) int64 {
	c, err := node.CountKeysInSlot(ctx, n.Client, slot)
	if err != nil {
		m.P.ReplyError(n.Addr(), replyText(err))
		return -1
	}
	return c
}

// delSlot sends DELSLOTS; with ignoreUnassigned an error is forgiven when the
// node sees no owner for the slot.
func (m *Manager) delSlot(ctx context.Context, n *Node, slot int, ignoreUnassigned bool) bool {
	err := node.DelSlots(ctx, n.Client, slot)
	if err == nil {
		return true
	}
	if ignoreUnassigned {
		if served, e := node.SlotServed(ctx, n.Client, slot); e == nil && !served {
			return true
		}
	}
	m.P.ReplyError(n.Addr(), replyText(err))
	return false
}

// setSlotOwner makes n the owner of slot in one transaction:
// DELSLOTS, ADDSLOTS, [SETSLOT STABLE], BUMPEPOCH. Only an ADDSLOTS failure
// counts, as in redis-cli.
func (m *Manager) setSlotOwner(ctx context.Context, n *Node, slot int, clear bool) bool {
	cmds := []node.Cmd{node.DelSlotsCmd(slot), node.AddSlotsCmd(slot)}
	if clear {
		cmds = append(cmds, node.SetSlotCmd(slot, node.Stable, ""))
	}
	cmds = append(cmds, node.BumpEpochCmd())
	res, err := n.Client.Transaction(ctx, cmds)
	if err != nil {
		m.P.ReplyError(n.Addr(), replyText(err))
		return false
	}
	if res[1].Err != nil {
		m.P.ReplyError(n.Addr(), replyText(res[1].Err))
		return false
	}
	return true
}

// nodeWithMostKeys returns the master among nodes with the most keys in
// slot (the first on ties), or nil, having printed the error, when a node
// failed to answer.
func (m *Manager) nodeWithMostKeys(ctx context.Context, nodes []*Node, slot int) *Node {
	var best *Node
	var most int64
	for _, n := range nodes {
		if n.IsReplica() {
			continue
		}
		c, err := node.CountKeysInSlot(ctx, n.Client, slot)
		if err != nil {
			m.P.ReplyError(n.Addr(), replyText(err))
			return nil
		}
		if best == nil || c > most {
			best, most = n, c
		}
	}
	return best
}

// FixSlotsCoverage assigns the uncovered slots the check found
// (clusterManagerFixSlotsCoverage) and returns how many it fixed, or -1 on
// failure.
func (m *Manager) FixSlotsCoverage(ctx context.Context, uncoveredSlots *cluster.SlotSet) int {
	if m.refuseUnreachable("slots coverage") {
		return -1
	}
	m.P.Info(">>> Fixing slots coverage...\n")
	masters := []*Node{}
	for _, n := range m.Nodes {
		if n.IsMaster() {
			masters = append(masters, n)
		}
	}
	uncovered := m.P.Dialect.NewDict()
	withKeys := map[int][]*Node{}
	for _, slot := range uncoveredSlots.Slots() {
		for _, n := range masters {
			keys, err := node.GetKeysInSlot(ctx, n.Client, slot, 1)
			if err != nil {
				return -1
			}
			if len(keys) > 0 {
				withKeys[slot] = append(withKeys[slot], n)
			}
		}
		uncovered.Add(strconv.Itoa(slot))
	}
	var none, single, multi []int
	for _, k := range uncovered.Keys() {
		s := cluster.Atoi(k)
		switch len(withKeys[s]) {
		case 0:
			none = append(none, s)
		case 1:
			single = append(single, s)
		default:
			multi = append(multi, s)
		}
	}
	fixed := 0
	// cover gives each slot to the master pick chooses.
	cover := func(slots []int, pick func(slot int) *Node) bool {
		for _, s := range slots {
			n := pick(s)
			m.P.Info(">>> Covering slot %d with %s\n", s, n.Addr())
			if !m.setSlotOwner(ctx, n, s, false) {
				return false
			}
			n.Slots.Add(s)
			fixed++
		}
		return true
	}
	if len(none) > 0 {
		m.P.Plain("The following uncovered slots have no keys across the cluster:\n")
		m.printSlotList(none)
		if m.confirmForced("Fix these slots by covering with a random node?") &&
			!cover(none, func(int) *Node { return m.leastSlotsMaster() }) {
			return -1
		}
	}
	if len(single) > 0 {
		m.P.Plain("The following uncovered slots have keys in just one node:\n")
		m.printSlotList(single)
		if m.confirmForced("Fix these slots by covering with those nodes?") &&
			!cover(single, func(s int) *Node { return withKeys[s][0] }) {
			return -1
		}
	}
	if len(multi) > 0 {
		m.P.Plain("The following uncovered slots have keys in multiple nodes:\n")
		m.printSlotList(multi)
		if m.confirmForced("Fix these slots by moving keys into a single node?") {
			for _, s := range multi {
				target := m.nodeWithMostKeys(ctx, withKeys[s], s)
				if target == nil {
					return -1
				}
				m.P.Info(">>> Covering slot %d moving keys to %s\n", s, target.Addr())
				if !m.setSlotOwner(ctx, target, s, true) {
					return -1
				}
				target.Slots.Add(s)
				// The target refuses the keys (CLUSTERDOWN) until it has heard
				// who covers the slots fixed just before; redis-cli races here.
				m.waitStateOK(ctx, target, 10*time.Second)
				for _, src := range withKeys[s] {
					if src == target {
						continue
					}
					if !m.setSlot(ctx, src, s, node.Owner, target.ID) ||
						!m.setSlot(ctx, src, s, node.Importing, target.ID) {
						return -1
					}
					if ok, _ := m.moveSlot(ctx, src, target, s, moveOpts{verbose: true, cold: true}); !ok {
						return -1
					}
					if !m.clearSlot(ctx, src, s) {
						return -1
					}
				}
				fixed++
			}
		}
	}
	return fixed
}

// waitStateOK waits, at most d, until n reports cluster_state:ok.
func (m *Manager) waitStateOK(ctx context.Context, n *Node, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		info, err := node.ClusterInfo(ctx, n.Client)
		if v, _ := node.InfoField(info, "cluster_state"); err != nil || v == "ok" {
			return
		}
		if sleep(ctx, pollInterval) != nil {
			return
		}
	}
}

// leastSlotsMaster picks the master that covers an uncovered slot without
// keys. redis-cli picks at random (re-seeded every second, so all slots of
// one second go to one master); rcluster spreads them over the masters with
// the fewest slots, deterministically.
func (m *Manager) leastSlotsMaster() *Node {
	var best *Node
	for _, n := range m.Masters() {
		if best == nil || n.Slots.Count() < best.Slots.Count() {
			best = n
		}
	}
	return best
}

func (m *Manager) printSlotList(slots []int) {
	set := cluster.SlotsOf(slots...)
	m.P.Plain("%s\n", set.String())
}

// confirmForced asks a question that redis-cli asks even with --cluster-yes.
// rcluster's --yes answers it too (a documented difference).
func (m *Manager) confirmForced(msg string) bool {
	if m.Confirm == nil {
		return true
	}
	return m.Confirm(msg)
}

// FixOpenSlot repairs one open slot (clusterManagerFixOpenSlot).
func (m *Manager) FixOpenSlot(ctx context.Context, slot int) bool {
	if m.refuseUnreachable("open slots") {
		return false
	}
	m.P.Info(">>> Fixing open slot %d\n", slot)
	return m.repairSlot(ctx, slot)
}

// repairSlot brings every key of slot to one owner and closes the slot
// everywhere. It prints what redis-cli's open-slot fixer prints, in its
// order, but repairs so that no acknowledged write is lost
// (docs/reliability.md):
//   - the node clients are served by (servingMaster) stays the owner, or
//     the move it was making is finished; redis-cli picks the node with
//     the most keys, and a node that loses its slot that way deletes its
//     keys of the slot;
//   - a key on two nodes keeps the copy of the node clients were served
//     by, whatever --replace says; values are compared only when nobody
//     knows, and with DUMP where DEBUG is disabled;
//   - a node whose keys move out is first told who owns the slot, so
//     that a node left at cluster_state:fail by its importing state
//     serves MIGRATE again.
func (m *Manager) repairSlot(ctx context.Context, slot int) bool {
	defer m.InFlight.start(fmt.Sprintf("slot %d (being repaired)", slot))()
	serving := m.servingMaster(slot)
	var owners, migrating, importing []*Node
	for _, n := range m.Nodes {
		if n.IsReplica() {
			continue
		}
		if n.Slots.Has(slot) {
			owners = append(owners, n)
			continue
		}
		c := m.countKeys(ctx, n, slot)
		if c < 0 {
			return false
		}
		if c > 0 {
			m.P.Warn("*** Found keys about slot %d in non-owner node %s!\n", slot, n.Addr())
			owners = append(owners, n)
		}
	}
	var owner *Node
	if len(owners) == 1 {
		owner = owners[0]
	}
	var migStr, impStr []string
	for _, n := range m.Nodes {
		if n.IsReplica() {
			continue
		}
		switch {
		case n.IsMigrating(slot):
			migrating = append(migrating, n)
			migStr = append(migStr, n.Addr())
		case n.IsImporting(slot):
			importing = append(importing, n)
			impStr = append(impStr, n.Addr())
		case n != owner:
			c := m.countKeys(ctx, n, slot)
			if c < 0 {
				return false
			}
			if c > 0 {
				m.P.Warn("*** Found keys about slot %d in node %s!\n", slot, n.Addr())
				importing = append(importing, n)
				impStr = append(impStr, n.Addr())
			}
		}
	}
	if len(migStr) > 0 {
		m.P.Plain("Set as migrating in: %s\n", strings.Join(migStr, ","))
	}
	if len(impStr) > 0 {
		m.P.Plain("Set as importing in: %s\n", strings.Join(impStr, ","))
	}
	if owner == nil {
		m.P.Info(">>> No single clear owner for the slot, selecting an owner by # of keys...\n")
		if dst := unfinishedMove(slot, serving, owners, migrating, importing); dst != nil {
			return m.finishMove(ctx, slot, serving, dst)
		}
		owner = serving
		if owner == nil {
			owner = m.nodeWithMostKeys(ctx, m.Nodes, slot)
		}
		if owner == nil {
			m.P.Err("[ERR] Can't select a slot owner. Impossible to fix.\n")
			return false
		}
		m.P.Warn("*** Configuring %s as the slot owner\n", owner.Addr())
		if !m.clearSlot(ctx, owner, slot) || !m.setSlotOwner(ctx, owner, slot, false) {
			return false
		}
		owner.Slots.Add(slot)
		migrating = without(migrating, owner)
		importing = without(importing, owner)
	}
	if len(owners) > 1 {
		for _, n := range owners {
			if n == owner {
				continue
			}
			if !m.delSlot(ctx, n, slot, true) {
				return false
			}
			n.Slots.Remove(slot)
			if !m.setSlot(ctx, n, slot, node.Owner, owner.ID) || !m.setSlot(ctx, n, slot, node.Importing, owner.ID) {
				return false
			}
			importing = append(without(importing, n), n)
			migrating = without(migrating, n)
		}
	}
	switch {
	case len(migrating) == 1 && len(importing) == 1:
		src, dst := migrating[0], importing[0]
		m.P.Info(">>> Case 1: Moving slot %d from %s to %s\n", slot, src.Addr(), dst.Addr())
		ok, _ := m.moveSlot(ctx, src, dst, slot, moveOpts{verbose: true, update: true, keep: keepFor(serving, src, dst)})
		return ok
	case len(migrating) == 0 && len(importing) > 0:
		m.P.Info(">>> Case 2: Moving all the %d slot keys to its owner %s\n", slot, owner.Addr())
		for _, n := range importing {
			if n == owner {
				continue
			}
			if !m.bindTo(ctx, n, slot, owner) {
				return false
			}
			if ok, _ := m.moveSlot(ctx, n, owner, slot, moveOpts{verbose: true, cold: true, keep: keepFor(serving, n, owner)}); !ok {
				return false
			}
			m.P.Info(">>> Setting %d as STABLE in %s\n", slot, n.Addr())
			if !m.clearSlot(ctx, n, slot) {
				return false
			}
		}
		return m.tellOwner(ctx, slot, owner)
	case len(migrating) == 1 && len(importing) > 1:
		src := migrating[0]
		targetID := ""
		for _, p := range src.Migrating {
			if p.Slot == slot {
				targetID = p.NodeID
				break
			}
		}
		var dst *Node
		for _, n := range importing {
			c := m.countKeys(ctx, n, slot)
			if c < 0 {
				return false
			}
			if c > 0 {
				return m.unhandled(slot, migStr, impStr, owner)
			}
			if n.ID == targetID {
				dst = n
			}
		}
		if dst != nil {
			m.P.Info(">>> Case 3: Moving slot %d from %s to %s and closing it on all the other importing nodes.\n",
				slot, src.Addr(), dst.Addr())
			if ok, _ := m.moveSlot(ctx, src, dst, slot, moveOpts{verbose: true, keep: keepFor(serving, src, dst)}); !ok {
				return false
			}
			for _, n := range importing {
				if n != dst && !m.clearSlot(ctx, n, slot) {
					return false
				}
			}
			return true
		}
		m.P.Info(">>> Case 3: Closing slot %d on both migrating and importing nodes.\n", slot)
		if !m.clearSlot(ctx, src, slot) {
			return false
		}
		for _, n := range importing {
			if !m.clearSlot(ctx, n, slot) {
				return false
			}
		}
		return true
	}
	closable := len(importing) == 0 && len(migrating) == 1
	if closable && owner != migrating[0] {
		keys, err := node.GetKeysInSlot(ctx, migrating[0].Client, slot, 10)
		if err != nil {
			m.P.ReplyError(migrating[0].Addr(), replyText(err))
			return false
		}
		closable = len(keys) == 0
	}
	if !closable {
		return m.unhandled(slot, migStr, impStr, owner)
	}
	n := migrating[0]
	m.P.Info(">>> Case 4: Closing slot %d on %s\n", slot, n.Addr())
	return m.clearSlot(ctx, n, slot)
}

// servingMaster is the master that clients are sent to for slot: the one
// that claims it in its own view, or, when two claim it, the one whose
// claim has the higher config epoch and wins. nil when nobody claims it.
func (m *Manager) servingMaster(slot int) *Node {
	var best *Node
	tie := false
	for _, n := range m.Nodes {
		if n.IsReplica() || !n.Slots.Has(slot) {
			continue
		}
		switch {
		case best == nil || n.ConfigEpoch > best.ConfigEpoch:
			best, tie = n, false
		case n.ConfigEpoch == best.ConfigEpoch:
			tie = true
		}
	}
	if tie {
		return nil
	}
	return best
}

// unfinishedMove returns the target of the move that serving was making
// when it stopped, if the slot is in that state and no other node has
// keys or a state for it: the move can then simply go on.
func unfinishedMove(slot int, serving *Node, owners, migrating, importing []*Node) *Node {
	if serving == nil || len(migrating) != 1 || migrating[0] != serving || len(importing) != 1 {
		return nil
	}
	dst := importing[0]
	for _, p := range serving.Migrating {
		if p.Slot == slot && p.NodeID != dst.ID {
			return nil
		}
	}
	for _, n := range owners {
		if n != serving && n != dst {
			return nil
		}
	}
	return dst
}

// finishMove ends an unfinished move by moving the rest of the slot from
// src to dst with the full protocol: clients keep being redirected to dst
// for the keys that already moved, and src's copy of a key on both wins.
// It prints what redis-cli prints when it picks dst as the owner (Case 2).
func (m *Manager) finishMove(ctx context.Context, slot int, src, dst *Node) bool {
	m.P.Warn("*** Configuring %s as the slot owner\n", dst.Addr())
	m.P.Info(">>> Case 2: Moving all the %d slot keys to its owner %s\n", slot, dst.Addr())
	if ok, _ := m.moveSlot(ctx, src, dst, slot, moveOpts{verbose: true, update: true, keep: migrate.KeepSource}); !ok {
		return false
	}
	m.P.Info(">>> Setting %d as STABLE in %s\n", slot, src.Addr())
	return m.clearSlot(ctx, src, slot)
}

// keepFor says whose copy of a key on both nodes wins when keys move from
// src to dst: the copy on the node clients were served by.
func keepFor(serving, src, dst *Node) migrate.Keep {
	switch serving {
	case src:
		return migrate.KeepSource
	case dst:
		return migrate.KeepTarget
	}
	return migrate.KeepUnknown // nobody served the slot, or a third node did
}

// bindTo prepares n, which holds keys of slot without owning it, to send
// them to owner: n learns that owner owns the slot (a node that imports a
// slot ignores the owner's claims, and if it still thinks a failed node
// owns it, it answers CLUSTERDOWN to everything, MIGRATE included), and it
// is set importing, the state in which a node runs MIGRATE for a slot it
// does not own.
//
// A move of several slots cut short leaves n importing the others from
// the same gone node: n stays at cluster_state:fail until it learns their
// owners too, so each of them is bound to its serving master as well (its
// keys move when its turn comes).
func (m *Manager) bindTo(ctx context.Context, n *Node, slot int, owner *Node) bool {
	if !m.setSlot(ctx, n, slot, node.Owner, owner.ID) || !m.setSlot(ctx, n, slot, node.Importing, owner.ID) {
		return false
	}
	for _, p := range n.Importing {
		if peer := m.NodeByID(p.NodeID); p.Slot == slot || (peer != nil && peer.IsMaster()) {
			continue
		}
		serving := m.servingMaster(p.Slot)
		if serving == nil || serving == n {
			continue
		}
		if !m.setSlot(ctx, n, p.Slot, node.Owner, serving.ID) || !m.setSlot(ctx, n, p.Slot, node.Importing, serving.ID) {
			return false
		}
	}
	return true
}

// tellOwner tells every master but owner that owner owns slot.
func (m *Manager) tellOwner(ctx context.Context, slot int, owner *Node) bool {
	for _, n := range m.Nodes {
		if n == owner || n.IsReplica() {
			continue
		}
		if !m.setSlot(ctx, n, slot, node.Owner, owner.ID) {
			return false
		}
	}
	return true
}

func (m *Manager) unhandled(slot int, migStr, impStr []string, owner *Node) bool {
	m.P.Err(m.P.Words().CannotFixSlot,
		strings.Join(migStr, ","), strings.Join(impStr, ","), owner.Addr())
	return false
}

func without(l []*Node, n *Node) []*Node {
	out := l[:0:0]
	for _, x := range l {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}

// FixMultipleSlotOwners leaves one owner for slot and moves the others'
// keys to it (clusterManagerFixMultipleSlotOwners). The owner is the
// master clients are served by when it is one of owners, else, as in
// redis-cli, the one with the most keys; a key on two nodes keeps the
// serving master's copy (see repairSlot).
func (m *Manager) FixMultipleSlotOwners(ctx context.Context, slot int, owners []*Node) bool {
	m.P.Info(">>> Fixing multiple owners for slot %d...\n", slot)
	serving := m.servingMaster(slot)
	owner := serving
	if !contains(owners, owner) {
		owner = m.nodeWithMostKeys(ctx, owners, slot)
	}
	if owner == nil {
		owner = owners[0]
	}
	m.P.Info(">>> Setting slot %d owner: %s\n", slot, owner.Addr())
	if !m.setSlotOwner(ctx, owner, slot, false) {
		return false
	}
	for _, n := range m.Nodes {
		if n == owner || n.IsReplica() {
			continue
		}
		c := m.countKeys(ctx, n, slot)
		if c < 0 || !m.delSlot(ctx, n, slot, true) || !m.setSlot(ctx, n, slot, node.Owner, owner.ID) {
			return false
		}
		n.Slots.Remove(slot)
		if c == 0 {
			continue
		}
		if !m.bindTo(ctx, n, slot, owner) {
			return false
		}
		if ok, _ := m.moveSlot(ctx, n, owner, slot, moveOpts{verbose: true, cold: true, keep: keepFor(serving, n, owner)}); !ok {
			return false
		}
		if !m.clearSlot(ctx, n, slot) {
			return false
		}
	}
	return true
}
