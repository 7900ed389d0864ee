package inspect

import (
	"slices"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

func TestSlotMapSignature(t *testing.T) {
	const a, b = "a17d90a2ced37624b1e2254cd24489bd9a0816c0", "d6942ddfe1386161cd50afdf7f5cc4bf5315e97a"
	view := b + " 127.0.0.1:7001@17001 myself,master - 0 0 3 connected 200 0-99 [100->-" + a + "]\n" +
		a + " 127.0.0.1:7000@17000 master - 0 0 2 connected 100-199 201-16383\n" +
		"c4b0e8a4c4b0e8a4c4b0e8a4c4b0e8a4c4b0e8a4 127.0.0.1:7002@17002 slave " + a + " 0 0 2 connected\n"
	sig, ok := SlotMapSignature(view)
	if want := a + ":100-199,201-16383|" + b + ":0-99,200"; !ok || sig != want {
		t.Errorf("signature %q, %v; want %q", sig, ok, want)
	}
	if sig, ok := SlotMapSignature(""); ok || sig != "" {
		t.Errorf("no reply: %q, %v", sig, ok)
	}
	for _, c := range []struct {
		sigs []string
		want bool
	}{{nil, true}, {[]string{""}, true}, {[]string{"x", "x"}, true}, {[]string{"x", "y"}, false}, {[]string{"", ""}, false}, {[]string{"x", ""}, false}} {
		if got := len(Disagreeing(c.sigs)) == 0; got != c.want {
			t.Errorf("Disagreeing(%q) = %v", c.sigs, Disagreeing(c.sigs))
		}
	}
}

// TestDisagreeing: the nodes named are those that see no slots or another
// map than the entry node's, the entry node too when it sees none.
func TestDisagreeing(t *testing.T) {
	for _, c := range []struct {
		sigs []string
		want []int
	}{{[]string{"x", "y", "x", ""}, []int{1, 3}}, {[]string{"", "x", ""}, []int{0, 1, 2}}} {
		if got := Disagreeing(c.sigs); !slices.Equal(got, c.want) {
			t.Errorf("Disagreeing(%q) = %v, want %v", c.sigs, got, c.want)
		}
	}
}

// TestPeersGone: an open slot's peer that is now a replica, could not be
// loaded or is unknown is named, with why; a loaded master is not.
func TestPeersGone(t *testing.T) {
	a := &Node{Node: &cluster.Node{ID: "a", Migrating: []cluster.SlotPeer{{Slot: 5, NodeID: "B"}, {Slot: 6, NodeID: "x"}, {Slot: 7, NodeID: "y"}, {Slot: 8, NodeID: "c"}}}}
	b := &Node{Node: &cluster.Node{ID: "b", Slave: true}}
	c := &Node{Node: &cluster.Node{ID: "c"}}
	cl := &Cluster{Nodes: []*Node{a, b, c}, EntryView: []*cluster.Line{{ID: "x"}}}
	got := cl.PeersGone(cl.OpenSlots())
	want := []PeerState{PeerReplica, PeerUnreachable, PeerUnknown}
	if len(got) != len(want) {
		t.Fatalf("PeersGone = %+v, want %d", got, len(want))
	}
	for i, g := range got {
		if g.Node != a || g.State != node.Migrating || g.Slot != 5+i || g.Peer != want[i] {
			t.Errorf("PeersGone[%d] = %+v, want slot %d peer state %d", i, g, 5+i, want[i])
		}
	}
	// The findings stay as found while a fixer closes a slot.
	open := cl.OpenSlots()
	a.SetStable(5)
	if open[0].Slots[0].Slot != 5 || len(open[0].Slots) != 4 {
		t.Errorf("OpenSlots changed when a slot was closed: %+v", open[0].Slots)
	}
}
