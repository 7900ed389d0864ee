package plan

import "slices"

// Placement improves the replica layout of a running cluster: nodes give
// each node's place in Host (its host, or its zone), masterOf each node's
// master (an index into nodes, negative for a master). It returns a new
// masterOf in which replicas only change masters (each master keeps its
// number of replicas), with redis-cli's anti-affinity score before and
// after (0 = no replica shares its master's place, and no two replicas of
// one master share a place).
//
// It changes as few replicas as it can: each one moved costs a full
// resync. Strict descent (pair swaps, then 3-cycles) from the current
// layout first; the full create optimiser only when that leaves the score
// above what the places allow and the optimiser does better.
func Placement(nodes []CreateNode, masterOf []int) (improved []int, before, after int) {
	before = AntiAffinityScore(nodes, masterOf)
	a := newAffinity(nodes, masterOf)
	a.descend()
	improved = slices.Clone(masterOf)
	for r, i := range a.reps {
		improved[i] = a.keyNode[a.rkey[r]]
	}
	after = a.score
	if a.score > a.lb {
		full := slices.Clone(masterOf)
		if s := optimizeAntiAffinity(nodes, full); s < after {
			improved, after = full, s
		}
	}
	return improved, before, after
}
