// Package plan holds the pure planning arithmetic of redis-cli's cluster
// manager: how create lays out masters, slot ranges and replicas (including
// the anti-affinity optimisation), which slots a reshard moves from which
// source (clusterManagerComputeReshardTable), and the moves of a rebalance.
//
// Everything here reproduces redis-cli's own numerics, including its float32
// arithmetic, rounding and stable sorts, so that the plans (and therefore the
// printed output) match the original tool. The one intentional difference is
// the anti-affinity optimiser: redis-cli uses time-seeded random swaps, while
// this package is deterministic (same input, same plan) and never ends with a
// worse score than the initial assignment.
//
// The package performs no I/O; callers print the plans and carry them out.
package plan
