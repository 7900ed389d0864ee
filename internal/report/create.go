package report

import "strings"

// CreateText writes create's lines (clusterManagerCommandCreate): the
// refusals, the slot allocation, the replicas and the steps that join the
// nodes, and rcluster's refusals of --zone.
type CreateText struct{ P *Printer }

// AskCreate is the question before anything is written.
const AskCreate = "Can I set the above configuration?"

// NoZone refuses the nodes (addrs) that --zone gives no zone.
func (t CreateText) NoZone(addrs []string) {
	t.P.Err("*** No zone for %s: give --zone HOST=ZONE for every host (or HOST:PORT=ZONE for every node).\n", strings.Join(addrs, ", "))
}

// UnusedZone refuses a --zone key=zone that matches no node.
func (t CreateText) UnusedZone(key, zone string) {
	t.P.Err("*** --zone %s=%s names no node given to create.\n", key, zone)
}

// PartialZones says, on stderr, that only set of the nodes have an
// availability-zone, so the layout is by host.
func (t CreateText) PartialZones(set, nodes int) {
	t.P.Stderr("availability-zone is set on %d of %d nodes only: laying out by host (--zone gives every node's zone).\n", set, nodes)
}

// TooFewMasters refuses a number of nodes and replicas that gives fewer
// than 3 masters. The first message has no newline: redis-cli's second
// starts with it.
func (t CreateText) TooFewMasters(nodes, replicas int) {
	t.P.Err("*** ERROR: Invalid configuration for cluster creation.\n"+
		t.P.Words().TooFewPrimaries+
		"*** This is not possible with %d nodes and %d replicas per node.", nodes, replicas)
	t.P.Err("\n*** At least %d nodes are required.\n", 3*(replicas+1))
}

func (t CreateText) Allocating(nodes int) {
	t.P.Info(">>> Performing hash slots allocation on %d nodes...\n", nodes)
}

// MasterSlots is master number i of the allocation and its slots.
func (t CreateText) MasterSlots(i, first, last int) {
	t.P.Plain(t.P.Words().PrimarySlots, i, first, last)
}

// ExtraReplicas comes before the replicas given beyond --cluster-replicas.
func (t CreateText) ExtraReplicas() { t.P.Plain("Adding extra replicas...\n") }

func (t CreateText) AddingReplica(replica, master string) {
	t.P.Plain("Adding replica %s to %s\n", replica, master)
}

func (t CreateText) Optimizing() { t.P.Info("%s", t.P.Words().OptimizeReplicas) }

// PerfectAntiAffinity: no replica shares a host with its master or with
// another replica of it.
func (t CreateText) PerfectAntiAffinity() { t.P.Success("[OK] Perfect anti-affinity obtained!\n") }

// ReplicasWithMaster: some replicas share their master's host.
func (t CreateText) ReplicasWithMaster() { t.P.Warn("%s", t.P.Words().ReplicasSameHost) }

// ReplicasTogether: only replicas of the same master share a host.
func (t CreateText) ReplicasTogether() { t.P.Warn("%s", t.P.Words().ReplicasOfPrimarySameHost) }

func (t CreateText) Configured() { t.P.Info(">>> Nodes configuration updated\n") }

func (t CreateText) AssigningEpochs() { t.P.Info(">>> Assign a different config epoch to each node\n") }

func (t CreateText) SendingMeets() {
	t.P.Info(">>> Sending CLUSTER MEET messages to join the cluster\n")
}
