package report

import (
	"errors"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/settle"
)

// JoinText writes add-node's and del-node's lines
// (clusterManagerCommandAddNode, clusterManagerCommandDeleteNode) and
// rcluster's refusals around them.
type JoinText struct{ P *Printer }

func (t JoinText) Adding(addr, existing string) {
	t.P.Info(">>> Adding node %s to cluster %s\n", addr, existing)
}

func (t JoinText) Removing(id, addr string) {
	t.P.Info(">>> Removing node %s from cluster %s\n", id, addr)
}

func (t JoinText) CannotConnect(addr string) {
	t.P.Err("[ERR] Sorry, can't connect to node %s\n", addr)
}

func (t JoinText) AlreadyMember(addr, known string) {
	t.P.Err("[ERR] Node %s is already part of the cluster (it is %s).\n", addr, known)
}

// NoSuchMaster refuses --cluster-master-id when it names no master.
func (t JoinText) NoSuchMaster(id string) { t.P.Err(t.P.Words().NoSuchPrimaryID, id) }

// SelectedMaster is the master chosen for a new replica given no
// --cluster-master-id: the one with the fewest replicas.
func (t JoinText) SelectedMaster(addr string) { t.P.Plain(t.P.Words().SelectedPrimary, addr) }

func (t JoinText) SendingMeet(addr string) {
	t.P.Info(">>> Send CLUSTER MEET to node %s to make it join the cluster.\n", addr)
}

func (t JoinText) ConfiguringReplica(master string) {
	t.P.Info(">>> Configure node as replica of %s.\n", master)
}

func (t JoinText) Added() { t.P.Success("[OK] New node added correctly.\n") }

func (t JoinText) GettingFunctions() { t.P.Info(">>> Getting functions from cluster\n") }

// NoFunctions: the cluster's FUNCTION DUMP failed (msg), nothing to copy.
func (t JoinText) NoFunctions(msg string) { t.P.Info(t.P.Words().NoFunctions, msg) }

func (t JoinText) CheckingFunctions(addr string) {
	t.P.Info(">>> Send FUNCTION LIST to %s to verify there is no functions in it\n", addr)
}

// The function errors end with "\r\n", as redis-cli's.
func (t JoinText) FunctionListFailed(msg string) {
	t.P.Err(">>> Failed on CLUSTER LIST (error = '%s')\r\n", msg)
}

func (t JoinText) HasFunctions() {
	t.P.Err(">>> New node already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again.\r\n")
}

func (t JoinText) RestoringFunctions(addr string) {
	t.P.Info(">>> Send FUNCTION RESTORE to %s\n", addr)
}

func (t JoinText) FunctionRestoreFailed(msg string) {
	t.P.Err(">>> Failed loading functions to the new node (error = '%s')\r\n", msg)
}

func (t JoinText) NoSuchNodeID(id string) { t.P.Err("[ERR] No such node ID %s\n", id) }

func (t JoinText) NotEmpty(addr string) {
	t.P.Err("[ERR] Node %s is not empty! Reshard data away and try again.\n", addr)
}

func (t JoinText) OnlyForgotten(id string) {
	t.P.Warn("*** Node %s cannot be reached: it will only be forgotten by the other nodes.\n", id)
}

func (t JoinText) SendingForget() {
	t.P.Info(">>> Sending CLUSTER FORGET messages to the cluster...\n")
}

func (t JoinText) ReplicaMoved(replica, master string) {
	t.P.Info(">>> %s as replica of %s\n", replica, master)
}

func (t JoinText) SendingReset() { t.P.Info(">>> Sending CLUSTER RESET SOFT to the deleted node.\n") }

// RemoveRefused writes why del-node refuses to remove node id (given as
// id on the command line; entry is the address it was run with).
func (t JoinText) RemoveRefused(err error, id, entry string) {
	var none *join.NoSuchNodeError
	var notEmpty *join.NotEmptyError
	var open *join.OpenSlotsError
	var owner *join.UnreachableOwnerError
	switch {
	case errors.As(err, &none):
		t.NoSuchNodeID(id)
	case errors.As(err, &notEmpty):
		t.NotEmpty(notEmpty.Node.Addr())
	case errors.As(err, &open):
		t.SlotsInFlight(open.Slots.String(), open.ID, entry)
	case errors.As(err, &owner):
		t.UnreachableOwner(owner.Addr, owner.Slots.String(), owner.Replicas)
	default:
		t.P.Err("[ERR] %v\n", err)
	}
}

// SlotsInFlight refuses to delete node id while slots move to or from it.
func (t JoinText) SlotsInFlight(slots, id, entry string) {
	t.P.Err("[ERR] Slots %s are still being moved to or from node %s: removing it would leave the keys already moved "+
		"on a node that does not own them. Run 'rcluster fix %s' first.\n", slots, id, entry)
}

func (t JoinText) AbandoningSlots(addr, slots string) {
	t.P.Warn("*** --abandon-slots: node %s cannot be reached; its slots %s and the keys in them are given up.\n", addr, slots)
}

// UnreachableOwner refuses to delete an unreachable master that still owns
// slots, and says what to do: let one of replicas take over, or bring the
// node back (or --abandon-slots when it has none).
func (t JoinText) UnreachableOwner(addr, slots string, replicas []string) {
	t.P.Err("[ERR] Node %s cannot be reached and still owns slots %s: removing it would leave them uncovered, and its "+
		"replicas would resync from another master, dropping the only other copy of their keys.\n", addr, slots)
	if len(replicas) > 0 {
		t.P.Err("*** Let a replica take over first (CLUSTER FAILOVER TAKEOVER on %s), or bring the node back.\n",
			strings.Join(replicas, " or "))
	} else {
		t.P.Err("*** It has no replica: bring the node back. To remove it anyway, giving up slots %s and their keys, "+
			"use --abandon-slots.\n", slots)
	}
}

