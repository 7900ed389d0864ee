package cli

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

func addrs(servers []*redistest.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr()
	}
	return out
}

var (
	nodeID    = regexp.MustCompile(`[0-9a-f]{40}`)
	shortID   = regexp.MustCompile(`\([0-9a-f]{8}\.\.\.\)`)
	joinDots  = regexp.MustCompile(`Waiting for the cluster to join\n\.*\n`)
	hostPort  = regexp.MustCompile(`(127\.0\.0\.\d+):(\d+)`)
	blockHead = regexp.MustCompile(`^(\x1b\[0m)?[MS]: `)
)

// normalizeCreate makes the output of create on one cluster comparable with
// the output on its twin: node IDs, ports (by position in the argument
// list), the number of join dots, and the order of the final check's node
// listing (which follows node IDs) are taken out.
func normalizeCreate(out string, servers []*redistest.Server) string {
	index := map[string]int{}
	for i, s := range servers {
		index[s.Addr()] = i
	}
	out = nodeID.ReplaceAllString(out, "<id>")
	out = shortID.ReplaceAllString(out, "(<id>)")
	out = joinDots.ReplaceAllString(out, "Waiting for the cluster to join\n\n")
	out = hostPort.ReplaceAllStringFunc(out, func(m string) string {
		if i, ok := index[m]; ok {
			return fmt.Sprintf("N%d", i)
		}
		return m
	})
	// Sort the node blocks of the final check listing.
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if strings.Contains(l, ">>> Performing Cluster Check") {
			start = i + 1
		}
	}
	if start < 0 {
		return out
	}
	end := start
	var blocks []string
	for end < len(lines) && blockHead.MatchString(lines[end]) {
		b := lines[end]
		end++
		for end < len(lines) && strings.HasPrefix(lines[end], "   ") {
			b += "\n" + lines[end]
			end++
		}
		blocks = append(blocks, strings.TrimPrefix(b, "\x1b[0m"))
	}
	sort.Strings(blocks)
	return strings.Join(lines[:start], "\n") + "\n" + strings.Join(blocks, "\n") + "\n" + strings.Join(lines[end:], "\n")
}

// requireHealthy checks what create promises: every node at once reports
// cluster_state:ok, all agree, all slots are covered, every master has its
// replicas, and no replica shares its master's host when hosts allow it.
func requireHealthy(t *testing.T, servers []*redistest.Server, replicas int, distinctHosts bool) {
	t.Helper()
	// At once: every node is ok and has its role. How the others see the
	// roles, and the replication links, follow by gossip: wait for them.
	for _, s := range servers {
		if info, err := s.DoString("CLUSTER", "INFO"); err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("%s: cluster_state not ok right after create returned (%v)", s.Addr(), err)
		}
		if role, _ := s.DoString("INFO", "replication"); replicas > 0 && !strings.Contains(role, "role:") {
			t.Fatalf("%s: no role", s.Addr())
		}
	}
	redistest.WaitStable(t, servers)
	lines, err := servers[0].Nodes()
	if err != nil {
		t.Fatal(err)
	}
	host := map[string]string{}
	count := map[string]int{}
	slots := 0
	for _, l := range lines {
		host[l.ID] = l.Addr
		slots += len(l.SlotNumbers())
	}
	for _, l := range lines {
		if l.MasterID != "-" {
			count[l.MasterID]++
			if distinctHosts && strings.Split(host[l.MasterID], ":")[0] == strings.Split(l.Addr, ":")[0] {
				t.Errorf("replica %s is on the host of its master %s", l.Addr, host[l.MasterID])
			}
		}
	}
	if slots != 16384 {
		t.Errorf("%d slots assigned, want 16384", slots)
	}
	for _, l := range lines {
		if l.MasterID == "-" && len(l.SlotNumbers()) > 0 && count[l.ID] < replicas {
			t.Errorf("master %s has %d replicas, want %d", l.Addr, count[l.ID], replicas)
		}
	}
}

