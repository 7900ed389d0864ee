package repair

import (
	"context"
	"strconv"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// Node is a loaded node and its connection.
type Node = inspect.Node

// Options of the repairs. The zero Options are usable: keys move as the
// zero migrate.Options move them, and no question is asked.
type Options struct {
	// Migrate configures the moves of keys (timeout, pipeline, replace,
	// credentials); the repairs set its Fix and Keep.
	Migrate migrate.Options
	// WithUnreachable repairs even when masters that own slots could not
	// be loaded (redis-cli's --cluster-fix-with-unreachable-masters): their
	// slots are taken as uncovered, which can lose their keys.
	WithUnreachable bool
	// Confirm asks the operator before a group of uncovered slots is
	// covered (redis-cli asks even with --cluster-yes); nil answers yes.
	Confirm func(KeysOn) bool
}

// KeysOn says where the keys of uncovered slots are, which decides how
// they are covered.
type KeysOn int

const (
	// KeysNowhere: no master holds keys of the slots; each goes to the
	// master with the fewest slots.
	KeysNowhere KeysOn = iota
	// KeysOnOne: one master holds keys of each slot and gets it.
	KeysOnOne
	// KeysOnSeveral: several masters hold keys of each slot; the one with
	// the most gets it and the others' keys move to it.
	KeysOnSeveral
)

// Observer is told what a repair does, at the moments redis-cli prints.
// Embed NopObserver to hear only some of them.
type Observer interface {
	// The moves of keys (dots, busy keys, value checks).
	migrate.Observer

	// FixingOpenSlot: the repair of an open slot starts.
	FixingOpenSlot(slot int)
	// FixingStrandedKeys: the repair of a slot that a master holds keys
	// of without owning it starts.
	FixingStrandedKeys(slot int)
	// SlotRepaired: the repair of slot ended, err nil when it succeeded.
	SlotRepaired(slot int, err error)
	// KeysOnNonOwner: a master that does not own the slot holds keys of
	// it, and is taken as one of its owners.
	KeysOnNonOwner(slot int, n *Node)
	// KeysOnNode: a master with no state for the slot holds keys of it,
	// and is taken as importing it.
	KeysOnNode(slot int, n *Node)
	// SlotStates: the masters migrating and importing the slot.
	SlotStates(slot int, migrating, importing []*Node)
	// NoClearOwner: the slot has no single owner; one is chosen.
	NoClearOwner(slot int)
	// OwnerChosen: n is made the slot's owner.
	OwnerChosen(slot int, n *Node)
	// MovingSlot: the slot moves from src to dst with its keys
	// (redis-cli's Case 1).
	MovingSlot(slot int, src, dst *Node)
	// MovingKeysToOwner: the keys of the slot on other masters move to
	// owner (Case 2).
	MovingKeysToOwner(slot int, owner *Node)
	// SettingStable: the slot is closed on n.
	SettingStable(slot int, n *Node)
	// MovingSlotClosingImporters: the slot moves from src to dst and is
	// closed on the other importing masters (Case 3).
	MovingSlotClosingImporters(slot int, src, dst *Node)
	// ClosingEverywhere: the slot is closed on its migrating and importing
	// masters (Case 3, no keys anywhere to move).
	ClosingEverywhere(slot int)
	// ClosingSlot: the slot, migrating on n without keys, is closed there
	// (Case 4).
	ClosingSlot(slot int, n *Node)

	// MoveOpen: the slots of a move from src to dst open now (IMPORTING
	// or MIGRATING), each time that set changes; empty at the end.
	MoveOpen(src, dst *Node, slots []int)
	// MoveStarted: the keys of slot start moving from src to dst.
	MoveStarted(slot int, src, dst *Node)
	// MoveDone: the keys of slot moved.
	MoveDone(slot int)

	// FixingCoverage: the uncovered slots are about to be covered.
	FixingCoverage()
	// UncoveredSlots: these uncovered slots have their keys as on says;
	// Options.Confirm is asked next.
	UncoveredSlots(on KeysOn, slots []int)
	// Covering: n is given the slot.
	Covering(slot int, n *Node)
	// CoveringMovingKeys: n is given the slot and the other masters' keys
	// of it.
	CoveringMovingKeys(slot int, n *Node)

	// FixingMultipleOwners: the repair of a slot with several owners
	// starts.
	FixingMultipleOwners(slot int)
	// SettingOwner: n is made the slot's only owner.
	SettingOwner(slot int, n *Node)

	// NodeFailed: a node failed a command and the repair goes on
	// without its answer.
	NodeFailed(err *NodeError)
}

// NopObserver ignores everything.
type NopObserver struct{ migrate.NopObserver }

func (NopObserver) FixingOpenSlot(int)                           {}
func (NopObserver) FixingStrandedKeys(int)                       {}
func (NopObserver) SlotRepaired(int, error)                      {}
func (NopObserver) KeysOnNonOwner(int, *Node)                    {}
func (NopObserver) KeysOnNode(int, *Node)                        {}
func (NopObserver) SlotStates(int, []*Node, []*Node)             {}
func (NopObserver) NoClearOwner(int)                             {}
func (NopObserver) OwnerChosen(int, *Node)                       {}
func (NopObserver) MovingSlot(int, *Node, *Node)                 {}
func (NopObserver) MovingKeysToOwner(int, *Node)                 {}
func (NopObserver) SettingStable(int, *Node)                     {}
func (NopObserver) MovingSlotClosingImporters(int, *Node, *Node) {}
func (NopObserver) ClosingEverywhere(int)                        {}
func (NopObserver) ClosingSlot(int, *Node)                       {}
func (NopObserver) MoveOpen(*Node, *Node, []int)                 {}
func (NopObserver) MoveStarted(int, *Node, *Node)                {}
func (NopObserver) MoveDone(int)                                 {}
func (NopObserver) FixingCoverage()                              {}
func (NopObserver) UncoveredSlots(KeysOn, []int)                 {}
func (NopObserver) Covering(int, *Node)                          {}
func (NopObserver) CoveringMovingKeys(int, *Node)                {}
func (NopObserver) FixingMultipleOwners(int)                     {}
func (NopObserver) SettingOwner(int, *Node)                      {}
func (NopObserver) NodeFailed(*NodeError)                        {}

// NodeError is a command that a node refused (Err is a *node.ReplyError)
// or did not answer.
type NodeError struct {
	Node *Node
	Err  error
}

func (e *NodeError) Error() string { return e.Node.Addr() + ": " + e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// ScanError is a node that failed to say which uncovered slots it holds
// keys of: the slots are left uncovered.
type ScanError struct {
	Node *Node
	Slot int
	Err  error
}

func (e *ScanError) Error() string {
	return e.Node.Addr() + ": keys of uncovered slot " + strconv.Itoa(e.Slot) + ": " + e.Err.Error()
}
func (e *ScanError) Unwrap() error { return e.Err }

// MoveError is a move of keys that failed; its details were told through
// the Observer's migrate events as they happened.
type MoveError struct {
	Slot     int
	Src, Dst *Node
	Err      error
}

func (e *MoveError) Error() string {
	return "moving slot " + strconv.Itoa(e.Slot) + " from " + e.Src.Addr() + " to " + e.Dst.Addr() + ": " + e.Err.Error()
}
func (e *MoveError) Unwrap() error { return e.Err }

// NoOwnerError is an open slot whose owner cannot be chosen: nobody
// serves it and counting its keys failed (Err, a *NodeError) or found no
// master.
type NoOwnerError struct {
	Slot int
	Err  error
}

func (e *NoOwnerError) Error() string {
	msg := "slot " + strconv.Itoa(e.Slot) + ": no owner can be chosen"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}
func (e *NoOwnerError) Unwrap() error { return e.Err }

// UnhandledError is an open slot in a state no repair knows (redis-cli's
// "can't fix this slot yet"): nothing was changed for it.
type UnhandledError struct {
	Slot                 int
	Migrating, Importing []*Node
	Owner                *Node
}

func (e *UnhandledError) Error() string {
	return "slot " + strconv.Itoa(e.Slot) + ": no repair for its state"
}

// UnreachableError is a repair refused because masters that own slots
// could not be loaded and Options.WithUnreachable is not set. What names
// the repair: "open slots", "stranded keys" or "slots coverage".
type UnreachableError struct {
	What    string
	Masters int
}

func (e *UnreachableError) Error() string {
	return "fixing " + e.What + " with " + strconv.Itoa(e.Masters) + " unreachable masters"
}

// InterruptedError is a repair of several slots stopped by its context
// between two slots: the slot in flight was repaired to the end, Next and
// the rest (Left) were not.
type InterruptedError struct {
	Next int
	Left cluster.SlotSet
}

func (e *InterruptedError) Error() string {
	return "interrupted before slot " + strconv.Itoa(e.Next) + "; not repaired: " + e.Left.String()
}

// run is one repair's cluster, options and observer.
type run struct {
	c   *inspect.Cluster
	o   Options
	obs Observer
}

func newRun(c *inspect.Cluster, o Options, obs Observer) *run {
	if obs == nil {
		obs = NopObserver{}
	}
	return &run{c: c, o: o, obs: obs}
}

// refuseUnreachable is the UnreachableError for what when masters are
// unreachable and the options do not allow repairing without them.
func (r *run) refuseUnreachable(what string) error {
	if r.c.UnreachableMasters > 0 && !r.o.WithUnreachable {
		return &UnreachableError{What: what, Masters: r.c.UnreachableMasters}
	}
	return nil
}

// confirm asks o.Confirm, yes when there is none.
func (r *run) confirm(on KeysOn) bool { return r.o.Confirm == nil || r.o.Confirm(on) }

func failed(n *Node, err error) error {
	if err == nil {
		return nil
	}
	return &NodeError{Node: n, Err: err}
}

// setSlot sends SETSLOT slot state id.
func (r *run) setSlot(ctx context.Context, n *Node, slot int, state node.SlotState, id string) error {
	return failed(n, node.SetSlot(ctx, n.Client, slot, state, id))
}

// clearSlot sends SETSLOT STABLE.
func (r *run) clearSlot(ctx context.Context, n *Node, slot int) error {
	if err := r.setSlot(ctx, n, slot, node.Stable, ""); err != nil {
		return err
	}
	n.SetStable(slot)
	return nil
}

// countKeys is CLUSTER COUNTKEYSINSLOT.
func (r *run) countKeys(ctx context.Context, n *Node, slot int) (int64, error) {
	c, err := node.CountKeysInSlot(ctx, n.Client, slot)
	return c, failed(n, err)
}

// delSlot sends DELSLOTS; with ignoreUnassigned an error is forgiven when
// the node sees no owner for the slot.
func (r *run) delSlot(ctx context.Context, n *Node, slot int, ignoreUnassigned bool) error {
	err := node.DelSlots(ctx, n.Client, slot)
	if err == nil {
		return nil
	}
	if ignoreUnassigned {
		if served, e := node.SlotServed(ctx, n.Client, slot); e == nil && !served {
			return nil
		}
	}
	return failed(n, err)
}

// setSlotOwner makes n the owner of slot in one transaction:
// DELSLOTS, ADDSLOTS, [SETSLOT STABLE], BUMPEPOCH. Only an ADDSLOTS failure
// counts, as in redis-cli.
func (r *run) setSlotOwner(ctx context.Context, n *Node, slot int, clear bool) error {
	cmds := []node.Cmd{node.DelSlotsCmd(slot), node.AddSlotsCmd(slot)}
	if clear {
		cmds = append(cmds, node.SetSlotCmd(slot, node.Stable, ""))
	}
	cmds = append(cmds, node.BumpEpochCmd())
	res, err := n.Client.Transaction(ctx, cmds)
	if err != nil {
		return failed(n, err)
	}
	return failed(n, res[1].Err)
}

// nodeWithMostKeys returns the master among nodes with the most keys in
// slot (the first on ties), nil when there is none, or the error of the
// first node that failed to answer.
func (r *run) nodeWithMostKeys(ctx context.Context, nodes []*Node, slot int) (*Node, error) {
	var best *Node
	var most int64
	for _, n := range nodes {
		if n.IsReplica() {
			continue
		}
		c, err := r.countKeys(ctx, n, slot)
		if err != nil {
			return nil, err
		}
		if best == nil || c > most {
			best, most = n, c
		}
	}
	return best, nil
}

// move moves slot's keys from src to dst, telling the Observer, as
// redis-cli's fix does (clusterManagerMoveSlot with a dot per key and no
// error sink). cold moves only the keys (no slot states, no SETSLOT
// NODE); update moves the slot in the loaded nodes' slot maps; keep says
// whose copy of a key on both nodes wins.
func (r *run) move(ctx context.Context, src, dst *Node, slot int, cold, update bool, keep migrate.Keep) error {
	mover := &migrate.Mover{Opts: r.o.Migrate, Obs: r.obs}
	mover.Opts.Fix = true
	mover.Opts.Keep = keep
	var others []*migrate.Node
	for _, n := range r.c.Masters() {
		others = append(others, moverNode(n))
	}
	hooks := migrate.SlotHooks{
		Open:  func(slots []int) { r.obs.MoveOpen(src, dst, slots) },
		Start: func(slot int) { r.obs.MoveStarted(slot, src, dst) },
		Done:  r.obs.MoveDone,
	}
	moved, err := mover.MoveSlots(ctx, moverNode(src), moverNode(dst), []int{slot}, others,
		migrate.MoveOptions{Cold: cold, NoErrorSink: true}, hooks)
	if update && moved == 1 {
		src.Slots.Remove(slot)
		dst.Slots.Add(slot)
	}
	if err != nil {
		return &MoveError{Slot: slot, Src: src, Dst: dst, Err: err}
	}
	return nil
}

// moverNode is n as the slot mover knows it.
func moverNode(n *Node) *migrate.Node {
	return &migrate.Node{ID: n.ID, Host: n.Host, Port: n.Port, Conn: n.Client}
}

// pollInterval is how often waitStateOK asks.
const pollInterval = 50 * time.Millisecond

// waitStateOK waits, at most d, until n reports cluster_state:ok.
func waitStateOK(ctx context.Context, n *Node, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		info, err := node.ClusterInfo(ctx, n.Client)
		if v, _ := node.InfoField(info, "cluster_state"); err != nil || v == "ok" {
			return
		}
		t := time.NewTimer(pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
