package e2e

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// hungCluster is three masters without replicas (nothing fails over) and a
// node timeout long enough that a node hung for a few seconds is not marked
// as failed: only rcluster's own bounds are at work.
func hungCluster(t *testing.T) *cluster {
	t.Helper()
	servers := redistest.Start(t, redistest.Options{Count: 4, NodeTimeoutMS: 30000})
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
	redistest.Require(t)
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
	redistest.Require(t)
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
		if want := "run 'rcluster fix " + c.addr(0) + "'"; !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr does not say %q:\n%s\n%s", want, errOut.String(), lastLines(out.String(), 2))
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