// WaitText writes the waits for a cluster to join (redis-cli's
// clusterManagerWaitForClusterJoin) and to settle (rcluster's).
type WaitText struct{ P *Printer }

func (t WaitText) Joining() { t.P.Plain("Waiting for the cluster to join\n") }

// Dot is printed for every second of the join.
func (t WaitText) Dot() { t.P.Plain(".") }

func (t WaitText) EndLine() { t.P.Plain("\n") }

func (t WaitText) JoinTimedOut(elapsed time.Duration) {
	t.P.Err("[ERR] The nodes did not agree about the configuration within %s.\n", elapsed.Round(time.Second))
}

// TimeoutNotRestored: the settle wait lowered a new master's
// cluster-node-timeout and could not set it back. On stderr: stdout stays
// redis-cli's.
func (t WaitText) TimeoutNotRestored(addr string, err error) {
	t.P.Stderr("[WARNING] Could not set cluster-node-timeout of %s back: %s\n", addr, err)
}

// Unreachable is redis-cli's report of the nodes that may be unreachable,
// in the order redis-cli's dict of their addresses iterates in.
func (t WaitText) Unreachable(nodes []join.UnreachableNode) {
	order := t.P.Dialect.NewDict()
	byAddr := map[string]join.UnreachableNode{}
	for _, n := range nodes {
		order.Find(n.Addr)
		order.Add(n.Addr)
		byAddr[n.Addr] = n
	}
	t.P.Plain("\n")
	t.P.Err("Warning: %d node(s) may be unreachable\n", len(nodes))
	for _, addr := range order.Keys() {
		n := byAddr[addr]
		if n.BusPort != 0 {
			t.P.Err(" - The port %d of node %s may be unreachable from:\n", n.BusPort, n.BusIP)
		} else {
			t.P.Err(" - Node %s may be unreachable from:\n", n.Addr)
		}
		for _, f := range n.From {
			t.P.Err("   %s\n", f)
		}
		t.P.Err("Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports are different from standard instance ports.\n")
	}
}

// maxSettleProblems is how many of the settle wait's problems are printed.
const maxSettleProblems = 20

// Failed writes a wait's failure (a *join.JoinTimeoutError or a
// *settle.NotSettledError) and reports whether err was one.
func (t WaitText) Failed(err error) bool {
	var timedOut *join.JoinTimeoutError
	var unsettled *settle.NotSettledError
	switch {
	case errors.As(err, &timedOut):
		t.JoinTimedOut(timedOut.Elapsed)
	case errors.As(err, &unsettled):
		texts := make([]string, len(unsettled.Problems))
		for i, p := range unsettled.Problems {
			texts[i] = p.String()
		}
		t.NotSettled(texts, maxSettleProblems)
	default:
		return false
	}
	return true
}

// JoinFailed writes, in redis-cli's words, why create or add-node stopped
// (pkg/join's typed errors) and reports whether err was one of them.
func (t JoinText) JoinFailed(err error) bool {
	var connect *join.ConnectError
	var notCluster *join.NotClusterNodeError
	var notNew *join.NotNewError
	var same *join.SameNodeError
	var host *join.HostError
	var member *join.AlreadyMemberError
	var functions *join.FunctionsError
	var refused *join.NodeError
	var noZone *join.NoZoneError
	var unusedZone *join.UnusedZoneError
	switch {
	case errors.As(err, &connect):
		t.P.ConnectFailed(connect.Addr.String(), connect.Err)
	case errors.As(err, &notCluster):
		msg := ""
		if notCluster.Err != nil {
			msg = ReplyText(notCluster.Err)
		}
		t.P.NotClusterNode(notCluster.Node.Addr(), msg)
	case errors.As(err, &notNew):
		msg := ""
		if notNew.Err != nil {
			msg = ReplyText(notNew.Err)
		}
		t.P.NotEmpty(notNew.Node.Addr(), msg)
	case errors.As(err, &same):
		t.P.SameNode(same.Addr, same.Prev, same.ID)
	case errors.As(err, &host):
		t.P.InvalidHost(host.Host)
	case errors.As(err, &member):
		t.AlreadyMember(member.Node.Addr(), member.Known.Addr())
	case errors.As(err, &functions):
		switch functions.Step {
		case "list":
			t.FunctionListFailed(ReplyText(functions.Err))
		case "restore":
			t.FunctionRestoreFailed(ReplyText(functions.Err))
		default:
			t.HasFunctions()
		}
	case errors.Is(err, cluster.ErrBadNodesReply):
		t.P.BadNodesReply()
	case errors.As(err, &refused):
		t.P.ReplyError(refused.Node.Addr(), ReplyText(refused.Err))
	case errors.As(err, &noZone):
		CreateText(t).NoZone(noZone.Addrs)
	case errors.As(err, &unusedZone):
		CreateText(t).UnusedZone(unusedZone.Key, unusedZone.Zone)
	default:
		return WaitText(t).Failed(err)
	}
	return true
}

// NotSettled lists the problems left at the settle wait's deadline, at
// most max of them.
func (t WaitText) NotSettled(problems []string, max int) {
	t.P.Err("[ERR] The cluster did not settle in time:\n")
	for i, p := range problems {
		if i == max {
			t.P.Err("   (and %d more)\n", len(problems)-i)
			break
		}
		t.P.Err("   %s\n", p)
	}
}
