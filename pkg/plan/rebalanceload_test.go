package plan

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// evenSlots gives n nodes IDs "node<i+1>", weight 1, and the 16384 slots in
// consecutive runs, as create lays them out.
func evenSlots(n int) []RebalanceNode {
	counts := make([]int, n)
	weights := make([]float32, n)
	for i := range counts {
		counts[i] = cluster.NumSlots / n
		weights[i] = 1
	}
	counts[n-1] += cluster.NumSlots % n
	return rebalanceNodes(counts, weights)
}

// checkLoadPlan checks what every load plan must hold: moves take slots the
// source owns at that point, to another node, each slot once; After is the
// load of the slots each node ends with; no load is lost.
func checkLoadPlan(t *testing.T, nodes []RebalanceNode, load []int64, p *LoadPlan) {
	t.Helper()
	owner := map[int]string{}
	index := map[string]int{}
	for i, n := range nodes {
		index[n.ID] = i
		for _, s := range n.Slots {
			owner[s] = n.ID
		}
	}
	moved := map[int]bool{}
	for _, mv := range p.Moves {
		if mv.Source == mv.Target || len(mv.Slots) == 0 {
			t.Fatalf("bad move %+v", mv)
		}
		for _, s := range mv.Slots {
			if owner[s] != mv.Source || moved[s] {
				t.Fatalf("slot %d moved from %s, owned by %s (moved before: %v)", s, mv.Source, owner[s], moved[s])
			}
			if load[s] == 0 {
				t.Fatalf("slot %d without load moved", s)
			}
			owner[s] = mv.Target
			moved[s] = true
		}
	}
	after := make([]int64, len(nodes))
	for s, id := range owner {
		after[index[id]] += load[s]
	}
	if !reflect.DeepEqual(after, p.After) {
		t.Fatalf("After = %v, the slots owned at the end hold %v", p.After, after)
	}
	var sum int64
	for _, l := range p.After {
		sum += l
	}
	if sum != p.Total {
		t.Fatalf("the loads add up to %d after the moves, %d before", sum, p.Total)
	}
}

