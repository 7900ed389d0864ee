package join

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
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
		texts := j.c.Views(ctx)
		if consistent(texts) {
			break
		}
		elapsed := time.Since(start)
		j.intro.introduce(ctx, texts)
		for ; time.Duration(seconds+1)*time.Second <= elapsed; seconds++ {
			j.obs.JoinSecond()
		}
		if time.Now().After(deadline) {
			down := linkProblems(j.c.Nodes, texts)
			if len(down) > 0 {
				j.obs.Unreachable(down)
			} else {
				j.obs.Joined()
			}
			return &JoinTimeoutError{Elapsed: elapsed, Unreachable: down}
		}
		if elapsed-reported > checkAfter {
			reported = elapsed
			if down := linkProblems(j.c.Nodes, texts); len(down) > 0 {
				j.obs.Unreachable(down)
			}
		}
		if err := settle.Sleep(ctx, settle.Poll(len(j.c.Nodes))); err != nil {
			return err
		}
	}
	j.obs.Joined()
	return nil
}

// consistent reports whether every node that answered sees the same slot
// map (texts are their CLUSTER NODES replies).
func consistent(texts []string) bool {
	sigs := make([]string, len(texts))
	for i, t := range texts {
		sigs[i], _ = inspect.SlotMapSignature(t)
	}
	return len(inspect.Disagreeing(sigs)) == 0
}

// linkProblems are the nodes that the others' CLUSTER NODES replies (texts)
// show as disconnected or in handshake, in the order first seen.
func linkProblems(nodes []*inspect.Node, texts []string) []UnreachableNode {
	var down []UnreachableNode
	index := map[string]int{}
	for i, n := range nodes {
		for raw := range strings.SplitSeq(texts[i], "\n") {
			l, ok := cluster.SplitLine(raw)
			if !ok || l.HasFlag("myself") {
				continue
			}
			if !strings.Contains(l.Flags, "disconnected") && !strings.Contains(l.Flags, "handshake") &&
				!strings.Contains(l.LinkState, "disconnected") {
				continue
			}
			k, seen := index[l.Addr]
			if !seen {
				k = len(down)
				index[l.Addr] = k
				u := UnreachableNode{Addr: l.Addr}
				if ip, _, bus, _, ok := cluster.SplitNodeAddr(l.Addr); ok && bus != 0 {
					u.BusIP, u.BusPort = ip, bus
				}
				down = append(down, u)
			}
			down[k].From = append(down[k].From, n.Addr())
		}
	}
	return down
}

// settle waits until the cluster has settled with every node in the role
// of the model (pkg/settle), introducing the nodes gossip has not yet, and
// ending the new masters' rejoin delay once the slot owners agree. At the
// deadline it returns a *settle.NotSettledError.
func (j *joining) settle(ctx context.Context, deadline time.Time) error {
	for {
		look := settle.Check(ctx, j.c, settle.Options{MatchModel: true, KeepViews: true})
		j.intro.introduce(ctx, look.Views)
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
