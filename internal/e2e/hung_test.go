package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/migrate"
)

// hungCluster is three masters without replicas (nothing fails over) and a
// node timeout long enough that a node hung for a few seconds is not marked
// as failed: only rcluster's own bounds are at work.
func hungCluster(t *testing.T) *cluster {
	t.Helper()
	servers := redistest.Start(t, redistest.Options{Count: 4, NodeTimeoutMS: 30000, Build: serverBuild})
	redistest.Create(t, servers[:3], 0)
	return &cluster{t: t, servers: servers}
}

// hang stops server i with SIGSTOP until the test ends (or resume is called).
func (c *cluster) hang(i int) (resume func()) {
	c.t.Helper()
	s := c.s(i)
	if err := s.Signal(syscall.SIGSTOP); err != nil {
		c.t.Fatal(err)
	}
	resumed := false
	resume = func() {
		if !resumed {
			resumed = true
			_ = s.Signal(syscall.SIGCONT)
		}
	}
	c.t.Cleanup(resume)
	return resume
}

// TestHungNodeBounded: with one master stopped by SIGSTOP, every command
// ends within its bound (-t 1 for the connection, --reply-timeout 1s for a
// reply, plus the run's own work), names the node, and changes nothing.
func TestHungNodeBounded(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := hungCluster(t)
	c.loadKeys(200, "hung")
	hung := c.addr(2)
	c.hang(2)
	bound := []string{"-t", "1", "--reply-timeout", "1s"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"check", []string{"check", c.addr(0)}},
		{"info", []string{"info", c.addr(0)}},
		{"fix", []string{"fix", c.addr(0), "--yes"}},
		{"reshard", []string{"reshard", c.addr(0), "--from", c.id(0), "--to", c.id(1), "--slots", "10", "--yes"}},
		{"rebalance", []string{"rebalance", c.addr(0), "--weight", c.id(0)[:8] + "=2"}},
		{"add-node", []string{"add-node", c.addr(3), c.addr(0)}},
		{"del-node", []string{"del-node", c.addr(0), c.id(1)}},
		{"call", []string{"call", c.addr(0), "DBSIZE"}},
		{"entry-hung", []string{"check", hung}},
	} {
		start := time.Now()
		r := rc(t, append(bound, tc.args...)...)
		took := time.Since(start)
		t.Logf("%s: exit %d in %v", tc.name, r.Code, took.Round(time.Millisecond))
		if took > 8*time.Second {
			t.Errorf("%s took %v with a hung node (bounds: -t 1, --reply-timeout 1s)\n%s", tc.name, took, r)
		}
		// info and call report a node they cannot reach and exit 0, as
		// redis-cli does; every other command fails.
		if r.Code == 0 && tc.name != "info" && tc.name != "call" {
			t.Errorf("%s exited 0 with a hung master\n%s", tc.name, r)
		}
		if !strings.Contains(r.Stdout+r.Stderr, hung) {
			t.Errorf("%s does not name the hung node %s\n%s", tc.name, hung, r)
		}
	}
	owners, err := redistest.SlotOwners(c.servers[:2])
	if err != nil {
		t.Fatal(err)
	}
	for slot, s := range owners {
		if s == c.s(1) && slot < 5461 {
			t.Fatalf("slot %d moved although a node was hung", slot)
		}
	}
}

