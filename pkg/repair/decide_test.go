package repair

import (
	"slices"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/migrate"
)

// master is a master with an ID, an epoch and the slots it claims.
func master(id string, epoch int64, slots ...int) *Node {
	return &Node{Node: &cluster.Node{ID: id, Host: "127.0.0.1", Port: 7000, ConfigEpoch: epoch, Slots: cluster.SlotsOf(slots...)}}
}

func TestServingMaster(t *testing.T) {
	a, b, c := master("a", 1, 5), master("b", 2, 5), master("c", 2, 7)
	replica := master("r", 9, 5)
	replica.MasterID = "a"
	for _, tc := range []struct {
		name  string
		nodes []*Node
		slot  int
		want  *Node
	}{
		{"one claim", []*Node{a, c}, 5, a},
		{"higher epoch wins", []*Node{a, b}, 5, b},
		{"a replica's claim does not count", []*Node{a, replica}, 5, a},
		{"no claim", []*Node{a, b}, 6, nil},
		{"equal epochs: nobody knows", []*Node{b, c, master("d", 2, 7)}, 7, nil},
	} {
		if got := servingMaster(tc.nodes, tc.slot); got != tc.want {
			t.Errorf("%s: servingMaster = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUnfinishedMove(t *testing.T) {
	src, dst, other := master("src", 1, 5), master("dst", 2), master("other", 3)
	src.Migrating = []cluster.SlotPeer{{Slot: 5, NodeID: "dst"}}
	one := func(n ...*Node) []*Node { return n }
	for _, tc := range []struct {
		name                         string
		serving                      *Node
		owners, migrating, importing []*Node
		want                         *Node
	}{
		{"a move cut short goes on", src, one(src), one(src), one(dst), dst},
		{"the target holds keys already", src, one(src, dst), one(src), one(dst), dst},
		{"nobody serves the slot", nil, one(src), one(src), one(dst), nil},
		{"the serving master is not the source", dst, one(src), one(src), one(dst), nil},
		{"two importers", src, one(src), one(src), one(dst, other), nil},
		{"a third node holds keys", src, one(src, other), one(src), one(dst), nil},
		{"the source migrates elsewhere", src, one(src), one(src), one(other), nil},
	} {
		if got := unfinishedMove(5, tc.serving, tc.owners, tc.migrating, tc.importing); got != tc.want {
			t.Errorf("%s: unfinishedMove = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestKeepFor(t *testing.T) {
	src, dst, other := master("src", 1), master("dst", 2), master("other", 3)
	for _, tc := range []struct {
		serving *Node
		want    migrate.Keep
	}{{src, migrate.KeepSource}, {dst, migrate.KeepTarget}, {other, migrate.KeepUnknown}, {nil, migrate.KeepUnknown}} {
		if got := keepFor(tc.serving, src, dst); got != tc.want {
			t.Errorf("keepFor(%v) = %v, want %v", tc.serving, got, tc.want)
		}
	}
}

func TestLeastSlotsMaster(t *testing.T) {
	a, b, c := master("a", 1, 1, 2, 3), master("b", 2, 4), master("c", 3, 5)
	if got := leastSlotsMaster([]*Node{a, b, c}); got != b {
		t.Errorf("leastSlotsMaster = %s, want the first with the fewest slots, b", got.ID)
	}
	if got := leastSlotsMaster(nil); got != nil {
		t.Errorf("leastSlotsMaster(nil) = %v", got)
	}
}

func TestGroupByKeys(t *testing.T) {
	a, b := master("a", 1), master("b", 2)
	withKeys := map[int][]*Node{3: {a}, 9: {a, b}, 1: {b}}
	got := groupByKeys([]int{9, 3, 4, 1, 2}, withKeys)
	for on, want := range map[KeysOn][]int{KeysNowhere: {4, 2}, KeysOnOne: {3, 1}, KeysOnSeveral: {9}} {
		if !slices.Equal(got[on], want) {
			t.Errorf("group %d = %v, want %v (in the order given)", on, got[on], want)
		}
	}
}

func TestWithout(t *testing.T) {
	a, b, c := master("a", 1), master("b", 2), master("c", 3)
	l := []*Node{a, b, c, b}
	if got := without(l, b); !slices.Equal(got, []*Node{a, c}) {
		t.Errorf("without = %v", got)
	}
	if l[1] != b {
		t.Error("without changed its argument")
	}
}
