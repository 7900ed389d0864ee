// Package join changes who is in a cluster, as redis-cli's create,
// add-node and del-node do, refusing before anything is written what would
// lose data or build a broken cluster.
//
//   - Create makes a cluster of empty nodes: Probe connects to them and
//     refuses nodes in use, PlacesOf says where each is (host or zone),
//     plan.Create lays the cluster out, Assign sets that layout on the
//     nodes, and Create writes it and waits until the cluster has settled.
//   - Add joins an empty node as a master or a replica (CheckAdd refuses
//     first), and waits until the cluster has settled.
//   - PlanRemove and Remove take a node out: its replicas move to other
//     masters, every other node forgets it, the node is reset.
//
// The waits are faster than gossip alone: nodes that have not heard of
// each other are introduced, and a new master's rejoin delay is ended once
// every node agrees about the slots.
//
// Nothing here prints: refusals and failures are typed errors (a command a
// node refused is a *NodeError naming the node), and the steps reach a
// CreateObserver, AddObserver or RemoveObserver (NopObserver hears
// nothing).
package join
