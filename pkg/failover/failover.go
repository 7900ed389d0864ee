package failover

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// Mode is how the replica takes over: the argument of CLUSTER FAILOVER.
type Mode string

const (
	// Default is a plain CLUSTER FAILOVER: the master hands over once the
	// replica has all its writes. Only a replica safe to promote is.
	Default Mode = "default"
	// Force is CLUSTER FAILOVER FORCE: the master is not asked (for when it
	// is down); writes it has not sent are lost.
	Force Mode = "force"
	// Takeover is CLUSTER FAILOVER TAKEOVER: no master asked, no election.
	Takeover Mode = "takeover"
)

// Options are the settings of a failover or an evacuation.
type Options struct {
	// Mode is how the replica takes over ("": Default). Force and Takeover
	// promote a replica that is not safe to promote.
	Mode Mode
	// MaxLag is how many bytes of replication stream a replica may be
	// behind its master to be safe to promote.
	MaxLag int64
	// Settle bounds the wait, after CLUSTER FAILOVER, for every node to
	// agree on the new master and for the cluster to settle (0: one look).
	Settle time.Duration
}

func (o Options) mode() Mode {
	if o.Mode == "" {
		return Default
	}
	return o.Mode
}

// Link is the state of a replica's link to its master.
type Link string

const (
	LinkUp      Link = "up"
	LinkDown    Link = "down"
	LinkUnknown Link = "unknown" // the master could not be reached
)

// Problem is why a replica is not safe to promote with a plain CLUSTER
// FAILOVER.
type Problem int

const (
	NoProblem         Problem = iota // it is safe to promote
	MasterUnreachable                // its master could not be loaded or did not answer
	LinkNotUp                        // its link to its master is down
	StillSyncing                     // it is still syncing with its master
	TooFarBehind                     // it is more than Options.MaxLag bytes behind
	MasterSlotsOpen                  // its master has open slots (not replicated: the new master would not know them)
)

var problemWords = [...]string{
	NoProblem: "no problem", MasterUnreachable: "master unreachable", LinkNotUp: "link down",
	StillSyncing: "still syncing", TooFarBehind: "too far behind", MasterSlotsOpen: "master has open slots",
}

func (p Problem) String() string {
	if p < 0 || int(p) >= len(problemWords) {
		return fmt.Sprintf("Problem(%d)", int(p))
	}
	return problemWords[p]
}

// Replication is a replica's replication, as read from INFO replication
// of the replica and of its master.
type Replication struct {
	Link    Link
	Syncing bool
	// LagBytes is how far the replica's offset is behind its master's
	// (-1: unknown).
	LagBytes int64
	// Problem says why the replica is not safe to promote (NoProblem: it
	// is).
	Problem Problem
}

// Judge says why a replica in state r is not safe to promote with a plain
// CLUSTER FAILOVER when it may be maxLag bytes behind (NoProblem: it is).
// It does not look at r.Problem, nor at open slots.
func (r Replication) Judge(maxLag int64) Problem {
	switch {
	case r.Link == LinkUnknown:
		return MasterUnreachable
	case r.Link != LinkUp:
		return LinkNotUp
	case r.Syncing:
		return StillSyncing
	case r.LagBytes > maxLag:
		return TooFarBehind
	}
	return NoProblem
}

// Failover is one planned failover: a master and the replica that takes
// over its slots.
type Failover struct {
	// Replica is the replica promoted.
	Replica *inspect.Node
	// Master is its master, nil when it could not be loaded (down or
	// unreachable: only Force or Takeover promote its replica then).
	Master *inspect.Node
	// MasterID is the master's ID as the replica names it; MasterAddr its
	// address ("" when neither loaded nor in the entry node's view).
	MasterID, MasterAddr string
	// Slots are the master's slots: its own view when loaded, the entry
	// node's otherwise.
	Slots cluster.SlotSet
	// Options are those it was planned with (Mode set).
	Options Options
	// Replication is the replica's, judged by Options.MaxLag.
	Replication Replication
	// Done is set once every node agrees on the new master (Run).
	Done bool
}

// Unsafe reports whether a plain failover would be refused: the replica
// is not safe to promote and the mode is Default.
func (f *Failover) Unsafe() bool {
	return f.Replication.Problem != NoProblem && f.Options.mode() == Default
}

// NoSuchNodeError: no loaded node has the ID.
type NoSuchNodeError struct{ ID string }

func (e *NoSuchNodeError) Error() string { return "no such node ID " + e.ID }

// NotReplicaError refuses to promote a master.
type NotReplicaError struct{ Node *inspect.Node }

func (e *NotReplicaError) Error() string {
	return fmt.Sprintf("node %s is a master, not a replica", e.Node.Addr())
}

