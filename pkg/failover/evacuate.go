package failover

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/rcluster/rcluster/pkg/inspect"
)

// Evacuation is a planned evacuation of a host: the failovers that leave
// it without a master with slots, and the masters that stay.
type Evacuation struct {
	// Host is the host evacuated, as the nodes announce it.
	Host string
	// Failovers are the failovers to make, by master address, each to a
	// replica on another host that is safe to promote.
	Failovers []*Failover
	// Left are the masters with slots on the host that have no such
	// replica, by address.
	Left []Left
}

// Left is a master an evacuation leaves on its host.
type Left struct {
	Master *inspect.Node
	// Unsafe are its replicas on other hosts, each planned and not safe to
	// promote (Replication.Problem says why), in c's order; none when it
	// has no replica on another host.
	Unsafe []*Failover
}

// LeftError: masters with slots were left on the host evacuated.
type LeftError struct{ Left []Left }

func (e *LeftError) Error() string {
	return fmt.Sprintf("%d masters with slots are left on the host", len(e.Left))
}

// AnnouncedHost is the host of n as the nodes know it: for the entry node
// (c.Nodes[0]), whose Host is as it was given (a name, perhaps), its own
// CLUSTER NODES line says it.
func AnnouncedHost(c *inspect.Cluster, n *inspect.Node) string {
	if len(c.Nodes) > 0 && n == c.Nodes[0] {
		for _, l := range c.EntryView {
			if l.Myself() && l.Host != "" {
				return l.Host
			}
		}
	}
	return n.Host
}

// MastersOn lists the masters with slots on host (AnnouncedHost), in c's
// order.
func MastersOn(c *inspect.Cluster, host string) []*inspect.Node {
	var out []*inspect.Node
	for _, n := range c.Masters() {
		if AnnouncedHost(c, n) == host && n.Slots.Count() > 0 {
			out = append(out, n)
		}
	}
	return out
}

// PlanEvacuation plans the evacuation of host ("": the entry node's): for
// every master with slots on it, by address, the failover to its replica
// on another host that is safe to promote (by o.MaxLag), the least behind
// (then by address); a master without one is Left. o.Mode is not used:
// an evacuation fails over with its masters' agreement (Default). It
// writes nothing.
func PlanEvacuation(ctx context.Context, c *inspect.Cluster, host string, o Options) *Evacuation {
	if host == "" {
		host = AnnouncedHost(c, c.Nodes[0])
	}
	o.Mode = Default
	ev := &Evacuation{Host: host}
	masters := MastersOn(c, host)
	sort.Slice(masters, func(i, j int) bool { return masters[i].Addr() < masters[j].Addr() })
	for _, master := range masters {
		if f, unsafe := evacuationReplica(ctx, c, master, host, o); f != nil {
			ev.Failovers = append(ev.Failovers, f)
		} else {
			ev.Left = append(ev.Left, Left{Master: master, Unsafe: unsafe})
		}
	}
	return ev
}

// evacuationReplica plans the failover of master to the replica that
// takes over when host is evacuated: on another host, safe to promote,
// least behind (then by address). Without one, it returns the replicas on
// other hosts that are not safe to promote.
func evacuationReplica(ctx context.Context, c *inspect.Cluster, master *inspect.Node, host string, o Options) (best *Failover, unsafe []*Failover) {
	for _, n := range c.Nodes {
		if n.MasterID == "" || !strings.EqualFold(n.MasterID, master.ID) || AnnouncedHost(c, n) == host {
			continue
		}
		f := plan(ctx, c, n, master, o)
		if f.Replication.Problem != NoProblem {
			unsafe = append(unsafe, f)
			continue
		}
		if best == nil || f.Replication.LagBytes < best.Replication.LagBytes ||
			f.Replication.LagBytes == best.Replication.LagBytes && n.Addr() < best.Replica.Addr() {
			best = f
		}
	}
	if best != nil {
		return best, nil
	}
	return nil, unsafe
}

// Evacuate carries out ev's failovers on c, one at a time, each announced
// to obs.Starting and carried out as Run does (the first failure stops
// it). When masters were left on the host it then returns a *LeftError.
func Evacuate(ctx context.Context, c *inspect.Cluster, ev *Evacuation, obs Observer) error {
	for _, f := range ev.Failovers {
		obs.Starting(f)
		if err := Run(ctx, c, f, obs); err != nil {
			return err
		}
	}
	if len(ev.Left) > 0 {
		return &LeftError{Left: ev.Left}
	}
	return nil
}
