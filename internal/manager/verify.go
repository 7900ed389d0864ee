package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// VerifyPrefix starts the name of every key verify writes; it is reserved.
const VerifyPrefix = "__rcluster_verify:"

// verifyTTL expires a test key that a killed run could not delete.
const verifyTTL = 5 * time.Minute

// VerifyOptions are the settings of verify.
type VerifyOptions struct {
	// Entry is the node every command is sent to first, as with
	// redis-cli -c: the cluster's redirects lead to the right master.
	Entry Address
	// Conn is how to connect (credentials, TLS, connect timeout).
	Conn node.Options
	// KeysPerMaster is how many slots of each master get a test key.
	KeysPerMaster int
	// ReplicaTimeout bounds the wait for replicas to hold the keys.
	ReplicaTimeout time.Duration
	// Trace, when set, is told each redirect the cluster client follows:
	// the slot and the address of the MOVED or ASK reply.
	Trace func(slot int, addr string)
}

// VerifyMaster is how one master took the test keys.
type VerifyMaster struct {
	Node *Node
	Keys []string
	// Reached: every key was found on this master, read on its own
	// connection, after the write through the cluster client.
	Reached bool
	// Err is the first write or read that failed through the cluster
	// client (or a value that came back wrong).
	Err error
	// Write and Read are the mean time of one SET and one GET through the
	// cluster client, redirects included.
	Write, Read time.Duration
	Replicas    []VerifyReplica
	sent        int // how many keys had their SET sent (and are deleted)
}

// VerifyReplica is how one replica of a master caught up.
type VerifyReplica struct {
	Node     *Node
	CaughtUp bool
	// After is how long after its master's writes the replica held them.
	After time.Duration
	// Err is why it did not: its READONLY or GET failed (reads are not
	// allowed), or the wait ran out (context.DeadlineExceeded).
	Err error
}

// VerifyResult is what verify found.
type VerifyResult struct {
	Masters []*VerifyMaster
	// Left are the test keys that could not be deleted.
	Left []string
}

// OK reports whether every master took and served its keys and none was
// left behind; replicas that lag are not failures.
func (r *VerifyResult) OK() bool {
	for _, vm := range r.Masters {
		if vm.Err != nil || !vm.Reached {
			return false
		}
	}
	return len(r.Left) == 0
}

// Verify writes test keys into slots of every loaded master that owns
// slots, through a cluster client that starts at o.Entry and follows
// redirects, reads them back through it, then waits (bounded) for each
// replica to serve them with READONLY, and deletes them, also when ctx is
// cancelled. The returned error is ctx's, if it was cancelled.
func (m *Manager) Verify(ctx context.Context, o VerifyOptions) (*VerifyResult, error) {
	res := &VerifyResult{}
	for _, n := range m.VerifiedMasters() {
		res.Masters = append(res.Masters, &VerifyMaster{Node: n})
	}
	run := runID()
	rd := &redirects{trace: o.Trace}
	cc := redis.NewClusterClient(verifyClusterOptions(o, rd.seen))
	defer cc.Close()
	// Ctrl-C ends a command in flight at once; the keys are deleted through
	// a client of their own.
	defer context.AfterFunc(ctx, func() { cc.Close() })()
	defer func() {
		var sent []string
		for _, vm := range res.Masters {
			sent = append(sent, vm.Keys[:vm.sent]...)
		}
		res.Left = deleteKeys(context.WithoutCancel(ctx), o, sent)
	}()

	wrote := make([]time.Time, len(res.Masters))
	for i, vm := range res.Masters {
		for _, slot := range spread(&vm.Node.Slots, o.KeysPerMaster) {
			vm.Keys = append(vm.Keys, VerifyPrefix+"{"+cluster.HashTag(slot)+"}:"+run)
		}
		m.writeAndRead(ctx, cc, vm, run, rd)
		wrote[i] = time.Now()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}

	deadline := time.Now().Add(o.ReplicaTimeout)
	var wg sync.WaitGroup
	for i, vm := range res.Masters {
		for _, n := range m.Nodes {
			if n.Slave && strings.EqualFold(n.MasterID, vm.Node.ID) {
				vm.Replicas = append(vm.Replicas, VerifyReplica{Node: n})
			}
		}
		if vm.Err != nil {
			continue
		}
		for j := range vm.Replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				waitReplica(ctx, o.Conn, &vm.Replicas[j], vm.Keys, run, wrote[i], deadline)
			}()
		}
	}
	wg.Wait()
	return res, ctx.Err()
}

