package join

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// ZonePrefix starts a place that is a zone, keeping it apart from a host of
// the same name.
const ZonePrefix = "zone "

// Places says where each node is, for a create's layout to keep replicas
// off their master's place.
type Places struct {
	// Of is each node's place: ZonePrefix and its zone, or its host.
	Of []string
	// PartialZones, when not 0, is how many of the nodes have an
	// availability-zone setting: not all, so the layout is by host.
	PartialZones int
}

// NoZoneError: zones were given, but none for these nodes.
type NoZoneError struct{ Addrs []string }

func (e *NoZoneError) Error() string { return fmt.Sprintf("no zone for %v", e.Addrs) }

// UnusedZoneError: a zone was given for Key, which names no node.
type UnusedZoneError struct{ Key, Zone string }

func (e *UnusedZoneError) Error() string {
	return "zone " + e.Zone + " given for " + e.Key + ": no such node"
}

// PlacesOf is where each node is: its zone when zones are given (keyed by
// "host:port", else by host), else its host. A node without a zone is a
// *NoZoneError and a zone given for no node an *UnusedZoneError. Without
// zones given, the nodes' own availability-zone setting (Valkey 8) is used
// when every node has one.
func PlacesOf(ctx context.Context, nodes []*inspect.Node, zones map[string]string) (Places, error) {
	p := Places{Of: make([]string, len(nodes))}
	if len(zones) == 0 {
		for i, n := range nodes {
			p.Of[i] = n.Host
		}
		own := availabilityZones(ctx, nodes)
		set := 0
		for _, z := range own {
			if z != "" {
				set++
			}
		}
		switch set {
		case 0:
		case len(nodes):
			for i, z := range own {
				p.Of[i] = ZonePrefix + z
			}
		default:
			p.PartialZones = set
		}
		return p, nil
	}
	used := map[string]bool{}
	var missing []string
	for i, n := range nodes {
		port := strconv.Itoa(n.Port)
		found := false
		for _, key := range []string{net.JoinHostPort(n.Host, port), n.Host + ":" + port, n.Host} {
			if z, ok := zones[key]; ok {
				p.Of[i], used[key], found = ZonePrefix+z, true, true
				break
			}
		}
		if !found {
			missing = append(missing, n.Addr())
		}
	}
	if len(missing) > 0 {
		return Places{}, &NoZoneError{Addrs: missing}
	}
	for _, key := range slices.Sorted(maps.Keys(zones)) {
		if !used[key] {
			return Places{}, &UnusedZoneError{Key: key, Zone: zones[key]}
		}
	}
	return p, nil
}

// availabilityZones is every node's availability-zone setting (Valkey 8),
// "" where it has none.
func availabilityZones(ctx context.Context, nodes []*inspect.Node) []string {
	zones := make([]string, len(nodes))
	node.Each(len(nodes), func(i int) {
		if v, err := nodes[i].Client.Do(ctx, "CONFIG", "GET", "availability-zone"); err == nil {
			if kv, ok := v.([]any); ok && len(kv) == 2 {
				zones[i], _ = kv[1].(string)
			}
		}
	})
	return zones
}

// Assign sets a create plan's layout on the nodes it was made for: each
// master's slots, and each replica's master.
func Assign(nodes []*inspect.Node, p *plan.CreatePlan) {
	for i, mi := range p.Masters {
		r := p.Ranges[i]
		nodes[mi].Slots = cluster.SlotSet{}
		nodes[mi].Slots.AddRange(r.Start, r.End)
	}
	for i, n := range nodes {
		if mi := p.MasterOf[i]; mi >= 0 {
			n.MasterID = nodes[mi].ID
		}
	}
}

// CreateOptions are a create's settings.
type CreateOptions struct {
	// Timeout bounds the waits for the nodes to join and to settle.
	Timeout time.Duration
}

