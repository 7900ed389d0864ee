package settle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
)

func TestProblemString(t *testing.T) {
	n := func(port int) *inspect.Node {
		return &inspect.Node{Node: &cluster.Node{Host: "127.0.0.1", Port: port}}
	}
	var many []*inspect.Node
	for p := 7001; p <= 7007; p++ {
		many = append(many, n(p))
	}
	cases := []struct {
		p    Problem
		want string
	}{
		{Problem{Kind: NoAnswer, Node: n(7000), Err: errors.New("i/o timeout")}, "127.0.0.1:7000: i/o timeout"},
		{Problem{Kind: StateNotOK, Node: n(7000), State: "fail"}, "127.0.0.1:7000: cluster_state:fail"},
		{Problem{Kind: WrongRole, Node: n(7000)}, "127.0.0.1:7000: is not yet a master"},
		{Problem{Kind: WrongRole, Node: n(7000), Master: "abc"}, "127.0.0.1:7000: is not yet a replica of abc"},
		{Problem{Kind: ReplicaOfReplica, Node: n(7000), Master: "abc", MasterOf: "def"}, "127.0.0.1:7000: replicates abc, which is itself a replica (of def)"},
		{Problem{Kind: UnknownNode, Node: n(7000), ID: "abc"}, "127.0.0.1:7000: does not know node abc yet"},
		{Problem{Kind: KnownCount, Node: n(7000), Known: 5, Want: 6}, "127.0.0.1:7000: knows 5 nodes, expected 6"},
		{Problem{Kind: SlotsDisagree, Nodes: many[:2], Reference: n(7000)},
			"nodes do not agree about the slots configuration: 127.0.0.1:7001, 127.0.0.1:7002 see it otherwise than 127.0.0.1:7000"},
		{Problem{Kind: SlotsDisagree, Nodes: many, Reference: n(7000)},
			"nodes do not agree about the slots configuration: 127.0.0.1:7001, 127.0.0.1:7002, 127.0.0.1:7003, 127.0.0.1:7004, 127.0.0.1:7005, 2 more see it otherwise than 127.0.0.1:7000"},
		{Problem{Kind: SlotsDisagree}, "nodes do not agree about the slots configuration"},
		{Problem{Kind: SlotsDisagree, Nodes: many[:1], Reference: n(7000), Slots: slotSet(299, 300), Owner: "src", RefOwner: "dst"},
			"nodes do not agree about the slots configuration: 127.0.0.1:7001 see it otherwise than 127.0.0.1:7000 (slots [299-300]; slot 299: 127.0.0.1:7001 sees src, 127.0.0.1:7000 sees dst)"},
		{Problem{Kind: SlotsDisagree, Nodes: many[:1], Reference: n(7000), Slots: slotSet(5, 5), RefOwner: "dst"},
			"nodes do not agree about the slots configuration: 127.0.0.1:7001 see it otherwise than 127.0.0.1:7000 (slots [5]; slot 5: 127.0.0.1:7001 sees no owner, 127.0.0.1:7000 sees dst)"},
	}
	for _, c := range cases {
		if got := c.p.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestPoll(t *testing.T) {
	for _, c := range []struct{ n, ms int }{{1, 50}, {6, 50}, {150, 300}, {1000, 1000}} {
		if got := Poll(c.n).Milliseconds(); got != int64(c.ms) {
			t.Errorf("Poll(%d) = %d ms, want %d", c.n, got, c.ms)
		}
	}
}

func slotSet(from, to int) cluster.SlotSet {
	var s cluster.SlotSet
	s.AddRange(from, to)
	return s
}

// The slots two nodes' slot maps give to different owners, and the first
// one's owners, from their signatures.
func TestSlotsSeenOtherwise(t *testing.T) {
	ref := "a:0-5460|b:5461-10922|c:10923-16383"
	sig := "a:0-5460,5462|b:5461,5463-10922|c:10923-16382"
	slots, owner, refOwner := slotsSeenOtherwise(sig, ref)
	if got := slots.String(); got != "[5462],[16383]" || owner != "a" || refOwner != "b" {
		t.Errorf("got slots %s, owners %q and %q; want [5462],[16383], a and b", got, owner, refOwner)
	}
	if slots, _, _ := slotsSeenOtherwise(ref, ref); slots.Count() != 0 {
		t.Errorf("the same map differs in %s", slots.String())
	}
}

// Until stops at the first empty look, or at the deadline with what the
// last look found, or when ctx ends.
func TestUntil(t *testing.T) {
	ctx := context.Background()
	looks := 0
	left, err := Until(ctx, 1, time.Now().Add(time.Minute), func() []int {
		looks++
		if looks < 3 {
			return []int{looks}
		}
		return nil
	})
	if err != nil || len(left) != 0 || looks != 3 {
		t.Errorf("got %v, %v after %d looks; want nothing left after 3", left, err, looks)
	}
	left, err = Until(ctx, 1, time.Now(), func() []int { return []int{7} })
	if err != nil || len(left) != 1 || left[0] != 7 {
		t.Errorf("at the deadline: got %v, %v; want [7]", left, err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Until(done, 1, time.Now().Add(time.Minute), func() []int { return []int{1} }); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
}