// VerifiedMasters are the masters that own slots: the loaded ones, then
// those the entry node knows that could not be loaded (they have no
// connection), so that every slot gets its keys.
func (m *Manager) VerifiedMasters() []*Node {
	var out []*Node
	loaded := map[string]bool{}
	for _, n := range m.Nodes {
		loaded[n.ID] = true
		if !n.Slave && n.Slots.Count() > 0 {
			out = append(out, n)
		}
	}
	for _, l := range m.EntryView {
		if !loaded[l.ID] && l.MasterID == "" && l.Slots.Count() > 0 {
			n := &Node{Node: &cluster.Node{Host: l.Host, Port: l.Port}}
			n.Apply(l, true)
			out = append(out, n)
		}
	}
	return out
}

// writeAndRead sets the master's keys through the cluster client, reads
// them back through it, and checks on the master's own connection that
// they landed there.
func (m *Manager) writeAndRead(ctx context.Context, cc *redis.ClusterClient, vm *VerifyMaster, value string, rd *redirects) {
	var write, read time.Duration
	vm.Reached = true
	for _, key := range vm.Keys {
		vm.sent++
		rd.last = ""
		start := time.Now()
		err := cc.Set(ctx, key, value, verifyTTL).Err()
		write += time.Since(start)
		if err != nil {
			vm.Err, vm.Reached = rd.explain(err), false
			return
		}
		rd.last = ""
		start = time.Now()
		got, err := cc.Get(ctx, key).Result()
		read += time.Since(start)
		switch {
		case err == redis.Nil:
			err = errors.New("read back nothing")
		case err == nil && got != value:
			err = errors.New("read back " + strconv.Quote(got) + ", not the value written")
		}
		if err != nil {
			vm.Err = rd.explain(err)
			return
		}
		if vm.Node.Client == nil {
			continue // not loaded: the redirects are all there is to go by
		}
		if on, err := node.Str(vm.Node.Client.Do(ctx, "GET", key)); err != nil || on != value {
			vm.Reached = false
		}
	}
	vm.Write = write / time.Duration(len(vm.Keys))
	vm.Read = read / time.Duration(len(vm.Keys))
}

