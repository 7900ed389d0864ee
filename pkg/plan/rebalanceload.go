package plan

import (
	"math"
	"slices"
	"sort"
)

// LoadPlan is the outcome of RebalanceLoad. Loads are in the unit measured
// (keys, or estimated bytes), per input index.
type LoadPlan struct {
	// TotalWeight is the float32 sum of the weights, as in RebalancePlan.
	TotalWeight float32
	// Total is the load of all involved nodes.
	Total int64
	// Balanced reports that no node is over the threshold; Moves is empty.
	Balanced bool
	// Within reports that every node is within the threshold once the moves
	// are done: false when slots are too coarse (one slot holding more than
	// a node's tolerance) for the plan to get there.
	Within bool
	// Order is the input indexes sorted by balance, ascending (stable).
	Order []int
	// Loads, Targets and Balances (Loads - Targets) are before the moves;
	// After is each node's load once the moves are done.
	Loads, Targets, Balances, After []int64
	// Moves take slots from the nodes above their target to those below,
	// heaviest slots first; a slot without load never moves.
	Moves []Move
}

// RebalanceLoad plans moves that even out the load of the involved masters
// instead of their slot counts: slotLoad[s] is the load of slot s (keys, or
// bytes; a missing entry is 0). Each node's target is its weighted share of
// the total load. A node is over the threshold when its load differs from
// its target by more than threshold percent of the target (any load, for a
// target of 0); as in Rebalance, a threshold <= 0 always gives a balanced
// plan, and so does a total load of 0.
//
// Donors and receivers are paired as in Rebalance (most loaded donor with
// most starved receiver). A donor gives its heaviest slots that do not
// overshoot what the pair should exchange, then, if some is still missing,
// the lightest remaining slot whose load brings the pair closer. The plan is
// deterministic: ties are broken by slot number and input order.
func RebalanceLoad(nodes []RebalanceNode, slotLoad []int64, threshold float64) (*LoadPlan, error) {
	total32 := totalWeight(nodes)
	if total32 == 0 || math.IsNaN(float64(total32)) {
		return nil, ErrZeroWeight
	}
	load := func(slot int) int64 {
		if slot < len(slotLoad) {
			return slotLoad[slot]
		}
		return 0
	}
	n := len(nodes)
	p := &LoadPlan{
		TotalWeight: total32,
		Loads:       make([]int64, n),
		Targets:     make([]int64, n),
		Balances:    make([]int64, n),
	}
	for i, nd := range nodes {
		for _, s := range nd.Slots {
			p.Loads[i] += load(s)
		}
		p.Total += p.Loads[i]
	}
	// Shares in float64: targets are loads, not redis-cli's slot counts.
	var weights float64
	for _, nd := range nodes {
		weights += float64(nd.Weight)
	}
	for i, nd := range nodes {
		p.Targets[i] = int64(math.Round(float64(p.Total) * float64(nd.Weight) / weights))
		p.Balances[i] = p.Loads[i] - p.Targets[i]
	}
	p.Order = make([]int, n)
	for i := range p.Order {
		p.Order[i] = i
	}
	sort.SliceStable(p.Order, func(a, b int) bool { return p.Balances[p.Order[a]] < p.Balances[p.Order[b]] })
	p.After = slices.Clone(p.Loads)
	p.Balanced = p.Total == 0 || withinThreshold(p.Loads, p.Targets, threshold)
	if p.Balanced {
		p.Within = true
		return p, nil
	}

	bal := slices.Clone(p.Balances)
	// The slots each node holds as the moves are planned (a donor may
	// give to several receivers).
	cur := make([][]int, n)
	for i, nd := range nodes {
		cur[i] = nd.Slots
	}
	dstIdx, srcIdx := 0, n-1
	for dstIdx < srcIdx {
		dst, src := p.Order[dstIdx], p.Order[srcIdx]
		need, spare := -bal[dst], bal[src]
		want := min(need, spare)
		if want > 0 {
			slots, moved := pickSlots(cur[src], load, want)
			if len(slots) > 0 {
				cur[src] = slices.DeleteFunc(slices.Clone(cur[src]), func(s int) bool { _, found := slices.BinarySearch(slots, s); return found })
				p.Moves = append(p.Moves, Move{Source: nodes[src].ID, Target: nodes[dst].ID, Slots: slots})
				bal[dst] += moved
				bal[src] -= moved
				p.After[dst] += moved
				p.After[src] -= moved
			}
		}
		// The side that wanted less got as close as the donor's slots
		// allow; what remains of it is their granularity.
		if need <= spare {
			dstIdx++
		}
		if spare <= need {
			srcIdx--
		}
	}
	p.Within = withinThreshold(p.After, p.Targets, threshold)
	return p, nil
}

// totalWeight is the float32 sum of the weights, as redis-cli adds them.
func totalWeight(nodes []RebalanceNode) float32 {
	var total float32
	for _, n := range nodes {
		total = float32(total + n.Weight)
	}
	return total
}

// withinThreshold reports whether no load differs from its target by more
// than threshold percent of the target (a target of 0 tolerates no load).
func withinThreshold(loads, targets []int64, threshold float64) bool {
	if threshold <= 0 {
		return true
	}
	for i, l := range loads {
		t := targets[i]
		if t == 0 {
			if l > 0 {
				return false
			}
			continue
		}
		if math.Abs(float64(l-t))*100/float64(t) > threshold {
			return false
		}
	}
	return true
}

// pickSlots chooses among slots (a donor's) those whose loads add up
// closest to want: the heaviest that fit first, then the lightest of the
// rest if it brings the sum closer. It returns them ascending, and their
// load.
func pickSlots(slots []int, load func(int) int64, want int64) ([]int, int64) {
	var cands []int
	for _, s := range slots {
		if load(s) > 0 {
			cands = append(cands, s)
		}
	}
	sort.SliceStable(cands, func(a, b int) bool {
		la, lb := load(cands[a]), load(cands[b])
		if la != lb {
			return la > lb
		}
		return cands[a] < cands[b]
	})
	var picked []int
	var sum int64
	lightest := -1 // the lightest slot left that overshoots
	for _, s := range cands {
		if l := load(s); sum+l <= want {
			picked = append(picked, s)
			sum += l
		} else {
			lightest = s
		}
	}
	if rest := want - sum; rest > 0 && lightest >= 0 && load(lightest) < 2*rest {
		picked = append(picked, lightest)
		sum += load(lightest)
	}
	slices.Sort(picked)
	return picked, sum
}
