package plan

import (
	"fmt"
	"reflect"
	"testing"
)

// sourcesFromCounts gives source i the ID "n<i>" and count consecutive slots
// following those of the previous sources.
func sourcesFromCounts(counts ...int) []ReshardSource {
	var out []ReshardSource
	next := 0
	for i, c := range counts {
		s := ReshardSource{ID: fmt.Sprintf("n%d", i)}
		for j := 0; j < c; j++ {
			s.Slots = append(s.Slots, next)
			next++
		}
		out = append(out, s)
	}
	return out
}

// perSource counts the plan's slots per source ID, in plan order.
func perSource(plan []Move) (ids []string, counts []int) {
	for _, m := range plan {
		ids = append(ids, m.Source)
		counts = append(counts, m.Count())
	}
	return ids, counts
}

func TestReshardTableVectors(t *testing.T) {
	// Section 2.9 of the spec.
	tests := []struct {
		n      int
		counts []int
		taken  []int
	}{
		{7, []int{5462, 5461}, []int{4, 3}},
		{1, []int{5462, 5461}, []int{1, 0}},
		{100, []int{5462, 5461, 5461}, []int{34, 33, 33}},
		{1000, []int{5462, 5461, 5461}, []int{334, 333, 333}},
		{16384, []int{5462, 5461, 5461}, []int{5462, 5461, 5461}},
		{100, []int{3277, 3277, 3277, 3276}, []int{26, 25, 25, 24}},
		{5, []int{10, 1}, []int{5, 0}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n, tt.counts), func(t *testing.T) {
			srcs := sourcesFromCounts(tt.counts...)
			plan := ReshardTable(srcs, tt.n, "t")
			// Each source gives its lowest slots, sources in order.
			var want []Move
			for i, k := range tt.taken {
				if k > 0 {
					want = append(want, Move{Source: srcs[i].ID, Target: "t", Slots: srcs[i].Slots[:k]})
				}
			}
			if !reflect.DeepEqual(plan, want) {
				_, got := perSource(plan)
				t.Errorf("plan takes %v (%d slots), want %v", got, SlotCount(plan), tt.taken)
			}
		})
	}
}

func TestReshardTableOrder(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		n      int
		ids    []string
		taken  []int
	}{
		// Sorted by count descending; ties keep the input order (stable).
		// 8/16*10 = 5 (ceil), 8/16*5 = 2.5 (floor 2), 8/16*1 = 0.5 (floor 0):
		// the plan may be shorter than n.
		{"descending", []int{1, 10, 5}, 8, []string{"n1", "n2"}, []int{5, 2}},
		{"ties stable", []int{100, 200, 100, 200}, 60, []string{"n1", "n3", "n0", "n2"}, []int{20, 20, 10, 10}},
		// More than available: everything, in source order.
		{"n over total", []int{3, 2}, 10, []string{"n0", "n1"}, []int{3, 2}},
		{"no sources", nil, 5, nil, nil},
		{"empty sources", []int{0, 0}, 5, nil, nil},
		{"zero slots wanted", []int{4, 4}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, counts := perSource(ReshardTable(sourcesFromCounts(tt.counts...), tt.n, "t"))
			if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(counts, tt.taken) {
				t.Errorf("plan = %v %v, want %v %v", ids, counts, tt.ids, tt.taken)
			}
		})
	}
}

func TestReshardTableSlotsOrder(t *testing.T) {
	// Scattered and unsorted slots are taken in ascending slot order.
	plan := ReshardTable([]ReshardSource{{ID: "a", Slots: []int{900, 5, 16383, 42}}}, 3, "t")
	want := []Move{{Source: "a", Target: "t", Slots: []int{5, 42, 900}}}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("plan = %v, want %v", plan, want)
	}
}

func TestReshardQuota(t *testing.T) {
	tests := []struct {
		n, total, count int
		first           bool
		want            int
	}{
		{7, 10923, 5462, true, 4},
		{7, 10923, 5461, false, 3},
		{100, 13107, 3277, true, 26},
		{100, 13107, 3276, false, 24},
		{3, 7, 7, true, 3},
		{0, 0, 0, true, -2147483648}, // NaN -> INT_MIN, as the C cast on x86-64
	}
	for _, tt := range tests {
		if got := reshardQuota(tt.n, tt.total, tt.count, tt.first); got != tt.want {
			t.Errorf("reshardQuota(%d, %d, %d, %v) = %d, want %d", tt.n, tt.total, tt.count, tt.first, got, tt.want)
		}
	}
}

func TestExactMoves(t *testing.T) {
	sources := sourcesFromCounts(5, 5, 5) // n0: 0-4, n1: 5-9, n2: 10-14
	moves, unowned := ExactMoves(sources, []int{1, 2, 11, 14, 20, 21}, "t")
	want := []Move{{Source: "n0", Target: "t", Slots: []int{1, 2}}, {Source: "n2", Target: "t", Slots: []int{11, 14}}}
	if !reflect.DeepEqual(moves, want) || !reflect.DeepEqual(unowned, []int{20, 21}) {
		t.Errorf("ExactMoves = %v, unowned %v; want %v, unowned [20 21]", moves, unowned, want)
	}
	if moves, unowned := ExactMoves(sources, nil, "t"); moves != nil || unowned != nil {
		t.Errorf("ExactMoves of nothing = %v, %v", moves, unowned)
	}
}
