// Package join changes who is in a cluster: PlanRemove and Remove take a
// node out as redis-cli's del-node does (its replicas move to other
// masters, every other node forgets it, the node is reset), refusing what
// would lose data before anything is written.
//
// Nothing here prints: refusals are typed errors, the steps reach a
// RemoveObserver, and a failed command is a *NodeError naming the node.
package join