// UnsafeError refuses a plain failover to a replica that is not safe to
// promote (Failover.Replication.Problem says why).
type UnsafeError struct{ Failover *Failover }

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("replica %s is not safe to promote: %s", e.Failover.Replica.Addr(), e.Failover.Replication.Problem)
}

// NodeError is a command a node refused, or did not answer.
type NodeError struct {
	Node *inspect.Node
	Err  error
}

func (e *NodeError) Error() string { return e.Node.Addr() + ": " + e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// NotAgreedError: at the deadline, not every node saw the new master.
// Disagreements are what the last look found.
type NotAgreedError struct {
	Failover      *Failover
	Disagreements []Disagreement
}

func (e *NotAgreedError) Error() string {
	return fmt.Sprintf("not every node sees %s as the master of slots %s yet", e.Failover.Replica.Addr(), e.Failover.Slots.String())
}

// DisagreementKind is what a node sees otherwise than the failover made it.
type DisagreementKind int

const (
	NoView         DisagreementKind = iota // the node gave no CLUSTER NODES reply
	UnknownReplica                         // it does not know the new master (ID)
	NotMaster                              // it sees ID as a master only with slots Slots, or as a replica of MasterID
	NotReplica                             // it sees the old master (ID) as MasterID, not as a replica of Want
)

// Disagreement is one node's view that differs from the failover's.
type Disagreement struct {
	Kind DisagreementKind
	// Node is the node whose view it is.
	Node *inspect.Node
	// ID is the node it sees otherwise: the new master, or the old one
	// (NotReplica).
	ID string
	// MasterID is the role it sees ID in: "" for a master, else the
	// master ID replicates.
	MasterID string
	// Slots are the slots it sees ID own (NotMaster).
	Slots cluster.SlotSet
	// Want is the new master, which the old master should replicate
	// (NotReplica).
	Want string
}

// Observer hears a failover's steps.
type Observer interface {
	// Starting: Evacuate is about to carry out f (Run alone does not say).
	Starting(f *Failover)
	// Sending: CLUSTER FAILOVER is about to be sent to f.Replica.
	Sending(f *Failover)
	// Done: every node agrees on f.Replica as the master and the cluster
	// has settled; the loaded cluster says so too (roles, slots, and its
	// Orphans counted again).
	Done(f *Failover)
}

// NopObserver ignores every step; embed it to hear only some.
type NopObserver struct{}

func (NopObserver) Starting(*Failover) {}
func (NopObserver) Sending(*Failover)  {}
func (NopObserver) Done(*Failover)     {}

// Plan plans the promotion of the replica with ID replicaID (a loaded node
// of c) to master of its master's slots, reading both nodes' replication.
// A replica not safe to promote is refused with an *UnsafeError when
// o.Mode is Default, and the Failover is returned with it; with Force or
// Takeover it is planned anyway (Replication.Problem says what is at
// risk). An ID no loaded node has is a *NoSuchNodeError, a master a
// *NotReplicaError. It writes nothing.
func Plan(ctx context.Context, c *inspect.Cluster, replicaID string, o Options) (*Failover, error) {
	replica := c.NodeByID(replicaID)
	switch {
	case replica == nil:
		return nil, &NoSuchNodeError{ID: replicaID}
	case replica.IsMaster():
		return nil, &NotReplicaError{Node: replica}
	}
	f := plan(ctx, c, replica, c.NodeByID(replica.MasterID), o)
	if f.Unsafe() {
		return f, &UnsafeError{Failover: f}
	}
	return f, nil
}

// plan plans the failover of master (nil when it could not be loaded) to
// replica.
func plan(ctx context.Context, c *inspect.Cluster, replica, master *inspect.Node, o Options) *Failover {
	o.Mode = o.mode()
	f := &Failover{Replica: replica, Master: master, MasterID: replica.MasterID, Options: o}
	l := c.EntryLine(replica.MasterID)
	switch {
	case master != nil:
		f.Slots, f.MasterAddr = master.Slots, master.Addr()
	case l != nil:
		f.Slots, f.MasterAddr = l.Slots, l.Host+":"+strconv.Itoa(l.Port)
	}
	f.Replication = replicationOf(ctx, replica, master)
	f.Replication.Problem = f.Replication.Judge(o.MaxLag)
	if f.Replication.Problem == NoProblem && master != nil && (len(master.Migrating) > 0 || len(master.Importing) > 0) {
		f.Replication.Problem = MasterSlotsOpen
	}
	return f
}

// replicationOf reads a replica's link to its master and how many bytes it
// is behind (INFO replication of both; master nil: unknown).
func replicationOf(ctx context.Context, replica, master *inspect.Node) Replication {
	r := Replication{Link: LinkUnknown, LagBytes: -1}
	if master == nil {
		return r
	}
	var replicaInfo, masterInfo string
	var replicaErr, masterErr error
	node.Each(2, func(i int) {
		if i == 0 {
			replicaInfo, replicaErr = node.Str(replica.Client.Do(ctx, "INFO", "replication"))
		} else {
			masterInfo, masterErr = node.Str(master.Client.Do(ctx, "INFO", "replication"))
		}
	})
	if replicaErr != nil || masterErr != nil {
		return r
	}
	r.Link = LinkDown
	if v, _ := node.InfoField(replicaInfo, "master_link_status"); v == "up" {
		r.Link = LinkUp
	}
	sync, _ := node.InfoField(replicaInfo, "master_sync_in_progress")
	r.Syncing = sync == "1"
	replicaOffset, err1 := infoInt(replicaInfo, "slave_repl_offset")
	masterOffset, err2 := infoInt(masterInfo, "master_repl_offset")
	if err1 == nil && err2 == nil {
		r.LagBytes = max(0, masterOffset-replicaOffset)
	}
	return r
}

func infoInt(info, field string) (int64, error) {
	v, _ := node.InfoField(info, field)
	return strconv.ParseInt(v, 10, 64)
}

// Run carries out f on c: CLUSTER FAILOVER (with f's mode) to the
// replica, then a wait, at most f.Options.Settle, until every node sees
// the replica as the master of f.Slots and the old master as its replica
// (a *NotAgreedError otherwise), then until the cluster settles (a
// *settle.NotSettledError otherwise). The command refused is a
// *NodeError. Once done, c's model has the new roles and f.Done is set.
// Run does not judge f again: plan it with Plan (or PlanEvacuation) and
// carry out only what was not refused.
func Run(ctx context.Context, c *inspect.Cluster, f *Failover, obs Observer) error {
	deadline := time.Now().Add(f.Options.Settle)
	args := []any{"CLUSTER", "FAILOVER"}
	if mode := f.Options.mode(); mode != Default {
		args = append(args, string(mode))
	}
	obs.Sending(f)
	if _, err := f.Replica.Client.Do(ctx, args...); err != nil {
		return &NodeError{Node: f.Replica, Err: err}
	}
	oldID := ""
	if f.Master != nil {
		oldID = f.Master.ID
	}
	left, err := settle.Until(ctx, len(c.Nodes), deadline, func() []Disagreement {
		return newMasterProblems(ctx, c, f.Replica.ID, oldID, &f.Slots)
	})
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return &NotAgreedError{Failover: f, Disagreements: left}
	}
	if err := settle.Wait(ctx, c, settle.Options{}, deadline); err != nil {
		return err
	}
	f.Replica.MasterID, f.Replica.Slave, f.Replica.Slots = "", false, f.Slots
	if f.Master != nil {
		f.Master.MasterID, f.Master.Slave, f.Master.Slots = f.Replica.ID, true, cluster.SlotSet{}
	}
	c.Orphans = c.CountReplicas()
	f.Done = true
	obs.Done(f)
	return nil
}

