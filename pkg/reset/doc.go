// Package reset empties nodes that create refuses as "not empty", as
// rcluster's reset does: Inspect (or InspectAll) says what makes each node
// not empty (other nodes known, keys, slots) and whether it serves a
// healthy cluster; ResetAll sends CLUSTER RESET HARD (after FLUSHALL when
// Options.Flush allows it), replicas first, then masters. Nodes are given
// by address: they need not be in one cluster.
//
// Nothing here prints or asks: what makes a node need --flush or --force
// is Target.Lacks, a refusal is a *RefusedError, failures are typed
// (DialError, InspectError, SameNodeError) or each target's own error in
// its Result, and the resets reach an Observer.
package reset
