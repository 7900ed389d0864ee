package join_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// recorder is a RemoveObserver that lists the steps.
type recorder struct{ steps []string }

func (r *recorder) Forgetting() { r.steps = append(r.steps, "forget") }
func (r *recorder) Resetting()  { r.steps = append(r.steps, "reset") }
func (r *recorder) ReplicaMoving(replica, master *inspect.Node) {
	r.steps = append(r.steps, "move "+replica.Addr()+" to "+master.Addr())
}

// TestRemove refuses a master with slots, an unknown ID and a node with a
// slot open towards it, then removes an empty master: the others forget it
// and the cluster settles without it.
func TestRemove(t *testing.T) {
	redistest.Require(t)
	servers := redistest.Start(t, redistest.Options{Count: 7})
	redistest.Create(t, servers[:6], 1)
	ctx := context.Background()
	dial := node.NewDialer(node.Options{})
	spareConn, err := dial(ctx, servers[6].Host, servers[6].Port)
	if err != nil {
		t.Fatal(err)
	}
	defer spareConn.Close()
	if _, err := node.Run(ctx, spareConn, node.MeetCmd(servers[0].Host, servers[0].Port, 0)); err != nil {
		t.Fatal(err)
	}
	load := func() *inspect.Cluster {
		c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	var c *inspect.Cluster
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c = load(); len(c.Nodes) == 7 && settle.Wait(ctx, c, settle.Options{MatchModel: true}, time.Now()) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the seventh node did not join")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var owner, spare *inspect.Node
	for _, n := range c.Nodes {
		switch {
		case n.Addr() == servers[6].Addr():
			spare = n
		case n.IsMaster() && owner == nil:
			owner = n
		}
	}

	var notEmpty *join.NotEmptyError
	if _, err := join.PlanRemove(ctx, c, owner.ID, join.RemoveOptions{}); !errors.As(err, &notEmpty) || notEmpty.Node != owner {
		t.Fatalf("removing a master with slots: %v, want a NotEmptyError naming it", err)
	}
	var none *join.NoSuchNodeError
	if _, err := join.PlanRemove(ctx, c, "0123456789012345678901234567890123456789", join.RemoveOptions{}); !errors.As(err, &none) {
		t.Fatalf("removing an unknown ID: %v, want a NoSuchNodeError", err)
	}

	// The spare imports a slot of owner: a move to it has started.
	slot := owner.Slots.Slots()[0]
	if err := node.SetSlot(ctx, spare.Client, slot, node.Importing, owner.ID); err != nil {
		t.Fatal(err)
	}
	var open *join.OpenSlotsError
	if _, err := join.PlanRemove(ctx, load(), spare.ID, join.RemoveOptions{}); !errors.As(err, &open) || !open.Slots.Has(slot) {
		t.Fatalf("removing a node with a slot open towards it: %v, want an OpenSlotsError with slot %d", err, slot)
	}
	if err := node.SetSlot(ctx, spare.Client, slot, node.Stable, ""); err != nil {
		t.Fatal(err)
	}

	c = load()
	r, err := join.PlanRemove(ctx, c, spare.ID, join.RemoveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if err := join.Remove(ctx, c, r, &rec); err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 6 || c.NodeByID(spare.ID) != nil {
		t.Fatalf("after the removal the cluster lists %d nodes (the spare: %v)", len(c.Nodes), c.NodeByID(spare.ID) != nil)
	}
	if len(rec.steps) != 2 || rec.steps[0] != "forget" || rec.steps[1] != "reset" {
		t.Fatalf("steps %v, want forget, reset", rec.steps)
	}
	if err := settle.Wait(ctx, c, settle.Options{MatchModel: true}, time.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
}
