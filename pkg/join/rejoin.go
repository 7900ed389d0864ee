package join

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// Redis keeps a master at cluster_state:fail for its rejoin delay,
// min(cluster-node-timeout, 5 s), after the last moment it saw itself in a
// minority, so that a master coming back from a partition hears of any
// failover before it takes writes again. A new node counts as being in a
// minority until it knows most masters that have slots (an empty one knows
// none), so a new cluster's masters wait out the delay after their
// ADDSLOTS, and a master added by add-node after it has heard of the
// others, although neither has anything to protect: the delay, not the
// join, was most of create's time on a large cluster.
//
// The delay is computed from the node timeout at the moment the state would
// turn ok, so endRejoinDelay lowers the timeout of each new master still at
// fail to the time it has already waited (at least minTimeout), waits for
// cluster_state:ok (the next cron tick, 100 ms), and sets it back at once.
// A node that refuses CONFIG SET waits out the delay as before.
const (
	// minTimeout is the lowest node timeout used; it bounds how soon a node
	// could flag a peer as failing in the moment its timeout is lowered.
	minTimeout = time.Second
	// rejoinWait bounds the wait for cluster_state:ok with the lower
	// timeout; a node not ok by then is left to the normal wait.
	rejoinWait = time.Second
)

// newMasters are the masters a create or add-node made, and when they got
// their slots or joined.
type newMasters struct {
	nodes []*inspect.Node
	since time.Time
}

// endRejoinDelay ends the rejoin delay of the new masters once all nodes
// agree about the slots. It returns once every one of them is ok or left to
// the normal wait, with every node timeout it changed set back; a node whose
// timeout could not be set back is told to obs.
func endRejoinDelay(ctx context.Context, nm *newMasters, obs JoinObserver) {
	failed := make([]error, len(nm.nodes))
	node.Each(len(nm.nodes), func(i int) { failed[i] = endNodeRejoinDelay(ctx, nm.nodes[i], nm.since) })
	for i, err := range failed {
		if err != nil {
			obs.TimeoutNotRestored(nm.nodes[i], err)
		}
	}
}

// endNodeRejoinDelay returns an error only when it lowered the node timeout
// and could not set it back.
func endNodeRejoinDelay(ctx context.Context, n *inspect.Node, since time.Time) (restoreErr error) {
	if clusterStateOK(ctx, n) {
		return nil
	}
	reply, err := n.Client.Do(ctx, "CONFIG", "GET", "cluster-node-timeout")
	if err != nil {
		return nil
	}
	orig, err := configValue(reply)
	if err != nil {
		return nil
	}
	// The node was last in a minority before since, and the cron tick that
	// checks the delay comes after the timeout is lowered: a timeout of the
	// time waited so far ends the delay at that tick.
	waited := time.Since(since)
	if waited < minTimeout {
		if settle.Sleep(ctx, minTimeout-waited) != nil {
			return nil
		}
		waited = minTimeout
	}
	lowered := waited.Milliseconds()
	if lowered >= min(orig, 5000) {
		return nil // the delay is over by itself
	}
	if _, err := n.Client.Do(ctx, "CONFIG", "SET", "cluster-node-timeout", lowered); err != nil {
		return nil
	}
	defer func() {
		// Set back even when interrupted: a node left with a short timeout
		// flags its peers as failing at the first hiccup.
		restore, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := n.Client.Do(restore, "CONFIG", "SET", "cluster-node-timeout", orig); err != nil {
			restoreErr = fmt.Errorf("it is %d ms instead of %d ms: %w", lowered, orig, err)
		}
	}()
	deadline := time.Now().Add(rejoinWait)
	for !clusterStateOK(ctx, n) && time.Now().Before(deadline) {
		if settle.Sleep(ctx, 10*time.Millisecond) != nil {
			break
		}
	}
	return nil
}

func clusterStateOK(ctx context.Context, n *inspect.Node) bool {
	info, err := node.ClusterInfo(ctx, n.Client)
	if err != nil {
		return false
	}
	state, _ := node.InfoField(info, "cluster_state")
	return state == "ok"
}

// configValue is the integer value of a CONFIG GET reply for one parameter
// (a two-element array in RESP2, a map in RESP3).
func configValue(reply any) (int64, error) {
	var s string
	switch r := reply.(type) {
	case []any:
		if len(r) == 2 {
			s, _ = r[1].(string)
		}
	case map[any]any:
		for _, v := range r {
			s, _ = v.(string)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}
