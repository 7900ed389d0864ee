package e2e

import (
	"strings"
	"syscall"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
)

// TestOneOperationAtATime: while a reshard runs, every other changing
// command refuses before its first write, naming the reshard; the reshard
// is not disturbed, and once it is over the cluster is healthy.
func TestOneOperationAtATime(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := newCluster(t, 4, 3, 0)
	keys := append(c.loadKeys(300, "one"), c.bigSlots(bigSlotKeys, 2)...)
	// The reshard is paused (SIGSTOP) in the middle of slot 2 while the
	// others try, so that it is still running whatever their speed; its
	// connections, which carry its marker, stay open. Its reply timeout is
	// past the pause.
	cmd, out, errOut := startReshard(t, c, 40, "--reply-timeout", "5m")
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) })
	before, err := redistest.SlotOwners(c.servers[:3])
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"reshard", c.addr(0), "--from", c.id(2), "--to", c.id(1), "--slots", "10", "--yes"},
		{"rebalance", c.addr(2), "--weight", c.id(2)[:10] + "=3"},
		{"fix", c.addr(2), "--yes"},
		{"add-node", c.addr(3), c.addr(2)},
		{"del-node", c.addr(2), c.id(1)},
		{"failover", c.addr(2)}, // the lock is checked before the node's role
		{"evacuate", c.addr(2)},
	} {
		r := rc(t, args...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "*** Another rcluster operation is in progress: reshard started ") {
			t.Errorf("%s during a reshard: want exit 1 and the reshard named\n%s", args[0], r)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the reshard was disturbed: %v\n%s\n%s", err, lastLines(out.String(), 3), errOut.String())
	}
	after, err := redistest.SlotOwners(c.servers[:3])
	if err != nil {
		t.Fatal(err)
	}
	for slot := range after {
		if slot >= 40 && after[slot] != before[slot] {
			t.Errorf("slot %d changed owner: only the reshard's slots 0-39 may move", slot)
		}
	}
	wantCode(t, "check after the reshard", rc(t, "check", c.addr(0)), 0)
	c.keysIntact(keys)
	if nodes, err := c.s(3).Nodes(); err != nil || len(nodes) != 1 {
		t.Errorf("the refused add-node joined %s to the cluster (%d nodes known, %v)", c.addr(3), len(nodes), err)
	}
}