// waitReplica polls the replica, on a connection of its own in READONLY
// mode, until it serves every key with its value or the deadline passes.
func waitReplica(ctx context.Context, conn node.Options, r *VerifyReplica, keys []string, value string, since, deadline time.Time) {
	c := redis.NewClient(verifyNodeOptions(conn, node.Addr(r.Node.Host, r.Node.Port), func(ctx context.Context, cn *redis.Conn) error {
		return cn.ReadOnly(ctx).Err()
	}))
	defer c.Close()
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	defer context.AfterFunc(ctx, func() { c.Close() })() // a read in flight ends too
	pending := keys
	for {
		for len(pending) > 0 {
			got, err := c.Get(ctx, pending[0]).Result()
			if err != nil && err != redis.Nil {
				r.Err = err // reads not allowed, or the replica is gone
				if ctx.Err() != nil || !time.Now().Before(deadline) {
					r.Err = context.Cause(ctx) // the read ran into the deadline (or Ctrl-C)
					if r.Err == nil {
						r.Err = context.DeadlineExceeded
					}
				}
				return
			}
			if got != value {
				break
			}
			pending = pending[1:]
		}
		if len(pending) == 0 {
			r.CaughtUp, r.After = true, time.Since(since)
			return
		}
		select {
		case <-ctx.Done():
			r.Err = ctx.Err()
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// deleteKeys deletes the keys through a cluster client (within 10 s,
// whatever happened to the run) and returns those still there or unknown.
func deleteKeys(ctx context.Context, o VerifyOptions, keys []string) []string {
	if len(keys) == 0 {
		return []string{}
	}
	cc := redis.NewClusterClient(verifyClusterOptions(o, o.Trace))
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	left := []string{}
	for _, key := range keys {
		if cc.Del(ctx, key).Err() != nil {
			left = append(left, key)
			continue
		}
		if n, err := cc.Exists(ctx, key).Result(); err != nil || n != 0 {
			left = append(left, key)
		}
	}
	return left
}

// spread picks n slots of s, evenly apart, the first and last included.
func spread(s *cluster.SlotSet, n int) []int {
	slots := s.Slots()
	if n >= len(slots) {
		return slots
	}
	if n <= 1 {
		return slots[:1]
	}
	out := make([]int, n)
	for i := range out {
		out[i] = slots[i*(len(slots)-1)/(n-1)]
	}
	return out
}

// runID tells this run's keys from another run's.
func runID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// entryAlias names the entry node in the cluster client's slot map: go-redis
// rewrites a loopback IP in a slot map it did not fetch itself into an
// empty host, so the map holds this name, which only our dialer resolves.
const entryAlias = "rcluster-verify-entry"

// verifyClusterOptions configure a cluster client that, like redis-cli -c,
// sends every command to the entry node first and follows the redirects:
// its slot map says the entry node serves every slot.
func verifyClusterOptions(o VerifyOptions, onRedirect func(slot int, addr string)) *redis.ClusterOptions {
	base := verifyNodeOptions(o.Conn, node.Addr(o.Entry.Host, o.Entry.Port), nil)
	entry := node.Addr(entryAlias, o.Entry.Port)
	dial := base.Dialer
	base.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && host == entryAlias {
			addr = node.Addr(o.Entry.Host, cluster.Atoi(port))
		}
		return dial(ctx, network, addr)
	}
	return &redis.ClusterOptions{
		ClusterSlots: func(context.Context) ([]redis.ClusterSlot, error) {
			return []redis.ClusterSlot{{Start: 0, End: cluster.NumSlots - 1, Nodes: []redis.ClusterNode{{Addr: entry}}}}, nil
		},
		NewClient: func(opt *redis.Options) *redis.Client {
			c := redis.NewClient(opt)
			if onRedirect != nil {
				c.AddHook(redirectHook{onRedirect})
			}
			return c
		},
		MaxRedirects:             5,
		DisableRoutingPolicies:   true,
		Dialer:                   base.Dialer,
		Username:                 base.Username,
		Password:                 base.Password,
		Protocol:                 base.Protocol,
		DisableIdentity:          true,
		MaxRetries:               base.MaxRetries,
		DialTimeout:              base.DialTimeout,
		ReadTimeout:              base.ReadTimeout,
		WriteTimeout:             base.WriteTimeout,
		ContextTimeoutEnabled:    true,
		PoolSize:                 1,
		MaintNotificationsConfig: base.MaintNotificationsConfig,
	}
}

// verifyNodeOptions configure a go-redis client of one node as every
// rcluster connection: RESP2, the run's credentials and TLS, no retries.
func verifyNodeOptions(o node.Options, addr string, onConnect func(context.Context, *redis.Conn) error) *redis.Options {
	timeout, reply := o.ConnectTimeout, o.ReplyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if reply <= 0 {
		reply = node.DefaultReplyTimeout
	}
	opt := &redis.Options{
		Addr: addr,
		Dialer: func(ctx context.Context, _, addr string) (net.Conn, error) {
			host, portText, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, _ := strconv.Atoi(portText)
			return node.DialConn(ctx, o, host, port)
		},
		Protocol:                 2,
		DisableIdentity:          true,
		MaxRetries:               -1,
		DialTimeout:              timeout,
		ReadTimeout:              reply,
		WriteTimeout:             reply,
		ContextTimeoutEnabled:    true, // Ctrl-C stops a read at once
		PoolSize:                 1,
		OnConnect:                onConnect,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if o.Auth.Password != "" { // a user without a password sends nothing, as redis-cli
		opt.Username, opt.Password = o.Auth.User, o.Auth.Password
	}
	return opt
}

// redirects follows the redirects of the command in flight (commands are
// sent one at a time): each is traced, and the last one explains a failure
// that follows it, such as an announced address that cannot be reached.
type redirects struct {
	trace func(slot int, addr string)
	last  string
}

func (r *redirects) seen(slot int, addr string) {
	r.last = fmt.Sprintf("slot %d located at %s", slot, addr)
	if r.trace != nil {
		r.trace(slot, addr)
	}
}

func (r *redirects) explain(err error) error {
	if r.last == "" {
		return err
	}
	return fmt.Errorf("%w (after a redirect to %s)", err, r.last)
}

// redirectHook reports the MOVED and ASK replies a node client gets.
type redirectHook struct{ trace func(slot int, addr string) }

func (h redirectHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redirectHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h redirectHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		var re redis.Error
		if errors.As(err, &re) {
			// "MOVED 5798 127.0.0.1:7001" or "ASK 5798 127.0.0.1:7001"
			if f := strings.Fields(re.Error()); len(f) == 3 && (f[0] == "MOVED" || f[0] == "ASK") {
				if slot, err := strconv.Atoi(f[1]); err == nil {
					h.trace(slot, f[2])
				}
			}
		}
		return err
	}
}
