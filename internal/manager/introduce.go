package manager

import (
	"context"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// introducer speeds up a join. Gossip spreads most of the news within a
// second or two, but each ping names only a tenth of the nodes, at random,
// so on a large cluster the last pairs of nodes that have not heard of each
// other, or of each other's slots, wait seconds for luck (redis-cli's create
// of 60 nodes takes 8 to 30 s). Once gossip has had its head start, the
// introducer sends a CLUSTER MEET for each such pair.
//
// The direction matters. A node learns a master's slots only from a message
// the master itself sends while the node already knows it by name: the
// PONG that ends a handshake does not count, and after it the master may
// not ping again for half the node timeout. A MEET from the master is such
// a message, and it also introduces the master to a node that never heard
// of it. So the node that is unknown, or whose slots are, meets the node
// that lacks the news, never the other way round.
type introducer struct {
	nodes []*Node
	start time.Time
	meet  [][]any // per node, the CLUSTER MEET that names it; nil if its host does not resolve
	last  map[[2]int]time.Time
}

const (
	// headStart is how long gossip runs alone: meeting every pair at once
	// makes a storm of handshakes that slows the join down.
	headStart = time.Second
	// meetAgain is how long an introduction is given before it is repeated.
	meetAgain = time.Second
)

func newIntroducer(ctx context.Context, nodes []*Node) *introducer {
	in := &introducer{nodes: nodes, start: time.Now(), meet: make([][]any, len(nodes)), last: map[[2]int]time.Time{}}
	for i, n := range nodes {
		in.meet[i], _ = meetCommand(ctx, n)
	}
	return in
}

// introduce sends the MEETs that the nodes' CLUSTER NODES replies call for.
// A nil introducer does nothing.
func (in *introducer) introduce(ctx context.Context, texts []string) {
	if in == nil || time.Since(in.start) < headStart {
		return
	}
	now := time.Now()
	todo := introductions(in.nodes, texts)
	for y := range todo {
		keep := todo[y][:0]
		for _, x := range todo[y] {
			if in.meet[x] != nil && now.Sub(in.last[[2]int{y, x}]) >= meetAgain {
				in.last[[2]int{y, x}] = now
				keep = append(keep, x)
			}
		}
		todo[y] = keep
	}
	each(len(todo), func(y int) {
		for _, x := range todo[y] {
			in.nodes[y].Client.Do(ctx, in.meet[x]...) // best effort: gossip gets there anyway
		}
	})
}

// introductions lists, for every node y, the nodes x that are to hear from
// y: those whose CLUSTER NODES reply (texts[x], "" when x did not answer)
// lacks y, or lacks the slots that y, a master of the model, owns.
func introductions(nodes []*Node, texts []string) [][]int {
	todo := make([][]int, len(nodes))
	for x, text := range texts {
		if text == "" {
			continue
		}
		known, hasSlots := map[string]bool{}, map[string]bool{}
		for _, raw := range strings.Split(text, "\n") {
			if l, err := cluster.ParseLine(raw); err == nil {
				known[l.ID] = true
				hasSlots[l.ID] = len(l.SlotTokens) > 0
			}
		}
		for y, n := range nodes {
			owner := n.MasterID == "" && n.Slots.Count() > 0
			if y != x && (!known[n.ID] || owner && !hasSlots[n.ID]) {
				todo[y] = append(todo[y], x)
			}
		}
	}
	return todo
}