func TestCreateLikeRedisCLI(t *testing.T) {
	redistest.Require(t)
	cases := []struct {
		name     string
		nodes    int
		replicas int
		hosts    []string
		term     string
		config   []string
	}{
		{"3-masters", 3, 0, nil, "xterm-256color", nil},
		{"6-nodes-1-replica", 6, 1, nil, "dumb", nil},
		{"6-nodes-3-hosts", 6, 1, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, "xterm-256color", nil},
		{"9-nodes-3-hosts-2-replicas", 9, 2, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, "dumb", nil},
		{"60-nodes-4-hosts", 60, 1, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}, "dumb", nil},
		{"60-nodes-2-replicas", 60, 2, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, "dumb", nil},
		{"60-nodes-no-replicas", 60, 0, []string{"127.0.0.1", "127.0.0.2"}, "dumb", nil},
		// rcluster ends Redis' rejoin delay with CONFIG SET; without CONFIG
		// it waits the delay out.
		{"6-nodes-without-config", 6, 1, nil, "dumb", []string{`rename-command CONFIG ""`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := redistest.Options{Count: tc.nodes, Hosts: tc.hosts, ExtraConfig: tc.config}
			twinA := redistest.Start(t, opts)
			twinB := redistest.Start(t, opts)
			args := func(s []*redistest.Server) []string {
				a := append([]string{"create"}, addrs(s)...)
				return append(a, "--cluster-replicas", strconv.Itoa(tc.replicas), "--cluster-yes")
			}
			want := runRedisCLI(t, "", tc.term, nil, args(twinA)...)
			start := time.Now()
			got := runRCluster(t, "", tc.term, nil, args(twinB)...)
			t.Logf("rcluster create of %d nodes took %v", tc.nodes, time.Since(start))
			if got.code != want.code || got.code != 0 {
				t.Fatalf("exit %d, redis-cli %d\n%s%s", got.code, want.code, got.stdout, got.stderr)
			}
			if g, w := normalizeCreate(got.stdout, twinB), normalizeCreate(want.stdout, twinA); g != w {
				t.Errorf("stdout differs from redis-cli's on the twin cluster\n--- rcluster\n%s\n--- redis-cli\n%s", g, w)
			}
			if got.stderr != want.stderr {
				t.Errorf("stderr %q, redis-cli %q", got.stderr, want.stderr)
			}
			requireHealthy(t, twinB, tc.replicas, len(tc.hosts) > 1)
			if tc.config == nil {
				requireRejoinDelayEnded(t, twinB, twinA, tc.nodes <= 9)
			}
		})
	}
}

// requireRejoinDelayEnded checks the CONFIG SETs with which create ends
// Redis' rejoin delay: every lowered cluster-node-timeout was set back (an
// even count of CONFIG SETs, the timeout equal to the untouched twin's) and,
// when the join is quick enough to beat the delay (used), some were made.
func requireRejoinDelayEnded(t *testing.T, servers, untouched []*redistest.Server, used bool) {
	t.Helper()
	sets := 0
	for i, s := range servers {
		got, _ := s.Do("CONFIG", "GET", "cluster-node-timeout")
		want, _ := untouched[i].Do("CONFIG", "GET", "cluster-node-timeout")
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: cluster-node-timeout %v after create, want it as it was: %v", s.Addr(), got, want)
		}
		stats, err := s.DoString("INFO", "commandstats")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if m := regexp.MustCompile(`cmdstat_config\|set:calls=(\d+)`).FindStringSubmatch(stats); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n%2 != 0 {
			t.Errorf("%s: %d CONFIG SETs: a lowered node timeout was not set back", s.Addr(), n)
		}
		sets += n
	}
	if used && sets == 0 {
		t.Errorf("no master had its rejoin delay ended")
	}
}

