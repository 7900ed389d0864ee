package cluster

import (
	"slices"
	"strconv"
	"strings"
)

// SlotPeer is one entry of a node's migrating or importing list: the slot and
// the ID of the node on the other side of the move.
type SlotPeer struct {
	Slot   int
	NodeID string
}

// Node is one cluster node as the cluster manager holds it. Its slot
// ownership and open slots always come from the node's own "myself" line,
// while which nodes exist (and their order) comes from the entry node's view.
type Node struct {
	ID       string
	Host     string // as typed for the entry node, otherwise the IP of CLUSTER NODES
	Port     int
	BusPort  int
	Hostname string // announced hostname (cluster-announce-hostname), if any

	// Flags is the textual flags column of the last line applied, in order.
	Flags []string
	// Flag bits, or-ed over every view applied (redis-cli merges them this way).
	Slave, Fail, NoAddr, Disconnected bool

	MasterID    string // the master's ID when the node is a replica ("replicate")
	PingSent    int64
	PongRecv    int64
	ConfigEpoch int64
	LinkState   string

	Slots     SlotSet
	Migrating []SlotPeer
	Importing []SlotPeer

	// Replicas is the number of loaded nodes that replicate this one.
	Replicas int
}

// Addr returns "host:port" (IPv6 hosts are not bracketed, as in redis-cli).
func (n *Node) Addr() string { return n.Host + ":" + strconv.Itoa(n.Port) }

// IsReplica reports whether the node replicates another: flagged slave in
// CLUSTER NODES, or given a master to replicate by create's plan. IsReplica
// and IsMaster are the one definition of the two roles.
func (n *Node) IsReplica() bool { return n.Slave || n.MasterID != "" }

// IsMaster reports whether the node is a master: not a replica.
func (n *Node) IsMaster() bool { return !n.IsReplica() }

// HasFlag reports whether the textual flags include f.
func (n *Node) HasFlag(f string) bool {
	for _, x := range n.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// FlagString joins the textual flags with "," leaving out "myself", as
// redis-cli prints them ("master", "slave", "master,fail?").
func (n *Node) FlagString() string {
	var parts []string
	for _, f := range n.Flags {
		if f != "myself" {
			parts = append(parts, f)
		}
	}
	return strings.Join(parts, ",")
}

// IsMigrating reports whether slot is in the node's migrating list.
func (n *Node) IsMigrating(slot int) bool { return hasSlot(n.Migrating, slot) }

// IsImporting reports whether slot is in the node's importing list.
func (n *Node) IsImporting(slot int) bool { return hasSlot(n.Importing, slot) }

// SetStable records that slot is neither importing nor migrating any more
// (CLUSTER SETSLOT slot STABLE).
func (n *Node) SetStable(slot int) {
	isSlot := func(p SlotPeer) bool { return p.Slot == slot }
	n.Importing = slices.DeleteFunc(n.Importing, isSlot)
	n.Migrating = slices.DeleteFunc(n.Migrating, isSlot)
}

func hasSlot(l []SlotPeer, slot int) bool {
	for _, p := range l {
		if p.Slot == slot {
			return true
		}
	}
	return false
}

// Apply merges one parsed CLUSTER NODES line into the node the way
// redis-cli's clusterManagerNodeLoadInfo does. own is true when the line is the
// node's own "myself" line: only then are slots and open slots taken over
// (slots are reset, open-slot lists appended to).
func (n *Node) Apply(l *Line, own bool) {
	n.ID = l.ID
	n.Flags = append([]string(nil), l.Flags...)
	for _, f := range l.Flags {
		switch f {
		case "noaddr":
			n.NoAddr = true
		case "disconnected":
			n.Disconnected = true
		case "fail":
			n.Fail = true
		case "slave":
			n.Slave = true
			n.MasterID = l.MasterID
		}
	}
	n.ConfigEpoch = l.ConfigEpoch
	n.PingSent = l.PingSent
	n.PongRecv = l.PongRecv
	n.LinkState = l.LinkState
	if l.Hostname != "" {
		n.Hostname = l.Hostname
	}
	if own {
		n.BusPort = l.BusPort
		n.Slots = l.Slots
		n.Migrating = append(n.Migrating, l.Migrating...)
		n.Importing = append(n.Importing, l.Importing...)
	}
}