// TestSignalEndsHungRun: SIGTERM ends a command blocked on a hung node
// within 2 s: a read-only one at once (143), a reshard whose target hangs
// mid-slot after its 2 s grace, naming the fix to run; that fix then heals
// the cluster without losing a key.
func TestSignalEndsHungRun(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := hungCluster(t)
	keys := append(c.loadKeys(300, "sig"), c.bigSlots(bigSlotKeys, 2)...)

	t.Run("check", func(t *testing.T) {
		resume := c.hang(2)
		defer resume()
		before := clientCount(t, c.s(0))
		cmd := exec.Command(rclusterBin, "check", c.addr(0))
		cmd.Env = toolEnv()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once it is connected to the entry node it is past its start-up
		// and waits on the hung one.
		for deadline := time.Now().Add(10 * time.Second); clientCount(t, c.s(0)) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("rcluster check never connected to the entry node")
			}
		}
		code, took := terminate(t, cmd)
		if code != 143 || took > 2*time.Second {
			t.Errorf("check after SIGTERM: exit %d after %v, want 143 within 2s", code, took)
		}
	})

	t.Run("reshard", func(t *testing.T) {
		cmd, out, errOut := startReshard(t, c, 100)
		resume := c.hang(1) // the target, in the middle of slot 2
		code, took := terminate(t, cmd)
		resume()
		t.Logf("exit %d after %v\nstderr: %s", code, took, errOut.String())
		if code != 143 || took > 3*time.Second {
			t.Errorf("reshard after SIGTERM: exit %d after %v, want 143 within 2s and a little", code, took)
		}
		for _, want := range []string{
			"run 'rcluster fix " + c.addr(0) + "'",
			// The window of slots open at once, from slot 0.
			fmt.Sprintf("In flight, may be left open: slots [0-%d] from %s to %s\n", migrate.DefaultWindow-1, c.addr(0), c.addr(1)),
		} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr does not say %q:\n%s\n%s", want, errOut.String(), lastLines(out.String(), 2))
			}
		}
		r := rc(t, "fix", c.addr(0), "--yes")
		if r.Code != 0 {
			t.Errorf("fix after the stop: %s", r)
		}
		wantCode(t, "check after fix", rc(t, "check", c.addr(0)), 0)
		c.keysIntact(keys)
	})
}

// clientCount is how many clients server s has.
func clientCount(t *testing.T, s *redistest.Server) int {
	t.Helper()
	list, err := s.DoString("CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(list, "\n")
}

// terminate sends SIGTERM to cmd and returns its exit code and how long it
// took to end (the test fails if it does not end within 10 s).
func terminate(t *testing.T, cmd *exec.Cmd) (code int, took time.Duration) {
	t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(start)
		}
		return 0, time.Since(start)
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running 10 s after SIGTERM")
	}
	return 0, 0
}

// TestSignalStopsFixBetweenSlots: SIGTERM during a fix of many open slots
// lets the slot in flight be repaired, starts no other, says which are
// left, and a second fix repairs them.
func TestSignalStopsFixBetweenSlots(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := newCluster(t, 3, 3, 0)
	const open = 3000
	pipe := c.s(0).Client().Pipeline()
	for slot := 0; slot < open; slot++ {
		pipe.Do(context.Background(), "CLUSTER", "SETSLOT", slot, "MIGRATING", c.id(1))
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rclusterBin, "fix", c.addr(0), "--yes")
	cmd.Env = toolEnv()
	out, errOut := newSyncBuffer(), &lockedWriter{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	off := 0
	for i := 0; i < 5; i++ {
		var ok bool
		if off, ok = out.waitFor(">>> Fixing open slot ", off, time.Now().Add(time.Minute)); !ok {
			t.Fatalf("fix never started:\n%s\n%s", out.String(), errOut.String())
		}
	}
	code, took := terminate(t, cmd)
	t.Logf("exit %d after %v; stderr: %s", code, took, errOut.String())
	if code != 143 || took > 2*time.Second {
		t.Errorf("fix after SIGTERM: exit %d after %v, want 143 within 2s", code, took)
	}
	contains(t, "fix's stderr", errOut.String(), "Interrupted: fix stopped before slot ",
		"Run 'rcluster fix "+c.addr(0)+"' again to repair them.\n")
	// Every slot is either repaired or untouched: still open on server 0
	// alone, as it was.
	me, err := c.s(0).Myself()
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	for _, tok := range me.Slots {
		if strings.Contains(tok, "->-") {
			left++
		}
	}
	if left == 0 || left == open {
		t.Errorf("%d slots still open after the stop, want some but not all of %d", left, open)
	}
	wantCode(t, "fix after the stop", rc(t, "fix", c.addr(0), "--yes"), 0)
	wantCode(t, "check after fix", rc(t, "check", c.addr(0)), 0)
}
