package plan

import (
	"slices"
	"testing"
)

func TestPlacement(t *testing.T) {
	// Three zones, three masters (0, 1, 2), each with its replica in its
	// own zone: swapping masters among the replicas fixes all three.
	nodes := []CreateNode{{"a", 1}, {"b", 2}, {"c", 3}, {"a", 4}, {"b", 5}, {"c", 6}}
	masterOf := []int{-1, -1, -1, 0, 1, 2}
	improved, before, after := Placement(nodes, masterOf)
	if before != 3*sameHostAsMaster || after != 0 {
		t.Fatalf("scores %d -> %d, want %d -> 0", before, after, 3*sameHostAsMaster)
	}
	counts := map[int]int{}
	for i, m := range improved {
		if m >= 0 {
			if nodes[i].Host == nodes[m].Host {
				t.Errorf("replica %d still in its master %d's zone", i, m)
			}
			counts[m]++
		}
	}
	if counts[0] != 1 || counts[1] != 1 || counts[2] != 1 {
		t.Errorf("replica counts changed: %v", counts)
	}
	if !slices.Equal(masterOf, []int{-1, -1, -1, 0, 1, 2}) {
		t.Errorf("the input was changed: %v", masterOf)
	}

	// A good layout is left as it is.
	good := []int{-1, -1, -1, 1, 2, 0}
	if improved, before, after := Placement(nodes, good); before != 0 || after != 0 || !slices.Equal(improved, good) {
		t.Errorf("a good layout: %v (%d -> %d), want it unchanged", improved, before, after)
	}

	// Only one pair is wrong: the others stay where they are.
	nodes = []CreateNode{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"a", 5}, {"b", 6}, {"d", 7}, {"c", 8}}
	masterOf = []int{-1, -1, -1, -1, 0, 2, 1, 3}
	// replica 4 (a) of 0 (a) is bad; 5 (b) of 2 (c), 6 (d) of 1 (b), 7 (c) of 3 (d) are fine.
	improved, _, after = Placement(nodes, masterOf)
	moved := 0
	for i := range masterOf {
		if improved[i] != masterOf[i] {
			moved++
		}
	}
	if after != 0 || moved != 2 {
		t.Errorf("one bad replica: %d moved (want a swap of 2), score after %d: %v", moved, after, improved)
	}
}
