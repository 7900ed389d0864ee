package report

import (
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// CheckText writes redis-cli's cluster check (clusterManagerCheckCluster)
// and the summary that info and check start with
// (clusterManagerShowClusterInfo), phase by phase.
type CheckText struct{ P *Printer }

// MasterLine is a master's line of the summary.
func (c CheckText) MasterLine(addr, id string, keys int64, slots, replicas int) {
	c.P.Plain(c.P.Words().InfoLine, addr, id, keys, slots, replicas)
}

// KeysSummary ends the summary.
func (c CheckText) KeysSummary(keys int64, masters int) {
	c.P.Success(c.P.Words().KeysInPrimaries, keys, masters)
	c.P.Plain("%.2f keys per slot on average.\n", float64(float32(keys)/float32(cluster.NumSlots)))
}

func (c CheckText) Performing(entry string) {
	c.P.Info(">>> Performing Cluster Check (using node %s)\n", entry)
}

func (c CheckText) SlotsAgree() { c.P.Success("[OK] All nodes agree about slots configuration.\n") }

func (c CheckText) CheckingOpenSlots() { c.P.Info(">>> Check for open slots...\n") }

// OpenSlots lists the open slots of every node, in the CLI's order.
func (c CheckText) OpenSlots(slots []string) {
	c.P.Err("[WARNING] The following slots are open: %s.\n", strings.Join(slots, ","))
}

func (c CheckText) CheckingCoverage() { c.P.Info(">>> Check slots coverage...\n") }

func (c CheckText) AllCovered() { c.P.Success("[OK] All %d slots covered.\n", cluster.NumSlots) }

func (c CheckText) CheckingMultipleOwners() { c.P.Info(">>> Check for multiple slot owners...\n") }

// SlotOwners names the masters that own, or hold keys of, one slot.
func (c CheckText) SlotOwners(slot int, addrs []string) {
	c.P.Err("[WARNING] Slot %d has %d owners:\n", slot, len(addrs))
	for _, a := range addrs {
		c.P.Err("    %s\n", a)
	}
}

func (c CheckText) NoMultipleOwners() { c.P.Success("[OK] No multiple owners found.\n") }

// The check's errors, which the caller records and prints
// (clusterManagerOnError).
const (
	NodesDisagree = "[ERR] Nodes don't agree about configuration!"
	NotAllCovered = "[ERR] Not all 16384 slots are covered by nodes.\n"
)

// OpenSlotsError is the error of a node with slots in state (migrating or
// importing).
func OpenSlotsError(addr, state string, slots []string) string {
	return "[WARNING] Node " + addr + " has slots in " + state + " state " + strings.Join(slots, ",") + "."
}

// StrandedKeysError is the error of a node holding keys in slots (ranges)
// it does not own.
func StrandedKeysError(addr, ranges string) string {
	return "[WARNING] Node " + addr + " has keys in slots it does not own: " + ranges + "."
}
