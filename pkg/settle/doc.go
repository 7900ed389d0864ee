// Package settle tells whether a cluster has settled after a change, and
// waits, with a bound, until it has: every node answers and reports
// cluster_state:ok, knows the same nodes, sees the same slot owners, and
// has the role the change leaves it in.
//
// How the other nodes see a node's role is not asked for: Redis spreads it
// only by the node's own pings to peers picked at random, which takes
// minutes on hundreds of nodes, and the next command does not need it
// (loading takes every node's role from the node itself). Slot owners do
// spread at once: a node that takes a slot tells every node.
//
// Each look costs every node one round trip (CLUSTER INFO and CLUSTER
// NODES pipelined), the nodes asked at once with a bound on those in
// flight; what did not settle comes back as typed Problems.
package settle
