package settle

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Options say what settled means.
type Options struct {
	// MatchModel asks every node to have the role the loaded cluster gives
	// it and to know exactly its nodes (after create or add-node).
	// Otherwise (a change to a running cluster) a replica's master must be
	// a master itself: a master that lost its last slot turns replica, and
	// its replicas follow. The nodes to know are then the first node's.
	MatchModel bool
	// View, when set, is given every node's CLUSTER NODES reply as it
	// comes in ("" for a node that did not answer; i is the node's index
	// in c.Nodes), from several goroutines at once. The replies are not
	// kept: at 250 nodes they are about 10 MB a look.
	View func(i int, text string)
}

// Kind is what a Problem is about.
type Kind int

const (
	NoAnswer         Kind = iota // the node did not answer (Err)
	StateNotOK                   // cluster_state is not ok (State)
	WrongRole                    // with MatchModel: the node's role is not the model's (Master: the one it should replicate, "" for a master)
	ReplicaOfReplica             // the node replicates Master, itself a replica of MasterOf
	UnknownNode                  // the node does not know node ID
	KnownCount                   // the node knows Known nodes, Want expected
	SlotsDisagree                // Nodes see the slot owners otherwise than Reference
)

// Problem is one thing that keeps a cluster from being settled.
type Problem struct {
	Kind Kind
	// Node is the node it is about (nil for SlotsDisagree).
	Node *inspect.Node
	Err  error
	// State is the node's cluster_state.
	State            string
	Master, MasterOf string
	ID               string
	Known, Want      int
	// Nodes and Reference: the nodes that disagree with the reference.
	Nodes     []*inspect.Node
	Reference *inspect.Node
	// Slots, with SlotsDisagree, are the slots whose owner the first of
	// Nodes sees otherwise than Reference; Owner and RefOwner are the
	// owners each sees of the first of them ("" for none).
	Slots           cluster.SlotSet
	Owner, RefOwner string
}

func (p Problem) String() string {
	switch p.Kind {
	case NoAnswer:
		return fmt.Sprintf("%s: %v", p.Node.Addr(), p.Err)
	case StateNotOK:
		return fmt.Sprintf("%s: cluster_state:%s", p.Node.Addr(), p.State)
	case WrongRole:
		return fmt.Sprintf("%s: is not yet %s", p.Node.Addr(), RoleText(p.Master))
	case ReplicaOfReplica:
		return fmt.Sprintf("%s: replicates %s, which is itself a replica (of %s)", p.Node.Addr(), p.Master, p.MasterOf)
	case UnknownNode:
		return fmt.Sprintf("%s: does not know node %s yet", p.Node.Addr(), p.ID)
	case KnownCount:
		return fmt.Sprintf("%s: knows %d nodes, expected %d", p.Node.Addr(), p.Known, p.Want)
	}
	text := "nodes do not agree about the slots configuration"
	if len(p.Nodes) == 0 {
		return text
	}
	var addrs []string
	for _, n := range p.Nodes {
		addrs = append(addrs, n.Addr())
	}
	if len(addrs) > 5 {
		addrs = append(addrs[:5], fmt.Sprintf("%d more", len(addrs)-5))
	}
	text += ": " + strings.Join(addrs, ", ") + " see it otherwise than " + p.Reference.Addr()
	if p.Slots.Count() > 0 {
		first := p.Slots.Slots()[0]
		text += fmt.Sprintf(" (slots %s; slot %d: %s sees %s, %s sees %s)", p.Slots.String(), first,
			p.Nodes[0].Addr(), ownerText(p.Owner), p.Reference.Addr(), ownerText(p.RefOwner))
	}
	return text
}

func ownerText(id string) string {
	if id == "" {
		return "no owner"
	}
	return id
}

// RoleText says a role: "a master", or "a replica of <master>".
func RoleText(master string) string {
	if master == "" {
		return "a master"
	}
	return "a replica of " + master
}

// Look is what one look at every node found.
type Look struct {
	// Problems is empty when the cluster has settled.
	Problems []Problem
	// SameSlots reports whether every node answered and sees the first
	// node's slot owners.
	SameSlots bool
}

