package node

import "context"

// Cmd is one command with its arguments, for Client.Pipeline and
// Client.Transaction. The builders below spell the cluster commands once.
type Cmd []any

// SlotState is the state argument of CLUSTER SETSLOT.
type SlotState string

// The states of CLUSTER SETSLOT, spelled as redis-cli sends them.
const (
	Importing SlotState = "importing"
	Migrating SlotState = "migrating"
	Owner     SlotState = "node"
	Stable    SlotState = "STABLE"
)

// SetSlotCmd is CLUSTER SETSLOT slot state [nodeID]; nodeID is left out
// when empty (STABLE).
func SetSlotCmd(slot int, state SlotState, nodeID string) Cmd {
	if nodeID == "" {
		return Cmd{"CLUSTER", "SETSLOT", slot, string(state)}
	}
	return Cmd{"CLUSTER", "SETSLOT", slot, string(state), nodeID}
}

// CountKeysInSlotCmd is CLUSTER COUNTKEYSINSLOT slot.
func CountKeysInSlotCmd(slot int) Cmd { return Cmd{"CLUSTER", "COUNTKEYSINSLOT", slot} }

// GetKeysInSlotCmd is CLUSTER GETKEYSINSLOT slot count.
func GetKeysInSlotCmd(slot, count int) Cmd { return Cmd{"CLUSTER", "GETKEYSINSLOT", slot, count} }

// AddSlotsCmd is CLUSTER ADDSLOTS slot...
func AddSlotsCmd(slots ...int) Cmd { return slotsCmd("ADDSLOTS", slots) }

// DelSlotsCmd is CLUSTER DELSLOTS slot...
func DelSlotsCmd(slots ...int) Cmd { return slotsCmd("DELSLOTS", slots) }

func slotsCmd(sub string, slots []int) Cmd {
	c := make(Cmd, 0, 2+len(slots))
	c = append(c, "CLUSTER", sub)
	for _, s := range slots {
		c = append(c, s)
	}
	return c
}

// BumpEpochCmd is CLUSTER BUMPEPOCH.
func BumpEpochCmd() Cmd { return Cmd{"CLUSTER", "BUMPEPOCH"} }

// MeetCmd is CLUSTER MEET ip port [busPort]; the bus port is sent only
// when it is not the default port+10000.
func MeetCmd(ip string, port, busPort int) Cmd {
	if busPort != 0 && busPort != port+10000 {
		return Cmd{"CLUSTER", "MEET", ip, port, busPort}
	}
	return Cmd{"CLUSTER", "MEET", ip, port}
}

// Run sends one built command.
func Run(ctx context.Context, c Client, cmd Cmd) (any, error) { return c.Do(ctx, cmd...) }

// ClusterNodes is CLUSTER NODES: the node's view of the cluster, as text.
func ClusterNodes(ctx context.Context, c Client) (string, error) {
	return Str(c.Do(ctx, "CLUSTER", "NODES"))
}

// ClusterInfo is CLUSTER INFO, as text.
func ClusterInfo(ctx context.Context, c Client) (string, error) {
	return Str(c.Do(ctx, "CLUSTER", "INFO"))
}

// SlotRange is one entry of CLUSTER SLOTS: a range of slots with an owner.
type SlotRange struct{ From, To int }

// ClusterSlots is CLUSTER SLOTS: the ranges of slots that have an owner.
func ClusterSlots(ctx context.Context, c Client) ([]SlotRange, error) {
	v, err := c.Do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	entries, _ := v.([]any)
	var out []SlotRange
	for _, e := range entries {
		r, _ := e.([]any)
		if len(r) < 3 {
			continue
		}
		from, _ := r[0].(int64)
		to, _ := r[1].(int64)
		out = append(out, SlotRange{int(from), int(to)})
	}
	return out, nil
}

// SlotServed asks c (CLUSTER SLOTS) whether any node serves slot.
func SlotServed(ctx context.Context, c Client, slot int) (bool, error) {
	ranges, err := ClusterSlots(ctx, c)
	if err != nil {
		return false, err
	}
	for _, r := range ranges {
		if slot >= r.From && slot <= r.To {
			return true, nil
		}
	}
	return false, nil
}

// SetSlot is CLUSTER SETSLOT slot state [nodeID].
func SetSlot(ctx context.Context, c Client, slot int, state SlotState, nodeID string) error {
	_, err := Run(ctx, c, SetSlotCmd(slot, state, nodeID))
	return err
}

// CountKeysInSlot is CLUSTER COUNTKEYSINSLOT slot.
func CountKeysInSlot(ctx context.Context, c Client, slot int) (int64, error) {
	return Int(Run(ctx, c, CountKeysInSlotCmd(slot)))
}

// GetKeysInSlot is CLUSTER GETKEYSINSLOT slot count.
func GetKeysInSlot(ctx context.Context, c Client, slot, count int) ([]string, error) {
	return Strings(Run(ctx, c, GetKeysInSlotCmd(slot, count)))
}

// AddSlots is CLUSTER ADDSLOTS slot...
func AddSlots(ctx context.Context, c Client, slots ...int) error {
	_, err := Run(ctx, c, AddSlotsCmd(slots...))
	return err
}

// DelSlots is CLUSTER DELSLOTS slot...
func DelSlots(ctx context.Context, c Client, slots ...int) error {
	_, err := Run(ctx, c, DelSlotsCmd(slots...))
	return err
}

// Meet is CLUSTER MEET ip port [busPort].
func Meet(ctx context.Context, c Client, ip string, port, busPort int) error {
	_, err := Run(ctx, c, MeetCmd(ip, port, busPort))
	return err
}

// Replicate is CLUSTER REPLICATE masterID.
func Replicate(ctx context.Context, c Client, masterID string) error {
	_, err := c.Do(ctx, "CLUSTER", "REPLICATE", masterID)
	return err
}

// Forget is CLUSTER FORGET nodeID.
func Forget(ctx context.Context, c Client, nodeID string) error {
	_, err := c.Do(ctx, "CLUSTER", "FORGET", nodeID)
	return err
}

// SetConfigEpoch is CLUSTER SET-CONFIG-EPOCH epoch.
func SetConfigEpoch(ctx context.Context, c Client, epoch int) error {
	_, err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", epoch)
	return err
}

// ResetSoft is CLUSTER RESET SOFT.
func ResetSoft(ctx context.Context, c Client) error {
	_, err := c.Do(ctx, "CLUSTER", "RESET", "SOFT")
	return err
}

// DoEach sends cmds one after the other through do and returns their
// replies as Pipeline does: the Pipeline of a client that has no round
// trip of several commands (a test double).
func DoEach(ctx context.Context, do func(context.Context, ...any) (any, error), cmds []Cmd) []Result {
	out := make([]Result, len(cmds))
	for i, c := range cmds {
		out[i].Val, out[i].Err = do(ctx, c...)
	}
	return out
}