// snapshot is what a refused create must leave untouched on a node.
func snapshot(t *testing.T, servers []*redistest.Server) string {
	t.Helper()
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

func TestCreateRefusalsLeaveNodesUntouched(t *testing.T) {
	redistest.Require(t)
	nodes := redistest.Start(t, redistest.Options{Count: 4})
	standalone := redistest.Start(t, redistest.Options{Count: 1, Standalone: true})[0]
	// A key on a node that owns no slot (DEBUG POPULATE ignores slots).
	withKey := redistest.Start(t, redistest.Options{Count: 1})[0]
	if _, err := withKey.Do("DEBUG", "POPULATE", 1); err != nil {
		t.Fatal(err)
	}
	knowing := redistest.Start(t, redistest.Options{Count: 2})
	if _, err := knowing[0].Do("CLUSTER", "MEET", knowing[1].Host, knowing[1].Port); err != nil {
		t.Fatal(err)
	}
	// Let the handshake finish, and the epoch collision of two masters at
	// epoch 0 resolve, before the snapshot: both then stay as they are.
	settled := func() bool {
		var mine, current []string
		for _, s := range knowing {
			info, err := s.DoString("CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_known_nodes:2\r\n") {
				return false
			}
			field := func(name string) string {
				_, rest, _ := strings.Cut(info, name+":")
				v, _, _ := strings.Cut(rest, "\r\n")
				return v
			}
			mine, current = append(mine, field("cluster_my_epoch")), append(current, field("cluster_current_epoch"))
		}
		return mine[0] != mine[1] && current[0] == current[1]
	}
	for deadline := time.Now().Add(30 * time.Second); !settled(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("two nodes that met did not settle their epochs within 30 s")
		}
	}
	a := addrs(nodes)
	all := append(append(append([]*redistest.Server{}, nodes...), standalone, withKey), knowing...)
	refused := "127.0.0.1:1" // nothing listens on port 1
	cases := []struct {
		name       string
		args       []string
		stdin      string
		code       int
		sameAsCLI  bool
		wantStdout string
	}{
		{"not-cluster", []string{"create", a[0], a[1], standalone.Addr()}, "", 1, true, ""},
		{"has-key", []string{"create", a[0], a[1], withKey.Addr()}, "", 1, true, ""},
		{"knows-nodes", []string{"create", a[0], a[1], knowing[0].Addr()}, "", 1, true, ""},
		{"unreachable", []string{"create", a[0], a[1], refused}, "", 1, true, ""},
		{"too-few-masters", []string{"create", a[0], a[1]}, "", 1, true, ""},
		{"too-few-for-replicas", []string{"create", a[0], a[1], a[2], a[3], "--cluster-replicas", "1"}, "", 1, true, ""},
		{"declined", []string{"create", a[0], a[1], a[2]}, "no\n", 0, false, "Can I set the above configuration? (type 'yes' to accept): "},
		{"end-of-input", []string{"create", a[0], a[1], a[2]}, "", 0, false, "Can I set the above configuration? (type 'yes' to accept): "},
		{"duplicate", []string{"create", a[0], a[1], a[0]}, "", 1, false, "is the same node as"},
		{"duplicate-by-name", []string{"create", a[0], a[1], "localhost:" + strconv.Itoa(nodes[0].Port)}, "", 1, false, "is the same node as"},
		{"bad-port", []string{"create", a[0], a[1], "127.0.0.1:70000"}, "", 1, false, ""},
		{"negative-replicas", []string{"create", a[0], a[1], a[2], "--replicas", "-1"}, "", 1, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, all)
			got := runRCluster(t, tc.stdin, "dumb", nil, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", got.code, tc.code, got.stdout, got.stderr)
			}
			if tc.sameAsCLI {
				want := runRedisCLI(t, tc.stdin, "dumb", nil, tc.args...)
				// Beyond redis-cli: a node that is not empty gets the reset
				// to run, on stderr.
				if strings.Contains(got.stdout, " is not empty. ") {
					hint, rest, ok := strings.Cut(got.stderr, "Nodes that are not empty can be emptied with: rcluster reset ")
					if !ok || !strings.HasSuffix(rest, "\n") || strings.Count(rest, "\n") != 1 {
						t.Errorf("no reset named on stderr: %q", got.stderr)
					}
					got.stderr = hint
				}
				if got != want {
					t.Errorf("differs from redis-cli\n--- rcluster %+v\n--- redis-cli %+v", got, want)
				}
			} else if !strings.Contains(got.stdout+got.stderr, tc.wantStdout) {
				t.Errorf("output %q does not contain %q", got.stdout+got.stderr, tc.wantStdout)
			}
			if tc.code != 0 && got.stdout+got.stderr == "" {
				t.Error("refused without a message")
			}
			if after := snapshot(t, all); after != before {
				t.Errorf("nodes changed\n--- before\n%s--- after\n%s", before, after)
			}
		})
	}
}

