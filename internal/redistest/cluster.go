package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NodeLine is one line of a CLUSTER NODES reply, split into its fields.
type NodeLine struct {
	ID, Addr  string
	Flags     []string
	MasterID  string // "-" for masters
	PingSent  string
	PongRecv  string
	Epoch     string
	LinkState string
	Slots     []string // the slot tokens ("0-5460", "[10->-id]", ...)
}

// HasFlag reports whether the flag list contains f exactly.
func (l *NodeLine) HasFlag(f string) bool {
	for _, x := range l.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// HostPort returns the "ip:port" part of the address field.
func (l *NodeLine) HostPort() string {
	a := l.Addr
	if i := strings.IndexByte(a, '@'); i >= 0 {
		a = a[:i]
	}
	return a
}

// SlotNumbers expands the plain slot tokens (not the [..] markers).
func (l *NodeLine) SlotNumbers() []int {
	var out []int
	for _, tok := range l.Slots {
		if strings.HasPrefix(tok, "[") {
			continue
		}
		from, to, ok := strings.Cut(tok, "-")
		a, _ := strconv.Atoi(from)
		b := a
		if ok {
			b, _ = strconv.Atoi(to)
		}
		for s := a; s <= b; s++ {
			out = append(out, s)
		}
	}
	return out
}

// ParseClusterNodes splits a CLUSTER NODES reply into lines.
func ParseClusterNodes(reply string) ([]*NodeLine, error) {
	var out []*NodeLine
	for _, raw := range strings.Split(reply, "\n") {
		raw = strings.TrimRight(raw, "\r")
		if raw == "" {
			continue
		}
		f := strings.Split(raw, " ")
		if len(f) < 8 {
			return nil, fmt.Errorf("short CLUSTER NODES line %q", raw)
		}
		out = append(out, &NodeLine{
			ID: f[0], Addr: f[1], Flags: strings.Split(f[2], ","), MasterID: f[3],
			PingSent: f[4], PongRecv: f[5], Epoch: f[6], LinkState: f[7], Slots: f[8:],
		})
	}
	return out, nil
}

// Nodes returns the server's parsed CLUSTER NODES reply.
func (s *Server) Nodes() ([]*NodeLine, error) {
	r, err := s.DoString("CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	return ParseClusterNodes(r)
}

// Myself returns the server's own line of CLUSTER NODES.
func (s *Server) Myself() (*NodeLine, error) {
	lines, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if l.HasFlag("myself") {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%s: no myself line in CLUSTER NODES", s.Addr())
}

// CLIArgs returns the redis-cli arguments that connect to the servers:
// "--tls --cacert CA --cert C --key K" with TLS, then "--user U" with an
// ACL user and "-a pw --no-auth-warning" with a password (or nothing).
func CLIArgs(servers []*Server) []string {
	if len(servers) == 0 {
		return nil
	}
	o := servers[0].opts
	var args []string
	if t := o.TLS; t != nil {
		args = append(args, "--tls", "--cacert", t.CACert)
		if t.ClientCert != "" {
			args = append(args, "--cert", t.ClientCert, "--key", t.ClientKey)
		}
	}
	if o.User != "" {
		args = append(args, "--user", o.User)
	}
	if o.Password != "" {
		args = append(args, "-a", o.Password, "--no-auth-warning")
	}
	return args
}

// RunCLI runs redis-cli with args (TERM=dumb, stdin empty) and returns its
// combined output.
func RunCLI(timeout time.Duration, args ...string) (string, error) {
	return Redis.RunCLI(timeout, args...)
}

// RunCLI runs the build's CLI with args (TERM=dumb, stdin empty) and
// returns its combined output.
func (b *Build) RunCLI(timeout time.Duration, args ...string) (string, error) {
	path, err := b.CLIPath()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TERM=dumb"}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", b.CLI, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Create runs redis-cli --cluster create over the servers (with
// --cluster-replicas replicas and --cluster-yes) and waits until the cluster
// is stable.
func Create(t testing.TB, servers []*Server, replicas int) {
	t.Helper()
	if err := CreateCluster(servers, replicas); err != nil {
		t.Fatalf("redistest.Create: %v", err)
	}
}

// StartCluster starts servers with o and makes a cluster of them with
// redis-cli (Start, then Create).
func StartCluster(t testing.TB, o Options, replicas int) []*Server {
	t.Helper()
	servers := Start(t, o)
	Create(t, servers, replicas)
	return servers
}

// CreateCluster is Create without a testing.TB.
func CreateCluster(servers []*Server, replicas int) error {
	args := CLIArgs(servers)
	args = append(args, "--cluster", "create")
	for _, s := range servers {
		args = append(args, s.Addr())
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if _, err := servers[0].Build().RunCLI(2*time.Minute, args...); err != nil {
		return err
	}
	return WaitStableErr(servers, 30*time.Second)
}

// WaitStable waits (at most 30s) until every live server reports
// cluster_state:ok, all live servers agree on the node set, the roles and
// the slot assignment, no node is in handshake, and every live replica of a
// live master has its replication link up. It fails the test with the last
// problem seen otherwise.
func WaitStable(t testing.TB, servers []*Server) {
	t.Helper()
	if err := WaitStableErr(servers, 30*time.Second); err != nil {
		t.Fatalf("redistest.WaitStable: %v", err)
	}
}

// WaitStableErr is WaitStable without a testing.TB.
func WaitStableErr(servers []*Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := StableErr(servers)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not stable after %v: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StableErr checks once what WaitStable waits for.
func StableErr(servers []*Server) error {
	return consistentErr(servers, true)
}

// AgreeErr checks only that the live servers agree on nodes, roles and slots
// (not cluster_state or replication), e.g. for a cluster with a dead master.
func AgreeErr(servers []*Server) error {
	return consistentErr(servers, false)
}

func consistentErr(servers []*Server, requireOK bool) error {
	var ref, refAddr string
	liveByAddr := map[string]bool{}
	for _, s := range servers {
		if s.Running() {
			liveByAddr[s.Addr()] = true
		}
	}
	masterOf := map[string]string{} // replica addr -> master addr (from the replica's view)
	for _, s := range servers {
		if !s.Running() {
			continue
		}
		if requireOK {
			info, err := s.DoString("CLUSTER", "INFO")
			if err != nil {
				return fmt.Errorf("%s: CLUSTER INFO: %v", s.Addr(), err)
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("%s: cluster_state is not ok%s", s.Addr(), notOKDetail(s, info))
			}
		}
		lines, err := s.Nodes()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER NODES: %v", s.Addr(), err)
		}
		byID := map[string]*NodeLine{}
		for _, l := range lines {
			byID[l.ID] = l
		}
		var sig []string
		for _, l := range lines {
			if l.HasFlag("handshake") || l.HasFlag("noaddr") {
				return fmt.Errorf("%s sees %s %s in state %s", s.Addr(), l.ID, l.Addr, strings.Join(l.Flags, ","))
			}
			if requireOK && liveByAddr[l.HostPort()] && (l.HasFlag("fail") || l.HasFlag("fail?")) {
				return fmt.Errorf("%s flags live node %s as %s", s.Addr(), l.HostPort(), strings.Join(l.Flags, ","))
			}
			role := "master"
			if l.HasFlag("slave") {
				role = "slave"
			}
			var plain []string
			for _, tok := range l.Slots {
				if !strings.HasPrefix(tok, "[") {
					plain = append(plain, tok)
				}
			}
			sig = append(sig, l.ID+" "+l.HostPort()+" "+role+" "+l.MasterID+" "+strings.Join(plain, ","))
			if l.HasFlag("myself") && role == "slave" {
				if m := byID[l.MasterID]; m != nil {
					masterOf[s.Addr()] = m.HostPort()
				}
			}
		}
		sort.Strings(sig)
		joined := strings.Join(sig, "\n")
		if refAddr == "" {
			ref, refAddr = joined, s.Addr()
		} else if joined != ref {
			return fmt.Errorf("%s and %s disagree:\n%s\n---\n%s", refAddr, s.Addr(), ref, joined)
		}
	}
	if !requireOK {
		return nil
	}
	for _, s := range servers {
		m, ok := masterOf[s.Addr()]
		if !ok || !liveByAddr[m] {
			continue
		}
		info, err := s.DoString("INFO", "replication")
		if err != nil {
			return fmt.Errorf("%s: INFO replication: %v", s.Addr(), err)
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("%s: replication link to %s not up", s.Addr(), m)
		}
	}
	return nil
}

// notOKDetail says why s may think the cluster is down: its slot counters
// and its view of the nodes (so a test failing on it can be understood
// from its log alone).
func notOKDetail(s *Server, info string) string {
	var b strings.Builder
	for _, l := range strings.Split(info, "\n") {
		if strings.HasPrefix(l, "cluster_slots_") || strings.HasPrefix(l, "cluster_known_nodes") || strings.HasPrefix(l, "cluster_size") || strings.HasPrefix(l, "cluster_current_epoch") {
			b.WriteString(" " + strings.TrimSpace(l))
		}
	}
	text, err := s.DoString("CLUSTER", "NODES")
	if err != nil {
		return b.String()
	}
	b.WriteString("; its CLUSTER NODES:\n" + strings.TrimRight(text, "\n"))
	return b.String()
}

// SlotOwners maps every assigned slot to the live master that claims it in
// its own CLUSTER NODES line.
func SlotOwners(servers []*Server) (map[int]*Server, error) {
	owners := map[int]*Server{}
	for _, s := range servers {
		if !s.Running() {
			continue
		}
		me, err := s.Myself()
		if err != nil {
			return nil, err
		}
		if me.HasFlag("slave") {
			continue
		}
		for _, slot := range me.SlotNumbers() {
			owners[slot] = s
		}
	}
	return owners, nil
}

// LoadKeys writes n keys "prefix:i" = "value:prefix:i" (i from 0) to the
// masters that own their slots, pipelined.
func LoadKeys(t testing.TB, servers []*Server, n int, prefix string) {
	t.Helper()
	if err := LoadKeysErr(servers, n, prefix); err != nil {
		t.Fatalf("redistest.LoadKeys: %v", err)
	}
}

// LoadKeysErr is LoadKeys without a testing.TB.
func LoadKeysErr(servers []*Server, n int, prefix string) error {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = KeyName(prefix, i)
	}
	return SetKeys(servers, keys, func(k string) string { return "value:" + k })
}

// SetKeys writes the given keys (value(k) each) to their slot owners.
func SetKeys(servers []*Server, keys []string, value func(string) string) error {
	groups, err := groupByOwner(servers, keys)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for s, ks := range groups {
		for start := 0; start < len(ks); start += 1000 {
			end := min(start+1000, len(ks))
			pipe := s.Client().Pipeline()
			for _, k := range ks[start:end] {
				pipe.Set(ctx, k, value(k), 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("%s: SET: %v", s.Addr(), err)
			}
		}
	}
	return nil
}

// VerifyKeys checks that every key written by LoadKeys is present on the
// master that now owns its slot, with the right value.
func VerifyKeys(t testing.TB, servers []*Server, n int, prefix string) {
	t.Helper()
	if err := VerifyKeysErr(servers, n, prefix); err != nil {
		t.Fatalf("redistest.VerifyKeys: %v", err)
	}
}

// VerifyKeysErr is VerifyKeys without a testing.TB.
func VerifyKeysErr(servers []*Server, n int, prefix string) error {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = KeyName(prefix, i)
	}
	groups, err := groupByOwner(servers, keys)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var problems []string
	for s, ks := range groups {
		pipe := s.Client().Pipeline()
		for _, k := range ks {
			pipe.Get(ctx, k)
		}
		cmds, _ := pipe.Exec(ctx)
		for i, c := range cmds {
			k := ks[i]
			v, err := c.(interface{ Result() (string, error) }).Result()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s on %s (slot %d): %v", k, s.Addr(), KeySlot(k), err))
			case v != "value:"+k:
				problems = append(problems, fmt.Sprintf("%s on %s: value %q", k, s.Addr(), v))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
		}
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func groupByOwner(servers []*Server, keys []string) (map[*Server][]string, error) {
	owners, err := SlotOwners(servers)
	if err != nil {
		return nil, err
	}
	groups := map[*Server][]string{}
	for _, k := range keys {
		s := owners[KeySlot(k)]
		if s == nil {
			return nil, fmt.Errorf("slot %d of key %q has no live owner", KeySlot(k), k)
		}
		groups[s] = append(groups[s], k)
	}
	return groups, nil
}

// Snapshot is what a write would change on the servers: every node's view
// of the cluster (CLUSTER NODES without ping times, the CLUSTER INFO
// counters) and DBSIZE. A command that refuses must leave it as it was.
func Snapshot(servers []*Server) string {
	var b strings.Builder
	for _, s := range servers {
		nodes, err := s.DoString("CLUSTER", "NODES")
		if err != nil {
			b.WriteString(s.Addr() + ": " + err.Error() + "\n")
			continue
		}
		// Only the fields that a write would change (ping times move on).
		for _, l := range strings.Split(strings.TrimSpace(nodes), "\n") {
			f := strings.Fields(l)
			b.WriteString(strings.Join(append(f[:4:4], f[6:]...), " ") + "\n")
		}
		info, _ := s.DoString("CLUSTER", "INFO")
		for _, l := range strings.Split(info, "\r\n") {
			// cluster_size is left out: a node started less than two seconds
			// ago may still report a stale one, and the slot owners above
			// already say how many masters serve slots.
			if strings.HasPrefix(l, "cluster_") && !strings.HasPrefix(l, "cluster_stats") && !strings.HasPrefix(l, "cluster_size:") {
				b.WriteString(l + "\n")
			}
		}
		size, _ := s.DoInt("DBSIZE")
		fmt.Fprintf(&b, "dbsize %d\n", size)
	}
	return b.String()
}

// WaitReplicated waits until the servers are stable and every replica has
// as many keys as its master (at most 30s), so that a snapshot taken now
// stays the same and a failover loses nothing written before.
func WaitReplicated(t testing.TB, servers []*Server) {
	t.Helper()
	WaitStable(t, servers)
	byID := map[string]*Server{}
	for _, s := range servers {
		id, err := s.ID()
		if err != nil {
			t.Fatal(err)
		}
		byID[id] = s
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range servers {
		me, err := s.Myself()
		if err != nil {
			t.Fatal(err)
		}
		master := byID[me.MasterID]
		if master == nil {
			continue
		}
		for {
			n, _ := s.DoInt("DBSIZE")
			m, _ := master.DoInt("DBSIZE")
			if n == m {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s has %d keys, its master %d", s.Addr(), n, m)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// ExampleCluster starts count masters on free ports in a temporary
// directory and makes a cluster of them with keys keys ("key:" prefix),
// for the runnable Examples of pkg/, which have no testing.T. stop stops
// the servers and removes the directory.
func ExampleCluster(count, keys int) (servers []*Server, stop func(), err error) {
	return ExampleReplicatedCluster(count, 0, keys)
}

// ExampleReplicatedCluster is ExampleCluster with replicas replicas per
// master: count servers in all, the masters first (as redis-cli's create
// assigns them), every replica's link up.
func ExampleReplicatedCluster(count, replicas, keys int) (servers []*Server, stop func(), err error) {
	servers, stop, err = ExampleNodes(count)
	if err != nil {
		return nil, nil, err
	}
	err = CreateCluster(servers, replicas)
	if err == nil && keys > 0 {
		err = LoadKeysErr(servers, keys, "key:")
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return servers, stop, nil
}

// ExampleNodes starts count empty cluster nodes, for an Example function to
// make a cluster of; stop ends them and removes their files.
func ExampleNodes(count int) (servers []*Server, stop func(), err error) {
	dir, err := os.MkdirTemp("", "rcluster-example")
	if err != nil {
		return nil, nil, err
	}
	servers, err = StartProcs(Options{Count: count}, dir)
	stop = func() {
		StopAll(servers)
		_ = os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return servers, stop, nil
}
