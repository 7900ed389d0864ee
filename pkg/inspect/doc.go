// Package inspect loads a Redis Cluster or Valkey cluster through one entry
// node and lists its problems as typed findings, the checks of redis-cli's
// --cluster check: nodes that disagree about the slot map, open slots,
// keys in slots their master does not own, uncovered slots and slots with
// several owners.
//
// It only reads, and never prints: connection failures come back as typed
// errors (DialError, NotClusterError, NodesError) and as the Unloaded nodes
// of a Cluster, so that a CLI can word them as redis-cli does and a program
// can act on them. Repairing what it finds is the caller's business.
package inspect
