package plan

import (
	"errors"
	"fmt"
	"math"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// CreateNode is one node given to create, in argument order.
type CreateNode struct {
	Host string
	Port int
}

// ReplicaAssignment says that input node Replica replicates input node Master.
type ReplicaAssignment struct{ Replica, Master int }

// CreatePlan is the layout create proposes.
type CreatePlan struct {
	// Masters are the input indexes of the masters, in master order
	// (Master[0..M-1] of the "Master[%d] -> Slots" lines).
	Masters []int
	// Ranges[i] is the slot range of Masters[i].
	Ranges []cluster.Range
	// Assignments is the initial replica assignment, in the order redis-cli
	// prints "Adding replica X to Y".
	Assignments []ReplicaAssignment
	// ExtraFrom is the index in Assignments where the "Adding extra
	// replicas..." pass starts, or -1 when there is no such pass.
	ExtraFrom int
	// Optimized reports that the initial anti-affinity score was > 0, so
	// redis-cli prints ">>> Trying to optimize slaves allocation for
	// anti-affinity" and a verdict afterwards.
	Optimized bool
	// MasterOf is the final layout: per input index, the input index of its
	// master, or -1 for masters (and for nodes left without a role, which
	// redis-cli keeps as slot-less masters; this happens only when the
	// leftover nodes outnumber the masters in the extra pass).
	MasterOf []int
	// Score is the final anti-affinity score (0 = perfect, >= 10000 = some
	// replica is on its master's host).
	Score int
}

// ErrNegativeReplicas is returned by Create for a negative replica count.
var ErrNegativeReplicas = errors.New("plan: the number of replicas must not be negative")

// TooFewMastersError is returned by Create when the layout would have fewer
// than three masters.
type TooFewMastersError struct {
	Nodes, Replicas int
}

// MinNodes is the number of nodes needed for three masters: 3*(Replicas+1).
func (e *TooFewMastersError) MinNodes() int { return 3 * (e.Replicas + 1) }

func (e *TooFewMastersError) Error() string {
	return fmt.Sprintf("plan: Redis Cluster requires at least 3 master nodes; "+
		"this is not possible with %d nodes and %d replicas per node "+
		"(at least %d nodes are required)", e.Nodes, e.Replicas, e.MinNodes())
}

// MasterCount is the number of masters create makes: nodes/(replicas+1)
// (integer division). It returns 0 for a negative replica count.
func MasterCount(nodes, replicas int) int {
	if replicas < 0 {
		return 0
	}
	return nodes / (replicas + 1)
}

// Create computes redis-cli's create layout for the given nodes (argument
// order) and replicas per master. The error is ErrNegativeReplicas or a
// *TooFewMastersError.
func Create(nodes []CreateNode, replicas int) (*CreatePlan, error) {
	if replicas < 0 {
		return nil, ErrNegativeReplicas
	}
	m := MasterCount(len(nodes), replicas)
	if m < 3 {
		return nil, &TooFewMastersError{Nodes: len(nodes), Replicas: replicas}
	}
	order := interleave(nodes)
	p := &CreatePlan{
		Masters:   append([]int(nil), order[:m]...),
		Ranges:    slotRanges(m),
		ExtraFrom: -1,
		MasterOf:  make([]int, len(nodes)),
	}
	for i := range p.MasterOf {
		p.MasterOf[i] = -1
	}

	// Replica candidates, rotated by one ("rotating sometimes helps
	// anti-affinity").
	cands := append([]int(nil), order[m:]...)
	if len(cands) > 1 {
		cands = append(cands[1:], cands[0])
	}
	pass := func(max int) {
		for _, mi := range p.Masters {
			for k := 0; k < max && len(cands) > 0; k++ {
				j := 0 // first remaining candidate on another host, else the first one
				for x, c := range cands {
					if nodes[c].Host != nodes[mi].Host {
						j = x
						break
					}
				}
				r := cands[j]
				cands = append(cands[:j], cands[j+1:]...)
				p.MasterOf[r] = mi
				p.Assignments = append(p.Assignments, ReplicaAssignment{Replica: r, Master: mi})
			}
		}
	}
	pass(replicas)
	if len(cands) > 0 {
		p.ExtraFrom = len(p.Assignments)
		pass(min(replicas, 1))
	}

	initial := AntiAffinityScore(nodes, p.MasterOf)
	p.Score = initial
	if initial > 0 {
		p.Optimized = true
		p.Score = optimizeAntiAffinity(nodes, p.MasterOf)
	}
	return p, nil
}

// interleave groups the nodes by exact host string (groups in order of first
// appearance) and takes one node of each group per round.
func interleave(nodes []CreateNode) []int {
	var groups [][]int
	byHost := make(map[string]int)
	for i, n := range nodes {
		g, ok := byHost[n.Host]
		if !ok {
			g = len(groups)
			byHost[n.Host] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	out := make([]int, 0, len(nodes))
	for round := 0; len(out) < len(nodes); round++ {
		for _, g := range groups {
			if round < len(g) {
				out = append(out, g[round])
			}
		}
	}
	return out
}

// slotRanges splits the slots over m masters exactly as redis-cli does:
// float32 step and cursor, round half away from zero.
func slotRanges(m int) []cluster.Range {
	out := make([]cluster.Range, m)
	step := float32(float32(cluster.NumSlots) / float32(m))
	var cursor float32
	first := 0
	for i := 0; i < m; i++ {
		v := float32(cursor + step)
		v = float32(v - 1)
		last := int(math.Round(float64(v)))
		if last > cluster.NumSlots || i == m-1 {
			last = cluster.NumSlots - 1
		}
		if last < first {
			last = first
		}
		out[i] = cluster.Range{Start: first, End: last}
		first = last + 1
		cursor = float32(cursor + step)
	}
	return out
}