// newMasterProblems lists the nodes that do not yet see node id as a
// master owning slots and, when oldID is set, the old master oldID as its
// replica. The settle wait that follows asks nothing of roles (at 150
// nodes and more they spread slowly), so the two nodes a failover changes
// are asked for here.
func newMasterProblems(ctx context.Context, c *inspect.Cluster, id, oldID string, slots *cluster.SlotSet) []Disagreement {
	var problems []Disagreement
	for i, text := range c.Views(ctx) {
		n := c.Nodes[i]
		seen, err := cluster.LineOf(text, id)
		if text == "" || err != nil {
			problems = append(problems, Disagreement{Kind: NoView, Node: n})
			continue
		}
		switch {
		case seen == nil:
			problems = append(problems, Disagreement{Kind: UnknownReplica, Node: n, ID: id})
		case seen.MasterID != "" || !hasAll(&seen.Slots, slots):
			problems = append(problems, Disagreement{Kind: NotMaster, Node: n, ID: id, MasterID: seen.MasterID, Slots: seen.Slots})
		}
		if oldID != "" {
			if l, err := cluster.LineOf(text, oldID); err == nil && l != nil && !strings.EqualFold(l.MasterID, id) {
				problems = append(problems, Disagreement{Kind: NotReplica, Node: n, ID: oldID, MasterID: l.MasterID, Want: id})
			}
		}
	}
	return problems
}

// hasAll reports whether set holds every slot of sub.
func hasAll(set, sub *cluster.SlotSet) bool {
	for i := range sub {
		if sub[i]&^set[i] != 0 {
			return false
		}
	}
	return true
}
