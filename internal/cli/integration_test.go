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

// comparedBuilds are the servers, each with its own CLI, on which rcluster
// must print what that CLI prints: Debian's redis-cli 7.0, redis-cli 7.2.3
// and valkey-cli 8.0.1.
var comparedBuilds = []*redistest.Build{redistest.Redis, redistest.Redis72, redistest.Valkey8}

// unreachableLikeCLI compares a run whose entry node does not answer: no
// node says which CLI's words to use, so rcluster is given the build's
// --dialect.
func unreachableLikeCLI(t *testing.T, b *redistest.Build, global []string, args ...string) {
	t.Helper()
	dialect := "redis"
	if b == redistest.Valkey8 {
		dialect = "valkey"
	}
	want := runBuildCLI(t, b, "", "dumb", global, args...)
	got := runRCluster(t, "", "dumb", append([]string{"--dialect", dialect}, global...), args...)
	sameAsRedisCLI(t, strings.Join(args, " ")+" (--dialect "+dialect+")", got, want)
}

// eachBuild runs test on every compared build that is there (a missing
// one skips, or fails under RCLUSTER_REQUIRE_REDIS=1).
func eachBuild(t *testing.T, test func(*testing.T, *redistest.Build)) {
	for _, b := range comparedBuilds {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			test(t, b)
		})
	}
}

func TestCreateLikeRedisCLI(t *testing.T) { eachBuild(t, createLikeCLI) }

func createLikeCLI(t *testing.T, b *redistest.Build) {
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
		if b != redistest.Redis && tc.nodes > 9 {
			continue // the big clusters on Debian's redis only: the other builds print the same lines
		}
		t.Run(tc.name, func(t *testing.T) {
			opts := redistest.Options{Count: tc.nodes, Hosts: tc.hosts, ExtraConfig: tc.config, Build: b}
			twinA := redistest.Start(t, opts)
			twinB := redistest.Start(t, opts)
			args := func(s []*redistest.Server) []string {
				a := append([]string{"create"}, addrs(s)...)
				return append(a, "--cluster-replicas", strconv.Itoa(tc.replicas), "--cluster-yes")
			}
			want := runBuildCLI(t, b, "", tc.term, nil, args(twinA)...)
			start := time.Now()
			got := runRCluster(t, "", tc.term, nil, args(twinB)...)
			t.Logf("rcluster create of %d nodes took %v", tc.nodes, time.Since(start))
			if got.code != want.code || got.code != 0 {
				t.Fatalf("exit %d, %s %d\n%s%s", got.code, b.CLI, want.code, got.stdout, got.stderr)
			}
			if g, w := normalizeCreate(got.stdout, twinB), normalizeCreate(want.stdout, twinA); g != w {
				t.Errorf("stdout differs from %s's on the twin cluster\n--- rcluster\n%s\n--- %s\n%s", b.CLI, g, b.CLI, w)
			}
			if got.stderr != want.stderr {
				t.Errorf("stderr %q, %s %q", got.stderr, b.CLI, want.stderr)
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

// snapshot is what a refused command must leave untouched on the nodes.
func snapshot(t *testing.T, servers []*redistest.Server) string {
	t.Helper()
	return redistest.Snapshot(servers)
}

func TestCreateRefusalsLeaveNodesUntouched(t *testing.T) { eachBuild(t, createRefusals) }

func createRefusals(t *testing.T, b *redistest.Build) {
	nodes := redistest.Start(t, redistest.Options{Count: 4, Build: b})
	standalone := redistest.Start(t, redistest.Options{Count: 1, Standalone: true, Build: b})[0]
	// A key on a node that owns no slot (DEBUG POPULATE ignores slots).
	withKey := redistest.Start(t, redistest.Options{Count: 1, Build: b})[0]
	if _, err := withKey.Do("DEBUG", "POPULATE", 1); err != nil {
		t.Fatal(err)
	}
	knowing := redistest.Start(t, redistest.Options{Count: 2, Build: b})
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
				want := runBuildCLI(t, b, tc.stdin, "dumb", nil, tc.args...)
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
					t.Errorf("differs from %s\n--- rcluster %+v\n--- %s %+v", b.CLI, got, b.CLI, want)
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
func TestCheckInfoLive(t *testing.T) { eachBuild(t, checkInfoLive) }

func checkInfoLive(t *testing.T, b *redistest.Build) {
	nodes := redistest.Start(t, redistest.Options{Count: 6, Hosts: []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, Build: b})
	redistest.Create(t, nodes, 1)
	redistest.LoadKeys(t, nodes, 500, "live")
	compare := func(name string, wantCode int, args ...string) {
		t.Helper()
		for _, term := range []string{"dumb", "xterm-256color"} {
			got, want := runRCluster(t, "", term, nil, args...), runBuildCLI(t, b, "", term, nil, args...)
			if got != want {
				t.Errorf("%s (%s): rcluster differs from %s\n--- rcluster (exit %d)\n%s%s\n--- %s (exit %d)\n%s%s",
					name, term, b.CLI, got.code, got.stdout, got.stderr, b.CLI, want.code, want.stdout, want.stderr)
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