// CreateObserver hears a create's steps, as redis-cli prints them.
type CreateObserver interface {
	// Configured: the masters own their slots.
	Configured()
	// AssigningEpochs: each node is about to get its own config epoch.
	AssigningEpochs()
	// SendingMeets: the nodes are about to meet.
	SendingMeets()
	JoinObserver
}

// HostError: a node's host does not resolve to the IP address that
// CLUSTER MEET needs.
type HostError struct {
	Host string
	Err  error
}

func (e *HostError) Error() string { return "invalid host " + e.Host + ": " + e.Err.Error() }
func (e *HostError) Unwrap() error { return e.Err }

// Create makes a cluster of nodes (probed, empty, as Probe returns them)
// laid out by their Slots and MasterID (Assign sets them from a plan): the
// masters take their slots, every node gets its own config epoch, all meet,
// the replicas replicate, and Create returns once the cluster has settled,
// every node in its role. A command a node refuses is a *NodeError; a wait
// that times out, a *JoinTimeoutError or a *settle.NotSettledError.
func Create(ctx context.Context, nodes []*inspect.Node, o CreateOptions, obs CreateObserver) error {
	// Slots, all masters at once. redis-cli silently ignores an ADDSLOTS
	// failure; we stop, since nothing is joined yet.
	errs := make([]error, len(nodes))
	node.Each(len(nodes), func(i int) {
		if n := nodes[i]; n.IsMaster() && n.Slots.Count() > 0 {
			errs[i] = node.AddSlots(ctx, n.Client, n.Slots.Slots()...)
		}
	})
	if err := firstError(nodes, errs); err != nil {
		return err
	}
	fresh := &newMasters{since: time.Now()}
	for _, n := range nodes {
		if n.IsMaster() && n.Slots.Count() > 0 {
			fresh.nodes = append(fresh.nodes, n)
		}
	}
	obs.Configured()
	obs.AssigningEpochs()
	node.Each(len(nodes), func(i int) {
		_ = node.SetConfigEpoch(ctx, nodes[i].Client, i+1) // errors ignored, as redis-cli does
	})
	obs.SendingMeets()
	meet, err := meetCommand(ctx, nodes[0])
	if err != nil {
		return err
	}
	errs = make([]error, len(nodes))
	node.Each(len(nodes)-1, func(i int) { _, errs[i+1] = node.Run(ctx, nodes[i+1].Client, meet) })
	if err := firstError(nodes, errs); err != nil {
		return err
	}

	deadline := time.Now().Add(o.Timeout)
	j := &joining{c: &inspect.Cluster{Nodes: nodes}, intro: newIntroducer(ctx, nodes), fresh: fresh, obs: obs}
	if err := j.waitForJoin(ctx, deadline); err != nil {
		return err
	}
	errs = make([]error, len(nodes))
	node.Each(len(nodes), func(i int) {
		if n := nodes[i]; n.IsReplica() {
			errs[i] = node.Replicate(ctx, n.Client, n.MasterID)
		}
	})
	if err := firstError(nodes, errs); err != nil {
		return err
	}
	return j.settle(ctx, deadline)
}

// firstError is the first error in node order, as a *NodeError; nil if none.
func firstError(nodes []*inspect.Node, errs []error) error {
	for i, err := range errs {
		if err != nil {
			return &NodeError{Node: nodes[i], Err: err}
		}
	}
	return nil
}

// meetCommand is the CLUSTER MEET that introduces n to another node, or a
// *HostError when n's host does not resolve.
func meetCommand(ctx context.Context, n *inspect.Node) (node.Cmd, error) {
	ip, err := resolveIP(ctx, n.Host)
	if err != nil {
		return nil, &HostError{Host: n.Host, Err: err}
	}
	return node.MeetCmd(ip, n.Port, n.BusPort), nil
}

// resolveIP turns a host into the IP that CLUSTER MEET needs.
func resolveIP(ctx context.Context, host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("cannot resolve %s", host)
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String(), nil
		}
	}
	return ips[0].String(), nil
}