func TestCreateWithPassword(t *testing.T) {
	redistest.Require(t)
	nodes := redistest.Start(t, redistest.Options{Count: 3, Password: "s3cret"})
	args := append([]string{"create"}, addrs(nodes)...)
	for _, global := range [][]string{nil, {"-a", "wrong"}} {
		got, want := runRCluster(t, "", "dumb", global, args...), runRedisCLI(t, "", "dumb", global, args...)
		if got != want {
			t.Errorf("%q: rcluster %+v, redis-cli %+v", global, got, want)
		}
	}
	got := runRCluster(t, "", "dumb", []string{"-a", "s3cret", "--yes"}, args...)
	if got.code != 0 || strings.Contains(got.stdout+got.stderr, "s3cret") {
		t.Fatalf("create with the password: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	requireHealthy(t, nodes, 0, false)
}

// A node whose cluster bus cannot be reached must make create fail within
// its join timeout, naming the bus port, instead of waiting forever.
func TestCreateUnreachableBusIsBounded(t *testing.T) {
	redistest.Require(t)
	nodes := redistest.Start(t, redistest.Options{Count: 3})
	// Node 2 announces a bus port nobody listens on.
	if _, err := nodes[2].Do("CONFIG", "SET", "cluster-announce-bus-port", "1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := runRCluster(t, "", "dumb", nil, append(append([]string{"create"}, addrs(nodes)...), "--yes", "--join-timeout", "4s")...)
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("create took %v with a 4s join timeout", elapsed)
	}
	if got.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", got.code, got.stdout)
	}
	if !strings.Contains(got.stdout, "may be unreachable") && !strings.Contains(got.stdout, "did not agree") {
		t.Errorf("no diagnostic naming the unreachable node:\n%s", got.stdout)
	}
}

// check and info on live clusters, with both tools on the same nodes.
func TestCheckInfoLive(t *testing.T) {
	redistest.Require(t)
	nodes := redistest.Start(t, redistest.Options{Count: 6, Hosts: []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}})
	redistest.Create(t, nodes, 1)
	redistest.LoadKeys(t, nodes, 500, "live")
	compare := func(name string, wantCode int, args ...string) {
		t.Helper()
		for _, term := range []string{"dumb", "xterm-256color"} {
			got, want := runRCluster(t, "", term, nil, args...), runRedisCLI(t, "", term, nil, args...)
			if got != want {
				t.Errorf("%s (%s): rcluster differs from redis-cli\n--- rcluster (exit %d)\n%s%s\n--- redis-cli (exit %d)\n%s%s",
					name, term, got.code, got.stdout, got.stderr, want.code, want.stdout, want.stderr)
			}
			if got.code != wantCode {
				t.Errorf("%s: exit %d, want %d", name, got.code, wantCode)
			}
		}
	}
	compare("healthy check", 0, "check", nodes[1].Addr())
	compare("healthy check, host port", 0, "check", nodes[2].Host, strconv.Itoa(nodes[2].Port), "--cluster-search-multiple-owners")
	compare("healthy info", 0, "info", nodes[3].Addr())

	// An open slot: migrating on its owner towards another master.
	owners, err := redistest.SlotOwners(nodes)
	if err != nil {
		t.Fatal(err)
	}
	src, dst := owners[100], owners[16000]
	dstID, _ := dst.ID()
	srcID, _ := src.ID()
	if _, err := src.Do("CLUSTER", "SETSLOT", 100, "MIGRATING", dstID); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Do("CLUSTER", "SETSLOT", 100, "IMPORTING", srcID); err != nil {
		t.Fatal(err)
	}
	compare("open slot", 1, "check", nodes[0].Addr())
	compare("open slot info", 0, "info", nodes[0].Addr())
}
