// Package failover promotes replicas on a loaded cluster (pkg/inspect), as
// rcluster's failover and evacuate do: a replica is judged safe to promote
// from its replication (link up, synced, at most Options.MaxLag bytes
// behind, its master with no slot open), CLUSTER FAILOVER is sent to it,
// and the failover is waited for until every node sees the replica as the
// master of the slots and the old master as its replica, and the cluster
// has settled (pkg/settle).
//
// Plan plans the failover of one replica and Run carries it out;
// PlanEvacuation picks, for every master with slots on a host, the replica
// on another host to promote, and Evacuate carries the failovers out one
// at a time. A dry run is a plan not carried out.
//
// Nothing here prints: refusals and failures are typed errors
// (NoSuchNodeError, NotReplicaError, UnsafeError, NodeError,
// NotAgreedError, LeftError, and pkg/settle's NotSettledError), the steps
// reach an Observer, and results are typed (Failover, Evacuation).
package failover
