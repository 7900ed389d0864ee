package join

import (
	"context"
	"time"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// AddOptions are an add-node's settings.
type AddOptions struct {
	// Master, when set, is the master the node is to replicate; nil adds
	// it as a master (with no slots: reshard gives it some).
	Master *inspect.Node
	// Timeout bounds the waits for the node to join and the cluster to
	// settle.
	Timeout time.Duration
}

// AddObserver hears an add-node's steps, as redis-cli prints them.
type AddObserver interface {
	// GettingFunctions: a new master is about to get the cluster's
	// functions (FUNCTION DUMP on the entry node).
	GettingFunctions()
	// NoFunctions: the entry node's FUNCTION DUMP failed (err): there is
	// nothing to copy, and the add goes on.
	NoFunctions(err error)
	// CheckingFunctions, RestoringFunctions: FUNCTION LIST, then FUNCTION
	// RESTORE, are about to be sent to the new node.
	CheckingFunctions(n *inspect.Node)
	RestoringFunctions(n *inspect.Node)
	// SendingMeet: the new node is about to meet the cluster.
	SendingMeet(n *inspect.Node)
	// ConfiguringReplica: the new node is about to replicate master.
	ConfiguringReplica(master *inspect.Node)
	JoinObserver
}

// AlreadyMemberError: the node to add is already in the cluster (as Known).
type AlreadyMemberError struct{ Node, Known *inspect.Node }

func (e *AlreadyMemberError) Error() string {
	return e.Node.Addr() + " is already part of the cluster (it is " + e.Known.Addr() + ")"
}

// NotMasterError: the master given for a new replica is not a master of
// the cluster.
type NotMasterError struct{ Node *inspect.Node }

func (e *NotMasterError) Error() string { return e.Node.Addr() + " is not a master" }

// FunctionsError: a new master's functions could not be checked or set:
// its FUNCTION LIST or FUNCTION RESTORE failed (Err), or it already has
// functions (Err nil).
type FunctionsError struct {
	Node *inspect.Node
	// Step is "list", "restore", or "present" when it has functions.
	Step string
	Err  error
}

func (e *FunctionsError) Error() string {
	if e.Err == nil {
		return e.Node.Addr() + " already contains functions"
	}
	return e.Node.Addr() + ": FUNCTION " + e.Step + ": " + e.Err.Error()
}
func (e *FunctionsError) Unwrap() error { return e.Err }

// CheckAdd refuses, before anything is written, to add n (probed, as Probe
// returns it) to c: with an *AlreadyMemberError when c has it, a
// *NotMasterError when o.Master is a replica.
func CheckAdd(c *inspect.Cluster, n *inspect.Node, o AddOptions) error {
	if known := c.NodeByID(n.ID); known != nil {
		return &AlreadyMemberError{Node: n, Known: known}
	}
	if o.Master != nil && o.Master.IsReplica() {
		return &NotMasterError{Node: o.Master}
	}
	return nil
}

// Add joins n (probed, as Probe returns it) to the loaded cluster c, as
// redis-cli's add-node does, and returns once the cluster has settled with
// n in its role; c lists n from the start. A new master first gets the
// cluster's functions; a new replica replicates o.Master once it has
// joined. CheckAdd's refusals come first; a command a node refuses is a
// *NodeError or a *FunctionsError; a wait that times out, a
// *JoinTimeoutError or a *settle.NotSettledError.
func Add(ctx context.Context, c *inspect.Cluster, n *inspect.Node, o AddOptions, obs AddObserver) error {
	if err := CheckAdd(c, n, o); err != nil {
		return err
	}
	entry := c.Nodes[0]
	c.Nodes = append(c.Nodes, n)
	if o.Master == nil {
		if err := copyFunctions(ctx, entry, n, obs); err != nil {
			return err
		}
	}
	obs.SendingMeet(n)
	meet, err := meetCommand(ctx, entry)
	if err != nil {
		return err
	}
	if _, err := node.Run(ctx, n.Client, meet); err != nil {
		return &NodeError{Node: n, Err: err}
	}
	deadline := time.Now().Add(o.Timeout)
	j := &joining{c: c, intro: newIntroducer(ctx, c.Nodes), obs: obs}
	if o.Master == nil {
		j.fresh = &newMasters{nodes: []*inspect.Node{n}, since: time.Now()}
	} else {
		if err := j.waitForJoin(ctx, deadline); err != nil {
			return err
		}
		obs.ConfiguringReplica(o.Master)
		if err := node.Replicate(ctx, n.Client, o.Master.ID); err != nil {
			return &NodeError{Node: n, Err: err}
		}
		n.MasterID = o.Master.ID
	}
	return j.settle(ctx, deadline)
}

// copyFunctions gives a new master the cluster's functions (FUNCTION DUMP
// on the entry node, RESTORE on the new one), as redis-cli 7 does.
func copyFunctions(ctx context.Context, from, to *inspect.Node, obs AddObserver) error {
	obs.GettingFunctions()
	dump, err := node.Str(from.Client.Do(ctx, "FUNCTION", "DUMP"))
	if err != nil {
		obs.NoFunctions(err)
		return nil
	}
	obs.CheckingFunctions(to)
	v, err := to.Client.Do(ctx, "FUNCTION", "LIST")
	if err != nil {
		return &FunctionsError{Node: to, Step: "list", Err: err}
	}
	if l, _ := v.([]any); len(l) > 0 {
		return &FunctionsError{Node: to, Step: "present"}
	}
	obs.RestoringFunctions(to)
	if _, err := to.Client.Do(ctx, "FUNCTION", "RESTORE", dump); err != nil {
		return &FunctionsError{Node: to, Step: "restore", Err: err}
	}
	return nil
}
