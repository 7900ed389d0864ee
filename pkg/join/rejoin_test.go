package join

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// The node timeout lowered to end a rejoin delay is set back even when the
// run is interrupted in that moment. A lone cluster node without slots stays
// at cluster_state:fail, so the wait for ok only ends with the context.
func TestEndRejoinDelaySetsTimeoutBackWhenInterrupted(t *testing.T) {
	s, n := loneNode(t, 15000)

	ctx, cancel := context.WithCancel(context.Background())
	lowered := make(chan string, 1)
	go func() {
		// Look at the timeout while endNodeRejoinDelay waits, then interrupt.
		time.Sleep(300 * time.Millisecond)
		v, _ := s.Do("CONFIG", "GET", "cluster-node-timeout")
		lowered <- fmt.Sprint(v)
		cancel()
	}()
	start := time.Now()
	if err := endNodeRejoinDelay(ctx, n, time.Now().Add(-3*time.Second)); err != nil {
		t.Fatalf("endNodeRejoinDelay: %v", err)
	}
	if d := time.Since(start); d > rejoinWait {
		t.Errorf("returned after %v: the interruption was not noticed", d)
	}
	if got := <-lowered; !regexp.MustCompile(`^\[cluster-node-timeout 30\d\d\]$`).MatchString(got) {
		t.Errorf("timeout while waiting: %s, want the 3 s already waited", got)
	}
	v, _ := s.Do("CONFIG", "GET", "cluster-node-timeout")
	if got := fmt.Sprint(v); got != "[cluster-node-timeout 15000]" {
		t.Errorf("timeout afterwards: %s, want 15000 back", got)
	}
	stats, _ := s.DoString("INFO", "commandstats")
	if m := regexp.MustCompile(`cmdstat_config\|set:calls=(\d+)`).FindStringSubmatch(stats); m == nil || m[1] != "2" {
		t.Errorf("CONFIG SET calls %v, want 2 (lowered, set back)", m)
	}
}

// A node that is already ok, or whose delay is over by itself, is left alone.
func TestEndRejoinDelayLeavesSettledNodesAlone(t *testing.T) {
	s, n := loneNode(t, 2000)
	// Waited 5 s already: more than the 2 s delay, nothing to shorten.
	if err := endNodeRejoinDelay(context.Background(), n, time.Now().Add(-5*time.Second)); err != nil {
		t.Fatal(err)
	}
	stats, _ := s.DoString("INFO", "commandstats")
	if regexp.MustCompile(`cmdstat_config\|set:`).MatchString(stats) {
		t.Errorf("CONFIG SET was sent to a node whose delay is over")
	}
}

// loneNode starts one cluster node, which without slots stays at
// cluster_state:fail, and connects to it.
func loneNode(t *testing.T, timeoutMS int) (*redistest.Server, *inspect.Node) {
	t.Helper()
	redistest.Require(t)
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Count: 1, NodeTimeoutMS: timeoutMS})[0]
	c, err := node.NewDialer(node.Options{})(context.Background(), s.Host, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, &inspect.Node{Node: &cluster.Node{Host: s.Host, Port: s.Port}, Client: c}
}
