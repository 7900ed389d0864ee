package plan

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// rebalanceNodes gives node i the ID "node<i+1>", counts[i] consecutive slots
// following those of the previous nodes, and weights[i].
func rebalanceNodes(counts []int, weights []float32) []RebalanceNode {
	var out []RebalanceNode
	next := 0
	for i, c := range counts {
		n := RebalanceNode{ID: fmt.Sprintf("node%d", i+1), Weight: weights[i]}
		for j := 0; j < c; j++ {
			n.Slots = append(n.Slots, next)
			next++
		}
		out = append(out, n)
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

type wantMove struct{ from, to, count int } // 1-based node numbers

func TestRebalanceVectors(t *testing.T) {
	// Section 3.6 of the spec (threshold 2%), plus reconstructions of the
	// 6.14 transcripts.
	tests := []struct {
		name      string
		counts    []int
		weights   []float32
		threshold float64
		total     float32
		expected  []int
		balances  []int
		balanced  bool
		order     []int // 1-based
		moves     []wantMove
	}{
		{
			name: "even", counts: []int{5461, 5462, 5461}, weights: []float32{1, 1, 1}, threshold: 2,
			total: 3, expected: []int{5461, 5461, 5461}, balances: []int{-1, 1, 0}, balanced: true,
			order: []int{1, 3, 2},
		},
		{
			name: "weight 2", counts: []int{5461, 5462, 5461}, weights: []float32{1, 1, 2}, threshold: 2,
			total: 4, expected: []int{4096, 4096, 8192}, balances: []int{1365, 1366, -2731},
			order: []int{3, 1, 2}, moves: []wantMove{{2, 3, 1366}, {1, 3, 1365}},
		},
		{
			name: "empty master", counts: []int{5461, 5462, 5461, 0}, weights: []float32{1, 1, 1, 1}, threshold: 2,
			total: 4, expected: []int{4096, 4096, 4096, 4096}, balances: []int{1365, 1366, 1365, -4096},
			order: []int{4, 1, 3, 2}, moves: []wantMove{{2, 4, 1366}, {3, 4, 1365}, {1, 4, 1365}},
		},
		{
			name: "weight 0", counts: []int{3277, 3277, 3277, 3277, 3276}, weights: []float32{0, 1, 1, 1, 1}, threshold: 2,
			total: 4, expected: []int{0, 4096, 4096, 4096, 4096}, balances: []int{3277, -819, -819, -819, -820},
			order: []int{5, 2, 3, 4, 1}, moves: []wantMove{{1, 5, 820}, {1, 2, 819}, {1, 3, 819}, {1, 4, 819}},
		},
		{
			name: "weight 0.01", counts: []int{0, 4096, 4096, 4096, 4096}, weights: []float32{0.01, 1, 1, 1, 1}, threshold: 2,
			total: 4.01, expected: []int{40, 4085, 4085, 4085, 4085}, balances: []int{-44, 11, 11, 11, 11},
			order: []int{1, 2, 3, 4, 5}, moves: []wantMove{{5, 1, 11}, {4, 1, 11}, {3, 1, 11}, {2, 1, 11}},
		},
		{
			name: "two full three empty", counts: []int{8192, 8192, 0, 0, 0}, weights: []float32{1, 1, 1, 1, 1}, threshold: 2,
			total: 5, expected: []int{3276, 3276, 3276, 3276, 3276}, balances: []int{4916, 4916, -3278, -3277, -3277},
			order: []int{3, 4, 5, 1, 2},
			moves: []wantMove{{2, 3, 3278}, {2, 4, 1638}, {1, 4, 1639}, {1, 5, 3277}},
		},
		{
			// 6.14, --cluster-threshold 0.01 --verbose: balances -11, 4, 7.
			name: "6.14 threshold 0.01", counts: []int{5451, 5465, 5468}, weights: []float32{1, 1, 1}, threshold: 0.01,
			total: 3, expected: []int{5461, 5461, 5461}, balances: []int{-11, 4, 7},
			order: []int{1, 2, 3}, moves: []wantMove{{3, 1, 7}, {2, 1, 4}},
		},
		{
			// 6.14, weight 0 on the third master.
			name: "6.14 weight 0", counts: []int{5462, 5461, 5461}, weights: []float32{1, 1, 0}, threshold: 2,
			total: 2, expected: []int{8192, 8192, 0}, balances: []int{-2730, -2731, 5461},
			order: []int{2, 1, 3}, moves: []wantMove{{3, 2, 2731}, {3, 1, 2730}},
		},
		{
			name: "threshold 0 never rebalances", counts: []int{16384, 0, 0}, weights: []float32{1, 1, 1}, threshold: 0,
			total: 3, expected: []int{5461, 5461, 5461}, balances: []int{10923, -5462, -5461}, balanced: true,
			order: []int{2, 3, 1},
		},
		{
			name: "slightly off within 2%", counts: []int{5400, 5500, 5484}, weights: []float32{1, 1, 1}, threshold: 2,
			total: 3, expected: []int{5461, 5461, 5461}, balances: []int{-62, 39, 23}, balanced: true,
			order: []int{1, 3, 2},
		},
		{
			name: "empty node expecting one slot is not over", counts: []int{16384, 0}, weights: []float32{16383, 1}, threshold: 200,
			total: 16384, expected: []int{16383, 1}, balances: []int{1, -1}, balanced: true,
			order: []int{2, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Rebalance(rebalanceNodes(tt.counts, tt.weights), tt.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if p.TotalWeight != tt.total {
				t.Errorf("total weight = %v, want %v", p.TotalWeight, tt.total)
			}
			if got := fmt.Sprintf("%.2f", p.TotalWeight); got != fmt.Sprintf("%.2f", tt.total) {
				t.Errorf("total weight prints as %s", got)
			}
			if !reflect.DeepEqual(p.Expected, tt.expected) {
				t.Errorf("expected = %v, want %v", p.Expected, tt.expected)
			}
			if !reflect.DeepEqual(p.Balances, tt.balances) {
				t.Errorf("balances = %v, want %v", p.Balances, tt.balances)
			}
			if p.Balanced != tt.balanced {
				t.Errorf("balanced = %v, want %v", p.Balanced, tt.balanced)
			}
			var order []int
			for _, i := range p.Order {
				order = append(order, i+1)
			}
			if !reflect.DeepEqual(order, tt.order) {
				t.Errorf("order = %v, want %v", order, tt.order)
			}
			var moves []wantMove
			for _, m := range p.Moves {
				moves = append(moves, wantMove{nodeNumber(m.Source), nodeNumber(m.Target), m.Count()})
			}
			if !reflect.DeepEqual(moves, tt.moves) {
				t.Errorf("moves = %v, want %v", moves, tt.moves)
			}
			checkMoves(t, tt.counts, p)
		})
	}
}

// nodeNumber is the number in rebalanceNodes' ID "node<n>".
func nodeNumber(id string) int {
	var n int
	fmt.Sscanf(id, "node%d", &n)
	return n
}

// checkMoves replays the moves on the initial ownership: every moved slot
// belongs to the donor at that moment, and every donor gives its lowest
// slots.
func checkMoves(t *testing.T, counts []int, p *RebalancePlan) {
	t.Helper()
	owner := map[int]int{}
	next := 0
	for i, c := range counts {
		for j := 0; j < c; j++ {
			owner[next] = i
			next++
		}
	}
	for _, m := range p.Moves {
		from, to := nodeNumber(m.Source)-1, nodeNumber(m.Target)-1
		highest := -1
		for _, s := range m.Slots {
			if owner[s] != from {
				t.Fatalf("move %s->%s: slot %d is owned by %d", m.Source, m.Target, s, owner[s])
			}
		}
		// No slot of the donor below the highest moved one stays behind.
		if len(m.Slots) > 0 {
			highest = m.Slots[len(m.Slots)-1]
		}
		for s, o := range owner {
			if o == from && s < highest && !contains(m.Slots, s) {
				t.Fatalf("move %s->%s skips the donor's slot %d", m.Source, m.Target, s)
			}
		}
		for _, s := range m.Slots {
			owner[s] = to
		}
	}
}

func TestRebalanceLastRowSlots(t *testing.T) {
	// The spec's last row: node1 holds 0-8191, node2 8192-16383.
	p, err := Rebalance(rebalanceNodes([]int{8192, 8192, 0, 0, 0}, []float32{1, 1, 1, 1, 1}), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Move{
		{Source: "node2", Target: "node3", Slots: span(8192, 11469)},
		{Source: "node2", Target: "node4", Slots: span(11470, 13107)},
		{Source: "node1", Target: "node4", Slots: span(0, 1638)},
		{Source: "node1", Target: "node5", Slots: span(1639, 4915)},
	}
	if !reflect.DeepEqual(p.Moves, want) {
		for _, m := range p.Moves {
			t.Logf("got %s->%s %d [%d..%d]", m.Source, m.Target, m.Count(), m.Slots[0], m.Slots[len(m.Slots)-1])
		}
		t.Error("moves differ")
	}
}

func TestRebalanceScatteredSlots(t *testing.T) {
	// Slots need not be contiguous: the donor gives its lowest ones.
	odd := []int{1, 3, 5, 7, 9, 11, 13, 15}
	even := []int{0, 2, 4, 6, 8, 10, 12, 14}
	nodes := []RebalanceNode{
		{ID: "a", Weight: 1, Slots: append(odd, span(16, 8199)...)},
		{ID: "b", Weight: 1, Slots: span(8200, 12295)},
		{ID: "c", Weight: 1},
		{ID: "d", Weight: 1, Slots: append(even, span(12296, 16383)...)},
	}
	p, err := Rebalance(nodes, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Balances, []int{4096, 0, -4096, 0}) {
		t.Fatalf("balances = %v", p.Balances)
	}
	if len(p.Moves) != 1 || p.Moves[0].Source != "a" || p.Moves[0].Target != "c" || p.Moves[0].Count() != 4096 {
		t.Fatalf("moves = %+v", p.Moves)
	}
	if want := append(odd, span(16, 4103)...); !reflect.DeepEqual(p.Moves[0].Slots, want) {
		t.Errorf("slots = %v..., want %v...", p.Moves[0].Slots[:10], want[:10])
	}
}

func TestRebalanceErrors(t *testing.T) {
	tests := []struct {
		name    string
		counts  []int
		weights []float32
		want    error
	}{
		{"no nodes", nil, nil, ErrZeroWeight},
		{"all weights zero", []int{8192, 8192}, []float32{0, 0}, ErrZeroWeight},
		{"weights cancel", []int{8192, 8192}, []float32{1, -1}, ErrZeroWeight},
		{"expected out of range", []int{8192, 8192}, []float32{1, -0.99999994}, ErrWeightRange},
		// More slots than 16384: every balance is positive, redis-cli would loop.
		{"no receiver", []int{16384, 16384}, []float32{1, 1}, ErrUnbalanceable},
		// Fewer slots than expected everywhere: the "donor" holds nothing.
		{"no donor slots", []int{0, 0}, []float32{1, 1}, ErrReshardTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Rebalance(rebalanceNodes(tt.counts, tt.weights), 2)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