// Check looks at every node of c once: the first node as the reference,
// then the others at once.
func Check(ctx context.Context, c *inspect.Cluster, o Options) Look {
	ref := &reference{}
	if o.MatchModel {
		ref.ids = map[string]bool{}
		for _, n := range c.Nodes {
			ref.ids[n.ID] = true
		}
	}
	looks := make([]nodeLook, len(c.Nodes))
	if len(c.Nodes) > 0 {
		looks[0] = look(ctx, c.Nodes[0], ref, true, func(text string) { o.view(0, text) })
	}
	node.Each(len(c.Nodes)-1, func(i int) {
		looks[i+1] = look(ctx, c.Nodes[i+1], ref, false, func(text string) { o.view(i+1, text) })
	})

	ownRole := map[string]*nodeLook{}
	for i, n := range c.Nodes {
		if looks[i].self {
			ownRole[n.ID] = &looks[i]
		}
	}
	var res Look
	sameSlots := true
	var disagree []*inspect.Node
	for i, n := range c.Nodes {
		l := looks[i]
		if l.err != nil {
			res.Problems = append(res.Problems, Problem{Kind: NoAnswer, Node: n, Err: l.err})
			sameSlots = false
			continue
		}
		if l.state != "ok" {
			res.Problems = append(res.Problems, Problem{Kind: StateNotOK, Node: n, State: l.state})
		}
		switch master := ownRole[l.master]; {
		case o.MatchModel && l.self && l.master != n.MasterID:
			res.Problems = append(res.Problems, Problem{Kind: WrongRole, Node: n, Master: n.MasterID})
		case !o.MatchModel && master != nil && master.master != "":
			res.Problems = append(res.Problems, Problem{Kind: ReplicaOfReplica, Node: n, Master: l.master, MasterOf: master.master})
		}
		for _, id := range l.missing {
			res.Problems = append(res.Problems, Problem{Kind: UnknownNode, Node: n, ID: id})
		}
		if ref.ids != nil && l.known != len(ref.ids) {
			res.Problems = append(res.Problems, Problem{Kind: KnownCount, Node: n, Known: l.known, Want: len(ref.ids)})
		}
		if !l.sameSlots {
			sameSlots = false
			disagree = append(disagree, n)
		}
	}
	if len(c.Nodes) > 1 && !sameSlots {
		p := Problem{Kind: SlotsDisagree, Nodes: disagree, Reference: c.Nodes[0]}
		if len(disagree) > 0 {
			p.Slots, p.Owner, p.RefOwner = slotsSeenOtherwise(looks[slices.Index(c.Nodes, disagree[0])].slots, ref.slots)
		}
		res.Problems = append(res.Problems, p)
	}
	res.SameSlots = sameSlots || len(c.Nodes) <= 1
	return res
}

func (o Options) view(i int, text string) {
	if o.View != nil {
		o.View(i, text)
	}
}

// Poll is the pause between two looks at n nodes: every look costs each
// node a CLUSTER NODES with a line per node, and the replies come in a few
// at a time, so the pause grows with the cluster, linearly (2 ms a node:
// 0.3 s at 150 nodes), from 50 ms (redis-cli looks once a second) up to a
// second.
func Poll(n int) time.Duration {
	return min(time.Second, max(50*time.Millisecond, time.Duration(n)*2*time.Millisecond))
}

// NotSettledError is Wait's error when the deadline came first: what was
// left, at the last look.
type NotSettledError struct{ Problems []Problem }

func (e *NotSettledError) Error() string {
	return fmt.Sprintf("the cluster did not settle in time: %s", e.Problems[0])
}

// Wait looks at c's nodes until they have settled, and returns nil; a
// *NotSettledError at deadline; or ctx's error.
func Wait(ctx context.Context, c *inspect.Cluster, o Options, deadline time.Time) error {
	left, err := Until(ctx, len(c.Nodes), deadline, func() []Problem { return Check(ctx, c, o).Problems })
	if err == nil && len(left) > 0 {
		err = &NotSettledError{Problems: left}
	}
	return err
}

// Until calls look, a look at n nodes, until it finds nothing or deadline
// has passed, pausing Poll(n) between looks. It returns what the last look
// found (empty when nothing is left), and ctx's error if ctx ended first.
func Until[T any](ctx context.Context, n int, deadline time.Time, look func() []T) ([]T, error) {
	for {
		left := look()
		if len(left) == 0 || time.Now().After(deadline) {
			return left, nil
		}
		if err := Sleep(ctx, Poll(n)); err != nil {
			return left, err
		}
	}
}

