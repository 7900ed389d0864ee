package join

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// JoinObserver hears the waits of a create or an add-node, as redis-cli
// prints them: the wait for the nodes to agree about the configuration
// starts, goes on for every second, and ends.
type JoinObserver interface {
	// Joining: the wait for the nodes to agree starts.
	Joining()
	// JoinSecond: one more second of it went by.
	JoinSecond()
	// Joined: the nodes agree (or the wait ended without naming
	// unreachable nodes).
	Joined()
	// Unreachable names the nodes that others see as disconnected or in
	// handshake: every 20 s or so of a long wait, and when it times out.
	Unreachable(nodes []UnreachableNode)
	// TimeoutNotRestored: the wait lowered a new master's
	// cluster-node-timeout to end its rejoin delay and could not set it
	// back.
	TimeoutNotRestored(n *inspect.Node, err error)
}

// UnreachableNode is a node that others see as disconnected or in
// handshake: its address as they list it, its cluster bus IP and port when
// the address names one (BusPort 0 otherwise), and the nodes that see it so,
// by address.
type UnreachableNode struct {
	Addr    string
	BusIP   string
	BusPort int
	From    []string
}

// JoinTimeoutError: the nodes did not agree about the slots configuration
// within the time given. Unreachable is what the last look found.
type JoinTimeoutError struct {
	Elapsed     time.Duration
	Unreachable []UnreachableNode
}

func (e *JoinTimeoutError) Error() string {
	return fmt.Sprintf("the nodes did not agree about the configuration within %s", e.Elapsed.Round(time.Second))
}

// joining is a join in progress: the nodes, and what speeds it up (the
// introducer, and the end of the new masters' rejoin delay).
type joining struct {
	c     *inspect.Cluster
	intro *introducer
	fresh *newMasters // nil once their rejoin delay ended
	obs   JoinObserver
}

// waitForJoin waits until every node sees the same slot map, telling obs
// of every second, and of the links seen down now and then; at the
// deadline it returns a *JoinTimeoutError.
func (j *joining) waitForJoin(ctx context.Context, deadline time.Time) error {
	j.obs.Joining()
	start := time.Now()
	checkAfter := time.Duration(20+int(float32(len(j.c.Nodes))*0.15)) * time.Second
	seconds, reported := 0, time.Duration(0)
	for {
		sigs, down := j.lookAtLinks(ctx)
		if len(inspect.Disagreeing(sigs)) == 0 {
			break
		}
		elapsed := time.Since(start)
		j.intro.introduce(ctx)
		for ; time.Duration(seconds+1)*time.Second <= elapsed; seconds++ {
			j.obs.JoinSecond()
		}
		if time.Now().After(deadline) {
			unreachable := linkProblems(j.c.Nodes, down)
			if len(unreachable) > 0 {
				j.obs.Unreachable(unreachable)
			} else {
				j.obs.Joined()
			}
			return &JoinTimeoutError{Elapsed: elapsed, Unreachable: unreachable}
		}
		if elapsed-reported > checkAfter {
			reported = elapsed
			if unreachable := linkProblems(j.c.Nodes, down); len(unreachable) > 0 {
				j.obs.Unreachable(unreachable)
			}
		}
		if err := settle.Sleep(ctx, settle.Poll(len(j.c.Nodes))); err != nil {
			return err
		}
	}
	j.obs.Joined()
	return nil
}

// lookAtLinks asks every node for CLUSTER NODES at once, and reduces each
// reply as it comes in (at 250 nodes the replies are 10 MB a look): the
// slot map it sees (inspect.SlotMapSignature, "" when it did not answer),
// the addresses it lists as disconnected or in handshake, and what the
// introducer needs.
func (j *joining) lookAtLinks(ctx context.Context) (sigs []string, down [][]string) {
	nodes := j.c.Nodes
	sigs, down = make([]string, len(nodes)), make([][]string, len(nodes))
	node.Each(len(nodes), func(i int) {
		text, _ := node.ClusterNodes(ctx, nodes[i].Client)
		j.intro.observe(i, text)
		sigs[i], _ = inspect.SlotMapSignature(text)
		down[i] = downLinks(text)
	})
	return sigs, down
}

// downLinks are the addresses of the nodes that a CLUSTER NODES reply shows
// as disconnected or in handshake, but for the node itself.
func downLinks(text string) []string {
	var addrs []string
	for raw := range strings.SplitSeq(text, "\n") {
		l, ok := cluster.SplitLine(raw)
		if !ok || l.HasFlag("myself") {
			continue
		}
		if strings.Contains(l.Flags, "disconnected") || strings.Contains(l.Flags, "handshake") ||
			strings.Contains(l.LinkState, "disconnected") {
			addrs = append(addrs, strings.Clone(l.Addr))
		}
	}
	return addrs
}

// linkProblems are the nodes that others see as disconnected or in
// handshake (down[i]: the addresses node i sees so), in the order first
// seen.
func linkProblems(nodes []*inspect.Node, down [][]string) []UnreachableNode {
	var out []UnreachableNode
	index := map[string]int{}
	for i, n := range nodes {
		for _, addr := range down[i] {
			k, seen := index[addr]
			if !seen {
				k = len(out)
				index[addr] = k
				u := UnreachableNode{Addr: addr}
				if ip, _, bus, _, ok := cluster.SplitNodeAddr(addr); ok && bus != 0 {
					u.BusIP, u.BusPort = ip, bus
				}
				out = append(out, u)
			}
			out[k].From = append(out[k].From, n.Addr())
		}
	}
	return out
}

// settle waits until the cluster has settled with every node in the role
// of the model (pkg/settle), introducing the nodes gossip has not yet, and
// ending the new masters' rejoin delay once the slot owners agree. At the
// deadline it returns a *settle.NotSettledError.
func (j *joining) settle(ctx context.Context, deadline time.Time) error {
	for {
		look := settle.Check(ctx, j.c, settle.Options{MatchModel: true, View: j.intro.observe})
		j.intro.introduce(ctx)
		if len(look.Problems) > 0 && j.fresh != nil && look.SameSlots {
			endRejoinDelay(ctx, j.fresh, j.obs)
			j.fresh = nil
			continue
		}
		if len(look.Problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return &settle.NotSettledError{Problems: look.Problems}
		}
		if err := settle.Sleep(ctx, settle.Poll(len(j.c.Nodes))); err != nil {
			return err
		}
	}
}

// NopObserver hears a create's, an add-node's and a removal's steps and
// does nothing: embed it to hear only some.
type NopObserver struct{}

func (NopObserver) Configured()                             {}
func (NopObserver) AssigningEpochs()                        {}
func (NopObserver) SendingMeets()                           {}
func (NopObserver) Joining()                                {}
func (NopObserver) JoinSecond()                             {}
func (NopObserver) Joined()                                 {}
func (NopObserver) Unreachable([]UnreachableNode)           {}
func (NopObserver) TimeoutNotRestored(*inspect.Node, error) {}
func (NopObserver) GettingFunctions()                       {}
func (NopObserver) NoFunctions(error)                       {}
func (NopObserver) CheckingFunctions(*inspect.Node)         {}
func (NopObserver) RestoringFunctions(*inspect.Node)        {}
func (NopObserver) SendingMeet(*inspect.Node)               {}
func (NopObserver) ConfiguringReplica(*inspect.Node)        {}
func (NopObserver) Forgetting()                             {}
func (NopObserver) ReplicaMoving(_, _ *inspect.Node)        {}
func (NopObserver) Resetting()                              {}
