package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

// ReshardText writes reshard's questions, plan and failures in redis-cli's
// words (clusterManagerCommandReshard), and rcluster's report of a run
// stopped by Ctrl-C or a failed move.
type ReshardText struct{ P *Printer }

// The questions reshard asks on stdin when its flags do not answer them.
const (
	AskSlots   = "How many slots do you want to move (from 1 to 16384)? "
	AskTarget  = "What is the receiving node ID? "
	AskReshard = "Do you want to proceed with the proposed reshard plan (yes/no)? "
)

// SlotsText is "slot N" or "slots N-M,K".
func SlotsText(slots []int) string {
	if len(slots) == 1 {
		return "slot " + strconv.Itoa(slots[0])
	}
	set := cluster.SlotsOf(slots...)
	return "slots " + set.String()
}

// AskSource asks for the source node number i (from 1).
func AskSource(i int) string { return fmt.Sprintf("Source node #%d: ", i) }

func (t ReshardText) SourcesHelp() {
	t.P.Plain("Please enter all the source node IDs.\n")
	t.P.Plain("  Type 'all' to use all the nodes as source nodes for the hash slots.\n")
	t.P.Plain("  Type 'done' once you entered all the source nodes IDs.\n")
}

// SlotMoved ends a slot's "Moving slot" line.
func (t ReshardText) SlotMoved() { t.P.Plain("\n") }

// NotAMaster refuses a node ID that is no master's.
func (t ReshardText) NotAMaster(id string) { t.P.Err(t.P.Words().NotAPrimary, id) }

func (t ReshardText) FixFirst() {
	t.P.Stderr("*** Please fix your cluster problems before resharding\n")
}

func (t ReshardText) NoSources() { t.P.Stderr("*** No source nodes given, operation aborted.\n") }

func (t ReshardText) TargetAsSource() {
	t.P.Err("*** It is not possible to use the target node as source node.\n")
}

// Plan is the plan shown before the question: the nodes, and a line per
// slot of each move (source ID and slots).
func (t ReshardText) Plan(slots int, sources []*cluster.Node, target *cluster.Node, moves []plan.Move) {
	t.P.Plain("\nReady to move %d slots.\n", slots)
	t.P.Plain("  Source nodes:\n")
	for _, s := range sources {
		t.P.Plain("%s\n", NodeBlock(s, 4, false))
	}
	t.P.Plain("  Destination node:\n")
	t.P.Plain("%s\n", NodeBlock(target, 4, false))
	t.P.Plain("  Resharding plan:\n")
	for _, mv := range moves {
		for _, s := range mv.Slots {
			t.P.Plain("    Moving slot %d from %s\n", s, mv.Source)
		}
	}
}

// MoveFailed is redis-cli's line after a failed slot move of reshard
// (text: the error, "" for none).
func (t ReshardText) MoveFailed(text string) {
	if text != "" {
		t.P.Err("clusterManagerMoveSlot failed: %s\n", text)
	}
}

func (t ReshardText) NoAnswer() {
	t.P.Stderr("\n*** No answer: standard input ended. Give the answers with --slots, --to, --from and --yes.\n")
}

// MoveLeftOpen says where a move failed and what repairs it: open is the
// slots that may be left open (slot among them), entry the node to give
// fix.
func (t ReshardText) MoveLeftOpen(slot int, open []int, src, dst, entry string) {
	what := "the slot may be left open, some of its keys"
	if len(open) > 1 {
		what = SlotsText(open) + " may be left open, some of their keys"
	}
	t.P.Stderr("*** Moving slot %d from %s to %s failed: %s on each node.\n", slot, src, dst, what)
	t.P.Stderr("*** Run 'rcluster fix %s' to repair it; then run this command again for the slots not moved.\n", entry)
}

// Interrupted says that Ctrl-C stopped the run before slot, none left open.
func (t ReshardText) Interrupted(slot int) {
	t.P.Stderr("Interrupted: stopped before moving slot %d; no slot is left open.\n", slot)
}

// NotMoved lists the slots of one move (label: "from A", "from A to B")
// that did not move.
func (t ReshardText) NotMoved(label string, slots []int) {
	set := cluster.SlotsOf(slots...)
	t.P.Stderr("Not moved %s: %s\n", label, set.String())
}

// RebalanceText writes rebalance's lines (clusterManagerCommandRebalance).
type RebalanceText struct{ P *Printer }

func (t RebalanceText) InvalidWeight(w string) { t.P.Err("*** invalid input %s\n", w) }

func (t RebalanceText) ReplicaWeight(name, addr string) {
	t.P.Err("*** Node %s (%s) is a replica: only masters take a weight.\n", name, addr)
}

// NoSuchMaster refuses a --weight naming no master.
func (t RebalanceText) NoSuchMaster(name string) { t.P.Err(t.P.Words().NoSuchPrimaryNode, name) }

func (t RebalanceText) FixFirst() {
	t.P.Err("*** Please fix your cluster problems before rebalancing\n")
}

// TableMismatch is redis-cli's assertion (without a newline, as redis-cli).
func (t RebalanceText) TableMismatch() {
	t.P.Err("*** Assertion failed: Reshard table != number of slots")
}

func (t RebalanceText) Cannot(reason string) { t.P.Err("*** Cannot rebalance: %s\n", reason) }

func (t RebalanceText) NotNeeded(threshold float64) {
	t.P.Warn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.\n", threshold)
}

func (t RebalanceText) Across(nodes int, weight float64) {
	t.P.Info(">>> Rebalancing across %d nodes. Total weight = %.2f\n", nodes, weight)
}

// Balance is a node's balance line of --verbose (unit: slots, keys, bytes).
func (t RebalanceText) Balance(addr string, balance int64, unit string) {
	t.P.Plain("%s balance is %d %s\n", addr, balance, unit)
}

// Moving starts a move's line; a "#" per slot follows (all at once when
// simulating), then the newline.
func (t RebalanceText) Moving(slots int, src, dst string) {
	t.P.Plain("Moving %d slots from %s to %s\n", slots, src, dst)
}

func (t RebalanceText) Simulated(slots int) { t.P.Plain("%s\n", strings.Repeat("#", slots)) }

func (t RebalanceText) SlotMoved() { t.P.Plain("#") }

func (t RebalanceText) EndMove() { t.P.Plain("\n") }

// Unreachable says that the moves of rebalance --by keys or memory cannot
// bring every master within the threshold (unit: keys, bytes).
func (t RebalanceText) Unreachable(unit string, threshold float64) {
	t.P.Stderr("*** Some slots hold too many %s for every master to get within the %.2f%% threshold: the moves get as close as they can.\n", unit, threshold)
}

func (t RebalanceText) CannotMeasure(addr string, err error) {
	t.P.Err("*** Cannot measure the slots of %s: %s\n", addr, err)
}

// MoveFailed is redis-cli's line after a failed slot move of rebalance.
func (t RebalanceText) MoveFailed(text string) {
	if text == "" {
		text = "(null)"
	}
	t.P.Err("*** clusterManagerMoveSlot: %s\n", text)
}

// AlreadyOnTarget refuses a --slot-range naming slots the target owns.
func (t ReshardText) AlreadyOnTarget(slots, target string) {
	t.P.Err("*** Slots %s are already on the target node %s: name only slots that other masters own.\n", slots, target)
}

// NotServed refuses a --slot-range naming slots no master owns.
func (t ReshardText) NotServed(slots string) {
	t.P.Err("*** Slots %s are not served by any master: there is nothing to move them from ('rcluster fix' assigns them).\n", slots)
}
