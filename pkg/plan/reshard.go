package plan

import (
	"math"
	"slices"
	"sort"
)

// ReshardSource is one source node of a reshard: its ID and its slots in
// ascending order; len(Slots) is its slots_count.
type ReshardSource struct {
	ID    string
	Slots []int
}

// Move moves Slots, in that order, from node Source to node Target (node
// IDs). It is the one shape of every plan that moves slots: reshard,
// rebalance, fix.
type Move struct {
	Source, Target string
	Slots          []int
}

// Count is the number of slots the move moves.
func (m Move) Count() int { return len(m.Slots) }

// SlotCount is the number of slots of all moves.
func SlotCount(moves []Move) int {
	n := 0
	for _, m := range moves {
		n += len(m.Slots)
	}
	return n
}

// ReshardTable is redis-cli's clusterManagerComputeReshardTable: the sources
// are sorted by slot count descending (stable), and source i gives
// (float32)n/total*count slots, rounded up for the first source and down for
// the others, taking its lowest slots first, until the plan holds n slots.
// It returns one move to target per source that gives slots, in that order:
// read slot after slot, they are redis-cli's table. The plan may hold fewer
// than n slots.
func ReshardTable(sources []ReshardSource, n int, target string) []Move {
	srcs := make([]reshardSource, len(sources))
	for i, s := range sources {
		srcs[i] = reshardSource{id: s.ID, slots: s.Slots, count: len(s.Slots)}
	}
	return reshardTable(srcs, n, target)
}

// reshardSource separates slots_count from the slot list: rebalance moves
// slots away from a node without updating its slots_count.
type reshardSource struct {
	id    string
	slots []int
	count int
}

func reshardTable(srcs []reshardSource, n int, target string) []Move {
	total := 0
	sorted := make([]reshardSource, len(srcs))
	copy(sorted, srcs)
	for _, s := range sorted {
		total += s.count
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].count > sorted[j].count })
	var moves []Move
	moved := 0
	for i, s := range sorted {
		quota := reshardQuota(n, total, s.count, i == 0)
		slots := s.slots
		if !slices.IsSorted(slots) {
			slots = slices.Sorted(slices.Values(slots))
		}
		take := min(max(quota, 0), n-moved, len(slots))
		if take > 0 {
			moves = append(moves, Move{Source: s.id, Target: target, Slots: slices.Clone(slots[:take])})
			moved += take
		}
	}
	return moves
}

// reshardQuota is (float)n / total * count in float32, ceil for the first
// source and floor for the others, converted to a C int.
func reshardQuota(n, total, count int, first bool) int {
	q := float32(float32(n) / float32(total))
	q = float32(q * float32(count))
	d := float64(q)
	if first {
		d = math.Ceil(d)
	} else {
		d = math.Floor(d)
	}
	return cInt(d)
}

// cInt converts like an x86-64 C (int) cast: truncation toward zero, and
// INT_MIN for NaN or values out of the int32 range.
func cInt(d float64) int {
	if math.IsNaN(d) || d >= math.MaxInt32+1 || d <= math.MinInt32-1 {
		return math.MinInt32
	}
	return int(d)
}

// ExactMoves plans moving exactly the slots want (ascending) to target:
// one move per source that owns some of them, in the order of the sources,
// each with its slots ascending. It also returns the wanted slots that no
// source owns.
func ExactMoves(sources []ReshardSource, want []int, target string) (moves []Move, unowned []int) {
	owner := map[int]int{}
	for i, s := range sources {
		for _, slot := range s.Slots {
			owner[slot] = i
		}
	}
	bySource := make([][]int, len(sources))
	for _, slot := range want {
		i, ok := owner[slot]
		if !ok {
			unowned = append(unowned, slot)
			continue
		}
		bySource[i] = append(bySource[i], slot)
	}
	for i, slots := range bySource {
		if len(slots) > 0 {
			moves = append(moves, Move{Source: sources[i].ID, Target: target, Slots: slots})
		}
	}
	return moves, unowned
}
