package report

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/repair"
)

// ReplyText is the text redis-cli has for a failed command: the error
// reply, or the I/O error.
func ReplyText(err error) string {
	var re *node.ReplyError
	if errors.As(err, &re) {
		return re.Msg
	}
	return err.Error()
}

// MovingSlotLine starts redis-cli's line of a slot whose keys move; the dots
// and the newline follow.
func (p *Printer) MovingSlotLine(slot int, src, dst string) {
	p.Plain("Moving slot %d from %s to %s: ", slot, src, dst)
}

// FixText writes what fix's repairs (pkg/repair) do, at the moments and in
// the words of redis-cli's fixers. It has the repair.Observer methods of
// the repairs' own steps; the moves' are the caller's.
type FixText struct{ P *Printer }

func (f FixText) FixingOpenSlot(slot int) { f.P.Info(">>> Fixing open slot %d\n", slot) }

func (f FixText) FixingStrandedKeys(slot int) {
	f.P.Info(">>> Fixing slot %d: keys on a node that does not own it\n", slot)
}

func (f FixText) KeysOnNonOwner(slot int, n *repair.Node) {
	f.P.Warn("*** Found keys about slot %d in non-owner node %s!\n", slot, n.Addr())
}

func (f FixText) KeysOnNode(slot int, n *repair.Node) {
	f.P.Warn("*** Found keys about slot %d in node %s!\n", slot, n.Addr())
}

func (f FixText) SlotStates(_ int, migrating, importing []*repair.Node) {
	if len(migrating) > 0 {
		f.P.Plain("Set as migrating in: %s\n", addrs(migrating))
	}
	if len(importing) > 0 {
		f.P.Plain("Set as importing in: %s\n", addrs(importing))
	}
}

func (f FixText) NoClearOwner(int) {
	f.P.Info(">>> No single clear owner for the slot, selecting an owner by # of keys...\n")
}

func (f FixText) OwnerChosen(_ int, n *repair.Node) {
	f.P.Warn("*** Configuring %s as the slot owner\n", n.Addr())
}

func (f FixText) MovingSlot(slot int, src, dst *repair.Node) {
	f.P.Info(">>> Case 1: Moving slot %d from %s to %s\n", slot, src.Addr(), dst.Addr())
}

func (f FixText) MovingKeysToOwner(slot int, owner *repair.Node) {
	f.P.Info(">>> Case 2: Moving all the %d slot keys to its owner %s\n", slot, owner.Addr())
}

func (f FixText) SettingStable(slot int, n *repair.Node) {
	f.P.Info(">>> Setting %d as STABLE in %s\n", slot, n.Addr())
}

func (f FixText) MovingSlotClosingImporters(slot int, src, dst *repair.Node) {
	f.P.Info(">>> Case 3: Moving slot %d from %s to %s and closing it on all the other importing nodes.\n",
		slot, src.Addr(), dst.Addr())
}

func (f FixText) ClosingEverywhere(slot int) {
	f.P.Info(">>> Case 3: Closing slot %d on both migrating and importing nodes.\n", slot)
}

func (f FixText) ClosingSlot(slot int, n *repair.Node) {
	f.P.Info(">>> Case 4: Closing slot %d on %s\n", slot, n.Addr())
}

func (f FixText) MoveStarted(slot int, src, dst *repair.Node) {
	f.P.MovingSlotLine(slot, src.Addr(), dst.Addr())
}

// MoveDone ends the line MoveStarted began (and the dots after it).
func (f FixText) MoveDone(int) { f.P.Plain("\n") }

func (f FixText) FixingCoverage() { f.P.Info(">>> Fixing slots coverage...\n") }

func (f FixText) UncoveredSlots(on repair.KeysOn, slots []int) {
	f.P.Plain("%s", uncoveredHeads[on])
	set := cluster.SlotsOf(slots...)
	f.P.Plain("%s\n", set.String())
}

var uncoveredHeads = map[repair.KeysOn]string{
	repair.KeysNowhere:   "The following uncovered slots have no keys across the cluster:\n",
	repair.KeysOnOne:     "The following uncovered slots have keys in just one node:\n",
	repair.KeysOnSeveral: "The following uncovered slots have keys in multiple nodes:\n",
}