func offBy(p *LoadPlan, loads []int64) (worst float64) {
	for i, l := range loads {
		if t := p.Targets[i]; t > 0 {
			worst = max(worst, float64(abs64(l-t))*100/float64(t))
		}
	}
	return worst
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestRebalanceLoadSkewed(t *testing.T) {
	// One key in every 3rd slot, and 6000 keys in 60 slots of node 1.
	nodes := evenSlots(3)
	load := make([]int64, cluster.NumSlots)
	for s := 0; s < cluster.NumSlots; s += 3 {
		load[s] = 1
	}
	for s := 100; s < 160; s++ {
		load[s] = 100
	}
	p, err := RebalanceLoad(nodes, load, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadPlan(t, nodes, load, p)
	if p.Balanced || !p.Within {
		t.Fatalf("Balanced %v Within %v, want a plan that gets within 2%%", p.Balanced, p.Within)
	}
	if got := offBy(p, p.After); got > 2 {
		t.Fatalf("a node ends %.2f%% off its target: %v vs %v", got, p.After, p.Targets)
	}
	// Every move comes from node 1, the heavy slots first: the 60 heavy
	// slots are 6000 keys, the surplus is about 4000, so 40 heavy slots move
	// and the rest is made up with light ones.
	heavy := 0
	for _, mv := range p.Moves {
		if mv.Source != "node1" {
			t.Fatalf("move from %s: only node1 is over its target", mv.Source)
		}
		for _, s := range mv.Slots {
			if load[s] == 100 {
				heavy++
			}
		}
	}
	if heavy < 38 || heavy > 40 {
		t.Fatalf("%d heavy slots moved, want about 40 (the surplus is %d)", heavy, p.Balances[0])
	}
	if !slices.Equal(p.Order, []int{1, 2, 0}) && !slices.Equal(p.Order, []int{2, 1, 0}) {
		t.Fatalf("Order %v, want node1 last", p.Order)
	}
}

func TestRebalanceLoadWeights(t *testing.T) {
	nodes := evenSlots(3)
	nodes[2].Weight = 2
	load := make([]int64, cluster.NumSlots)
	for s := range load {
		load[s] = int64(1 + s%5)
	}
	p, err := RebalanceLoad(nodes, load, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadPlan(t, nodes, load, p)
	if p.TotalWeight != 4 {
		t.Fatalf("TotalWeight %v, want 4", p.TotalWeight)
	}
	if abs64(2*p.Targets[2]-p.Total) > 1 || abs64(4*p.Targets[0]-p.Total) > 2 {
		t.Fatalf("targets %v of %d, want a quarter, a quarter and a half", p.Targets, p.Total)
	}
	if !p.Within || offBy(p, p.After) > 1 {
		t.Fatalf("after the moves %v, targets %v: more than 1%% off", p.After, p.Targets)
	}

	// Weight 0 drains a node of every slot that holds keys.
	nodes[2].Weight = 0
	p, err = RebalanceLoad(nodes, load, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadPlan(t, nodes, load, p)
	if p.After[2] != 0 || !p.Within {
		t.Fatalf("the weight 0 node keeps a load of %d", p.After[2])
	}

	// A master without slots (--use-empty-masters) gets its share.
	empty := append(evenSlots(3), RebalanceNode{ID: "node4", Weight: 1})
	p, err = RebalanceLoad(empty, load, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadPlan(t, empty, load, p)
	if !p.Within || p.After[3] < p.Targets[3]*98/100 {
		t.Fatalf("the empty master ends with %d, target %d", p.After[3], p.Targets[3])
	}

	if _, err := RebalanceLoad(rebalanceNodes([]int{2, 2}, []float32{0, 0}), load, 2); !errors.Is(err, ErrZeroWeight) {
		t.Fatalf("all weights 0: %v, want ErrZeroWeight", err)
	}
}

func TestRebalanceLoadThreshold(t *testing.T) {
	// Node 1 holds 5% more keys than its target, node 3 5% less.
	nodes := evenSlots(3)
	load := make([]int64, cluster.NumSlots)
	for i, n := range nodes {
		per := []int64{105, 100, 95}[i]
		for j := 0; j < 100; j++ {
			load[n.Slots[j]] = per
		}
	}
	for _, tc := range []struct {
		threshold float64
		balanced  bool
	}{{10, true}, {5.1, true}, {4.9, false}, {0, true}, {-1, true}} {
		p, err := RebalanceLoad(nodes, load, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		checkLoadPlan(t, nodes, load, p)
		if p.Balanced != tc.balanced || (p.Balanced && len(p.Moves) > 0) {
			t.Errorf("threshold %v: Balanced %v with %d moves, want %v", tc.threshold, p.Balanced, len(p.Moves), tc.balanced)
		}
	}

	// No load at all: nothing to even out.
	p, err := RebalanceLoad(nodes, nil, 2)
	if err != nil || !p.Balanced || p.Total != 0 {
		t.Fatalf("no load: %+v, %v", p, err)
	}
}

func TestRebalanceLoadCoarse(t *testing.T) {
	// One slot holds nearly everything: the plan cannot get within the
	// threshold, and says so, without moving it back and forth.
	nodes := evenSlots(3)
	load := make([]int64, cluster.NumSlots)
	load[7] = 10000
	load[6000] = 10
	load[12000] = 10
	p, err := RebalanceLoad(nodes, load, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkLoadPlan(t, nodes, load, p)
	if p.Balanced || p.Within {
		t.Fatalf("Balanced %v Within %v, want neither", p.Balanced, p.Within)
	}
	if len(p.Moves) != 0 {
		t.Fatalf("moves %+v: moving the big slot makes another node as far off", p.Moves)
	}
}

func TestRebalanceLoadDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		n := 2 + r.IntN(5)
		nodes := evenSlots(n)
		for i := range nodes {
			nodes[i].Weight = float32(r.IntN(3) + 1)
		}
		load := make([]int64, cluster.NumSlots)
		for s := range load {
			if r.IntN(4) == 0 {
				load[s] = int64(r.IntN(50))
			}
		}
		for k := 0; k < 10; k++ {
			load[r.IntN(cluster.NumSlots)] = int64(r.IntN(2000))
		}
		in := slices.Clone(nodes)
		for i := range in {
			in[i].Slots = slices.Clone(nodes[i].Slots)
		}
		p1, err := RebalanceLoad(nodes, load, 2)
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := RebalanceLoad(nodes, load, 2)
		if !reflect.DeepEqual(p1, p2) {
			t.Fatalf("round %d: two plans of the same input differ", round)
		}
		if !reflect.DeepEqual(in, nodes) {
			t.Fatalf("round %d: the input was modified", round)
		}
		checkLoadPlan(t, nodes, load, p1)
		if before, after := offBy(p1, p1.Loads), offBy(p1, p1.After); after > before {
			t.Fatalf("round %d: the worst node is %.2f%% off after, %.2f%% before", round, after, before)
		}
	}
}
