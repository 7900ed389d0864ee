package join

import (
	"context"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// introducer speeds up a join. Left to gossip, nodes hear of each other
// from pings that each name a tenth of the nodes, at random, so on a large
// cluster the last pairs wait seconds for luck (redis-cli's create of 60
// nodes takes 4 to 30 s here). At every look at the nodes the introducer
// sends a CLUSTER MEET for each pair where one node does not yet know the
// other, or the other's slots.
//
// The direction matters. A node learns a master's slots only from a message
// the master itself sends while the node already knows it by name: the PONG
// that ends a handshake does not count, and after it the master may not ping
// again for half the node timeout. A MEET from the master is such a message,
// and it also introduces the master to a node that never heard of it. So the
// node that is unknown, or whose slots are, meets the node that lacks the
// news, never the other way round; two strangers need one MEET to learn each
// other's names, and a second one for the slots.
type introducer struct {
	nodes []*inspect.Node
	index map[string]int // node ID -> index in nodes
	meet  []node.Cmd     // per node, the CLUSTER MEET that names it; nil if its host does not resolve
	last  map[[2]int]time.Time
	// What each node x's last CLUSTER NODES reply showed: whether it
	// lists node y (known[x][y]) and y's slots (hasSlots[x][y]), and how
	// many handshakes it has in flight. Each row is written only by the
	// look at its node, so the looks can run at once.
	known, hasSlots [][]bool
	handshakes      []int
}

const (
	// meetAgain is how long an introduction is given before it is repeated:
	// a node that hears of a stranger by its MEET completes its own
	// handshake with it within a cron tick (100 ms), and only then can a
	// second MEET tell it the stranger's slots.
	meetAgain = 300 * time.Millisecond
	// maxHandshakes bounds the handshakes a node has in flight, counting
	// those the introducer is about to start: a burst of connections delays
	// the pings that tell a node its peers are alive, and a short
	// cluster-node-timeout turns late pings into failure reports.
	maxHandshakes = 40
)

func newIntroducer(ctx context.Context, nodes []*inspect.Node) *introducer {
	n := len(nodes)
	in := &introducer{nodes: nodes, index: map[string]int{}, meet: make([]node.Cmd, n), last: map[[2]int]time.Time{},
		known: make([][]bool, n), hasSlots: make([][]bool, n), handshakes: make([]int, n)}
	for i, nd := range nodes {
		in.meet[i], _ = meetCommand(ctx, nd)
		in.index[nd.ID] = i
		in.known[i], in.hasSlots[i] = make([]bool, n), make([]bool, n)
	}
	return in
}

// observe records what node x's CLUSTER NODES reply (text, "" when it did
// not answer) shows. A nil introducer does nothing.
func (in *introducer) observe(x int, text string) {
	if in == nil {
		return
	}
	known, hasSlots := in.known[x], in.hasSlots[x]
	if text == "" { // nothing to tell a node that does not answer
		for y := range known {
			known[y], hasSlots[y] = true, true
		}
		in.handshakes[x] = 0
		return
	}
	clear(known)
	clear(hasSlots)
	in.handshakes[x] = strings.Count(text, "handshake")
	for raw := range strings.SplitSeq(text, "\n") {
		if l, ok := cluster.SplitLine(raw); ok {
			if y, ok := in.index[l.ID]; ok {
				known[y], hasSlots[y] = true, l.HasSlots()
			}
		}
	}
}

// introduce sends the MEETs that the nodes' last replies call for. A nil
// introducer does nothing.
func (in *introducer) introduce(ctx context.Context) {
	if in == nil {
		return
	}
	now := time.Now()
	budget := make([]int, len(in.nodes))
	for i, h := range in.handshakes {
		budget[i] = maxHandshakes - h
	}
	cmds := make([][]node.Cmd, len(in.nodes)) // per node, the MEETs it sends
	for y, xs := range in.introductions() {
		for _, x := range xs {
			if in.meet[x] != nil && now.Sub(in.last[[2]int{y, x}]) >= meetAgain && budget[y] > 0 && budget[x] > 0 {
				in.last[[2]int{y, x}] = now
				budget[x]--
				budget[y]--
				cmds[y] = append(cmds[y], in.meet[x])
			}
		}
	}
	node.Each(len(cmds), func(y int) {
		if len(cmds[y]) > 0 {
			in.nodes[y].Client.Pipeline(ctx, cmds[y]) // best effort: gossip gets there anyway
		}
	})
}

// introductions lists, for every node y, the nodes x that are to hear from
// y: those whose last reply lacks y, or lacks the slots that y, a master
// of the model, owns.
func (in *introducer) introductions() [][]int {
	nodes, known, hasSlots := in.nodes, in.known, in.hasSlots
	n := len(nodes)
	owner := make([]bool, n) // a master of the model, with slots
	for i, nd := range nodes {
		owner[i] = nd.IsMaster() && nd.Slots.Count() > 0
	}
	// Of two strangers, the one to send the single MEET between them: the
	// one that owns slots, or the first if both or neither do.
	sender := func(x, y int) int {
		if owner[x] != owner[y] && owner[y] {
			return y
		} else if owner[x] != owner[y] {
			return x
		}
		return min(x, y)
	}
	todo := make([][]int, n)
	for x := range nodes {
		for y := range nodes {
			if y == x || known[x][y] && (hasSlots[x][y] || !owner[y]) {
				continue
			}
			if !known[x][y] && !known[y][x] && sender(x, y) != y {
				continue
			}
			todo[y] = append(todo[y], x)
		}
	}
	return todo
}