// CoverQuestion is the question redis-cli asks before covering uncovered
// slots whose keys are as on says.
func CoverQuestion(on repair.KeysOn) string { return coverQuestions[on] }

var coverQuestions = map[repair.KeysOn]string{
	repair.KeysNowhere:   "Fix these slots by covering with a random node?",
	repair.KeysOnOne:     "Fix these slots by covering with those nodes?",
	repair.KeysOnSeveral: "Fix these slots by moving keys into a single node?",
}

func (f FixText) Covering(slot int, n *repair.Node) {
	f.P.Info(">>> Covering slot %d with %s\n", slot, n.Addr())
}

func (f FixText) CoveringMovingKeys(slot int, n *repair.Node) {
	f.P.Info(">>> Covering slot %d moving keys to %s\n", slot, n.Addr())
}

func (f FixText) FixingMultipleOwners(slot int) {
	f.P.Info(">>> Fixing multiple owners for slot %d...\n", slot)
}

func (f FixText) SettingOwner(slot int, n *repair.Node) {
	f.P.Info(">>> Setting slot %d owner: %s\n", slot, n.Addr())
}

func (f FixText) NodeFailed(err *repair.NodeError) {
	f.P.ReplyError(err.Node.Addr(), ReplyText(err.Err))
}

// OwnersNotFixed follows a failed repair of a slot with several owners.
func (f FixText) OwnersNotFixed(slot int) {
	f.P.Err("Failed to fix multiple owners for slot %d\n", slot)
}

// Failed writes what redis-cli writes when a repair stops with err; entry
// is the address fix was run with. A failed move or scan writes nothing:
// the move's messages came as it failed, and redis-cli's coverage fixer
// stops silently when a node cannot list a slot's keys.
func (f FixText) Failed(err error, entry string) {
	var ne *repair.NodeError
	var no *repair.NoOwnerError
	var un *repair.UnhandledError
	var ur *repair.UnreachableError
	var ie *repair.InterruptedError
	switch {
	case errors.As(err, &no):
		if errors.As(no.Err, &ne) {
			f.NodeFailed(ne)
		}
		f.P.Err("[ERR] Can't select a slot owner. Impossible to fix.\n")
	case errors.As(err, &un):
		f.P.Err(f.P.Words().CannotFixSlot, addrs(un.Migrating), addrs(un.Importing), un.Owner.Addr())
	case errors.As(err, &ur):
		f.P.Warn(f.P.Words().UnreachableFix, ur.What, ur.Masters)
	case errors.As(err, &ie):
		f.P.Stderr("Interrupted: fix stopped before slot %d; not repaired: %s. Run 'rcluster fix %s' again to repair them.\n",
			ie.Next, ie.Left.String(), entry)
	case errors.As(err, &ne):
		f.NodeFailed(ne)
	}
}

// addrs is nodes' addresses joined by commas.
func addrs(nodes []*repair.Node) string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Addr()
	}
	return strings.Join(out, ",")
}

// FixSteps words what fix would repair (fix --dry-run), a line per kind of
// repair, each to follow "fix would".
func FixSteps(p repair.Plan, withUnreachable bool) []string {
	if p.Refused(withUnreachable) {
		return []string{fmt.Sprintf("refuse: %d unreachable master(s) own slots no reachable master claims "+
			"(bring them back, or pass --fix-with-unreachable-masters)", p.UnreachableMasters)}
	}
	var steps []string
	if p.Open.Count() > 0 {
		steps = append(steps, "repair the open slots "+p.Open.String()+": finish each move the serving master was making, "+
			"or bring the slot's keys to the master clients are served by, keeping its copy of a key found on two nodes, "+
			"then close the slot everywhere")
	}
	if p.Stranded.Count() > 0 {
		steps = append(steps, "bring the keys in slots "+p.Stranded.String()+" held by masters that do not own them to the owner")
	}
	if p.Uncovered.Count() > 0 {
		steps = append(steps, "cover the slots "+p.Uncovered.String()+" (asking first without --yes): with the master holding their keys, "+
			"moving them to one master when several do, else with the master with the fewest slots")
	}
	if p.MultipleOwners > 0 {
		steps = append(steps, fmt.Sprintf("leave one owner for each of the %d slots with several", p.MultipleOwners))
	}
	return steps
}
