package plan

import (
	"errors"
	"math"
	"slices"
	"sort"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// RebalanceNode is one involved master, in list order.
type RebalanceNode struct {
	ID     string
	Slots  []int // ascending; len(Slots) is its slots_count
	Weight float32
}

// RebalancePlan is the outcome of Rebalance.
type RebalancePlan struct {
	// TotalWeight is the float32 sum of the weights (printed with %.2f).
	TotalWeight float32
	// Balanced reports that no node is over the threshold: redis-cli prints
	// "*** No rebalancing needed!" and stops; Moves is then empty.
	Balanced bool
	// Order is the input indexes sorted by balance, ascending (stable), as
	// printed by --verbose.
	Order []int
	// Expected is the number of slots each node should hold, per input index.
	Expected []int
	// Balances is slots_count - expected per input index, after the rounding
	// fix (computed even when Balanced, though redis-cli stops before it).
	Balances []int
	// Moves are the moves in order; their Slots are the exact slots moved,
	// as redis-cli picks them.
	Moves []Move
}

// ErrZeroWeight is returned by Rebalance when the total weight is zero (or
// not a number); redis-cli would compute with NaN.
var ErrZeroWeight = errors.New("plan: the total weight of the involved nodes is zero")

// ErrWeightRange is returned by Rebalance when a node's expected slot count
// does not fit a C int (only possible with extreme or negative weights).
var ErrWeightRange = errors.New("plan: weights give an expected slot count out of range")

// ErrUnbalanceable is returned by Rebalance when the rounding fix cannot
// finish because no node has a balance <= 0 (redis-cli would loop forever).
var ErrUnbalanceable = errors.New("plan: no node can absorb the rounding excess of the balances")

// ErrReshardTable is redis-cli's "*** Assertion failed: Reshard table != number
// of slots": a donor does not hold the slots it should give.
var ErrReshardTable = errors.New("plan: reshard table != number of slots")

// Rebalance computes redis-cli's rebalance plan for the involved masters.
// threshold is the --cluster-threshold percentage; like redis-cli, the
// over-threshold test is done in float32 (the percentage error is computed
// in double precision and stored into a float). A threshold <= 0 always gives
// a balanced plan.
//
// Moves take the donor's lowest slots and, unlike --cluster-simulate, track
// the slots already moved (redis-cli's UPDATE flag), while the donor's
// slots_count used for the reshard quota stays at its initial value, as in
// redis-cli.
func Rebalance(nodes []RebalanceNode, threshold float64) (*RebalancePlan, error) {
	total := totalWeight(nodes)
	if total == 0 || math.IsNaN(float64(total)) {
		return nil, ErrZeroWeight
	}
	p := &RebalancePlan{
		TotalWeight: total,
		Expected:    make([]int, len(nodes)),
		Balances:    make([]int, len(nodes)),
	}
	per := float32(float32(cluster.NumSlots) / total)
	thr := float32(threshold)
	sum := 0
	over := false
	for i, n := range nodes {
		e := float64(float32(per * n.Weight))
		if math.IsNaN(e) || e >= math.MaxInt32+1 || e <= math.MinInt32-1 {
			return nil, ErrWeightRange
		}
		expected := int(e)
		count := len(n.Slots)
		p.Expected[i] = expected
		p.Balances[i] = count - expected
		sum += p.Balances[i]
		if thr > 0 {
			if count > 0 {
				errPerc := float32(math.Abs(100 - 100.0*float64(expected)/float64(count)))
				if errPerc > thr {
					over = true
				}
			} else if expected > 1 {
				over = true
			}
		}
	}
	p.Balanced = !over

	// Rounding fix: donors must be matched by receivers.
	for sum > 0 {
		progress := false
		for i := range p.Balances {
			if p.Balances[i] <= 0 && sum > 0 {
				p.Balances[i]--
				sum--
				progress = true
			}
		}
		if !progress {
			return nil, ErrUnbalanceable
		}
	}

	p.Order = make([]int, len(nodes))
	for i := range p.Order {
		p.Order[i] = i
	}
	sort.SliceStable(p.Order, func(a, b int) bool { return p.Balances[p.Order[a]] < p.Balances[p.Order[b]] })
	if p.Balanced {
		return p, nil
	}

	bal := slices.Clone(p.Balances)
	// Slots currently held (redis-cli's bitmaps under the UPDATE flag). The
	// slices are only ever resliced or replaced, never written to, so the
	// input is not modified.
	cur := make([][]int, len(nodes))
	for i, n := range nodes {
		cur[i] = n.Slots
		if !slices.IsSorted(cur[i]) {
			cur[i] = slices.Sorted(slices.Values(n.Slots))
		}
	}
	dstIdx, srcIdx := 0, len(nodes)-1
	for dstIdx < srcIdx {
		dst, src := p.Order[dstIdx], p.Order[srcIdx]
		n := min(abs(bal[dst]), abs(bal[src]))
		if n > 0 {
			table := reshardTable([]reshardSource{{id: nodes[src].ID, slots: cur[src], count: len(nodes[src].Slots)}}, n, nodes[dst].ID)
			if SlotCount(table) != n {
				return nil, ErrReshardTable
			}
			// A single source gives its lowest slots: a prefix of cur[src].
			mv := table[0]
			cur[src] = cur[src][n:]
			cur[dst] = mergeSorted(cur[dst], mv.Slots)
			p.Moves = append(p.Moves, mv)
		}
		bal[dst] += n
		bal[src] -= n
		if bal[dst] == 0 {
			dstIdx++
		}
		if bal[src] == 0 {
			srcIdx--
		}
	}
	return p, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func mergeSorted(a, b []int) []int {
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