// Sleep waits d, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// nodeLook is what one look at a node found, reduced as its reply came in:
// of the other nodes, only those that differ from the reference's view.
type nodeLook struct {
	err   error
	state string // cluster_state
	self  bool   // its own line was found
	// master is its own role: its master's ID, "" when it is a master.
	master string
	known  int
	// missing are the reference's nodes that it does not know.
	missing []string
	// sameSlots: it sees the reference's slot owners.
	sameSlots bool
	// slots is its slot map signature when it is not the reference's.
	slots string
}

// reference is what the other nodes are compared with: the nodes to know
// (nil when the first node did not answer) and its slot map.
type reference struct {
	ids   map[string]bool
	slots string
}

// look asks node n for CLUSTER INFO and CLUSTER NODES in one round trip and
// reduces the replies against ref. For the first node it fills ref in: the
// slot map, and the known nodes unless already set (MatchModel). view is
// given the CLUSTER NODES text ("" when the node did not answer).
func look(ctx context.Context, n *inspect.Node, ref *reference, first bool, view func(string)) (l nodeLook) {
	res := n.Client.Pipeline(ctx, []node.Cmd{{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}})
	info, err := node.Str(res[0].Val, res[0].Err)
	var text string
	if err == nil {
		text, err = node.Str(res[1].Val, res[1].Err)
	}
	if l.err = err; err != nil {
		view("")
		return l
	}
	view(text)
	l.state, _ = node.InfoField(info, "cluster_state")
	slots, _ := inspect.SlotMapSignature(text)
	fillIDs := first && ref.ids == nil
	if first {
		ref.slots = slots
		if fillIDs {
			ref.ids = map[string]bool{}
		}
	}
	l.sameSlots = slots != "" && slots == ref.slots
	if !l.sameSlots {
		l.slots = slots
	}
	seen := 0
	for raw := range strings.SplitSeq(text, "\n") {
		f, ok := cluster.SplitLine(raw)
		if !ok {
			continue
		}
		l.known++
		if fillIDs {
			ref.ids[strings.Clone(f.ID)] = true
		}
		if ref.ids[f.ID] {
			seen++
		}
		if !l.self && f.HasFlag("myself") {
			l.self, l.master = true, strings.Clone(f.MasterID)
		}
	}
	if seen < len(ref.ids) {
		known := map[string]bool{}
		for raw := range strings.SplitSeq(text, "\n") {
			if f, ok := cluster.SplitLine(raw); ok {
				known[f.ID] = true
			}
		}
		for id := range ref.ids {
			if !known[id] {
				l.missing = append(l.missing, id)
			}
		}
		slices.Sort(l.missing)
	}
	return l
}

// slotsSeenOtherwise compares two slot map signatures (see
// inspect.SlotMapSignature): the slots whose owner differs, and the owner
// each gives the first of them.
func slotsSeenOtherwise(sig, ref string) (slots cluster.SlotSet, owner, refOwner string) {
	a, b := slotOwners(sig), slotOwners(ref)
	for slot := range cluster.NumSlots {
		if a[slot] != b[slot] {
			if slots.Count() == 0 {
				owner, refOwner = a[slot], b[slot]
			}
			slots.Add(slot)
		}
	}
	return slots, owner, refOwner
}

// slotOwners is the owner of every slot in a slot map signature.
func slotOwners(sig string) []string {
	owners := make([]string, cluster.NumSlots)
	for cfg := range strings.SplitSeq(sig, "|") {
		id, toks, ok := strings.Cut(cfg, ":")
		if !ok {
			continue
		}
		for tok := range strings.SplitSeq(toks, ",") {
			from, to, isRange := strings.Cut(tok, "-")
			if !isRange {
				to = from
			}
			first, err1 := strconv.Atoi(from)
			last, err2 := strconv.Atoi(to)
			if err1 != nil || err2 != nil || first < 0 || last >= cluster.NumSlots {
				continue
			}
			for slot := first; slot <= last; slot++ {
				owners[slot] = id
			}
		}
	}
	return owners
}
