package cli

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
)

// Connections for every command: TLS, ACL users, hostnames and IPv6, each
// against real servers and compared with redis-cli.

var (
	blockLine   = regexp.MustCompile(`^(\x1b\[0m)?[MS]: `)
	summaryLine = regexp.MustCompile(`^(\x1b\[0m)?N\d+ \(<id>\) -> `)
)

// normalizeTwin makes the output of a command on one cluster comparable
// with the same command on its twin (same layout, other node IDs and
// ports): node IDs become <id>, every form of a node's address (127.0.0.x,
// localhost or ::1 with its port) becomes N<index>, and every run of node
// blocks (M:/S: and their indented lines, listed in CLUSTER NODES order,
// which follows node IDs) is sorted, as is every run of info's per-master
// lines.
func normalizeTwin(out string, servers []*redistest.Server) string {
	var pairs []string
	for i, s := range servers {
		p := strconv.Itoa(s.Port)
		n := fmt.Sprintf("N%d", i)
		pairs = append(pairs, s.Host+":"+p, n, "localhost:"+p, n, "["+s.Host+"]:"+p, n)
	}
	out = strings.NewReplacer(pairs...).Replace(out)
	out = nodeID.ReplaceAllString(out, "<id>")
	out = shortID.ReplaceAllString(out, "(<id>)")
	out = joinDots.ReplaceAllString(out, "Waiting for the cluster to join\n\n")
	lines := strings.Split(out, "\n")
	var res []string
	for i := 0; i < len(lines); {
		if summaryLine.MatchString(lines[i]) { // info's lines, in the same order
			j := i
			for j < len(lines) && summaryLine.MatchString(lines[j]) {
				j++
			}
			run := slices.Clone(lines[i:j])
			sort.Strings(run)
			res = append(res, run...)
			i = j
			continue
		}
		if !blockLine.MatchString(lines[i]) {
			res = append(res, lines[i])
			i++
			continue
		}
		var blocks []string
		for i < len(lines) && blockLine.MatchString(lines[i]) {
			b := strings.TrimPrefix(lines[i], "\x1b[0m")
			i++
			for i < len(lines) && strings.HasPrefix(lines[i], "   ") {
				b += "\n" + lines[i]
				i++
			}
			blocks = append(blocks, b)
		}
		sort.Strings(blocks)
		res = append(res, blocks...)
	}
	return strings.Join(res, "\n")
}

// twinsAlike runs args(twin) with the build's CLI (redis-cli, valkey-cli)
// on twin A and rcluster on twin B and compares their normalised outputs
// and exit codes.
func twinsAlike(t *testing.T, build *redistest.Build, what string, global []string, a, b []*redistest.Server, args func([]*redistest.Server) []string) result {
	t.Helper()
	want := runBuildCLI(t, build, "", "dumb", global, args(a)...)
	got := runRCluster(t, "", "dumb", global, args(b)...)
	if got.code != want.code {
		t.Errorf("%s: exit %d, %s %d\n--- rcluster\n%s%s\n--- %s\n%s%s", what, got.code, build.CLI, want.code, got.stdout, got.stderr, build.CLI, want.stdout, want.stderr)
	}
	if g, w := normalizeTwin(got.stdout, b), normalizeTwin(want.stdout, a); g != w {
		t.Errorf("%s: stdout differs from %s's on the twin cluster\n--- rcluster\n%s\n--- %s\n%s", what, build.CLI, g, build.CLI, w)
	}
	if g, w := normalizeTwin(got.stderr, b), normalizeTwin(want.stderr, a); g != w {
		t.Errorf("%s: stderr differs\n--- rcluster\n%s\n--- %s\n%s", what, g, build.CLI, w)
	}
	return got
}

func nodeIDOf(t *testing.T, s *redistest.Server) string {
	t.Helper()
	id, err := s.ID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// twinCreate creates both twins (redis-cli on a, rcluster on b), compares
// the outputs and waits until both are stable.
func twinCreate(t *testing.T, global []string, a, b []*redistest.Server, replicas int) {
	t.Helper()
	args := func(s []*redistest.Server) []string {
		out := append([]string{"create"}, addrs(s)...)
		return append(out, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	}
	want := runRedisCLI(t, "", "dumb", global, args(a)...)
	got := runRCluster(t, "", "dumb", global, args(b)...)
	if got.code != 0 || want.code != 0 {
		t.Fatalf("create: exit %d, redis-cli %d\n--- rcluster\n%s%s\n--- redis-cli\n%s%s", got.code, want.code, got.stdout, got.stderr, want.stdout, want.stderr)
	}
	if g, w := normalizeCreate(got.stdout, b), normalizeCreate(want.stdout, a); g != w {
		t.Errorf("create: stdout differs from redis-cli's on the twin cluster\n--- rcluster\n%s\n--- redis-cli\n%s", g, w)
	}
	requireHealthy(t, b, replicas, false)
	redistest.WaitStable(t, a)
}

// reshardTwins moves n slots from the twin's node 0 to its node `to` with
// both tools (the build's CLI on twin A) and compares them.
func reshardTwins(t *testing.T, build *redistest.Build, global []string, a, b []*redistest.Server, to, n int) {
	t.Helper()
	twinsAlike(t, build, "reshard", global, a, b, func(s []*redistest.Server) []string {
		return []string{"reshard", s[0].Addr(), "--cluster-from", nodeIDOf(t, s[0]), "--cluster-to", nodeIDOf(t, s[to]),
			"--cluster-slots", strconv.Itoa(n), "--cluster-yes"}
	})
	redistest.WaitStable(t, a)
	redistest.WaitStable(t, b)
}

func TestTLSLikeRedisCLI(t *testing.T) {
	t.Parallel()
	redistest.Require(t)
	files := redistest.NewTLSFiles(t, t.TempDir())
	files.AuthClients = "yes" // client certificates required
	opts := redistest.Options{Count: 6, TLS: files}
	a, b := redistest.Start(t, opts), redistest.Start(t, opts)
	global := redistest.CLIArgs(b) // --tls --cacert --cert --key
	if !slices.Contains(global, "--tls") {
		t.Fatalf("CLIArgs %q without --tls", global)
	}

	twinCreate(t, global, a, b, 1)

	// With port 0 the only port is the TLS one, and that is what CLUSTER
	// NODES reports (the same port over TLS).
	lines, err := b[0].Nodes()
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]bool{}
	for _, s := range b {
		ports[s.Addr()] = true
	}
	for _, l := range lines {
		if !ports[l.HostPort()] {
			t.Errorf("CLUSTER NODES over TLS reports %s, not a TLS port of the cluster", l.HostPort())
		}
	}

	redistest.LoadKeys(t, a, 300, "tls")
	redistest.LoadKeys(t, b, 300, "tls")
	for _, term := range []string{"dumb", "xterm-256color"} {
		bothTools(t, term, global, "check", b[1].Addr())
		bothTools(t, term, global, "info", b[2].Addr())
	}
	bothTools(t, "dumb", global, "call", b[0].Addr(), "DBSIZE")
	bothTools(t, "dumb", global, "call", b[0].Addr(), "GET", redistest.KeyName("tls", 7), "--cluster-only-masters")
	// rediss:// in -u turns TLS on, as --tls does.
	viaURI := append([]string{"-u", "rediss://127.0.0.1"}, slices.DeleteFunc(slices.Clone(global), func(a string) bool { return a == "--tls" })...)
	bothTools(t, "dumb", viaURI, "check", b[1].Addr())

	reshardTwins(t, redistest.Redis, global, a, b, 1, 200)
	redistest.VerifyKeys(t, b, 300, "tls")
	bothTools(t, "dumb", global, "check", b[0].Addr())

	// backup fetches the RDBs over TLS connections of its own.
	dir := backupCompare(t, redistest.Redis, "dumb", global, b[0].Addr(), "")
	if n := backupKeys(t, dir); n != 300 {
		t.Errorf("the TLS backup holds %d keys, want 300", n)
	}

	// --insecure skips verification; --sni is only sent.
	insecure := []string{"--tls", "--insecure", "--cert", files.ClientCert, "--key", files.ClientKey}
	bothTools(t, "dumb", insecure, "info", b[0].Addr())
	bothTools(t, "dumb", append(slices.Clone(global), "--sni", "redis.example"), "info", b[0].Addr())

	// Failures, in redis-cli's words.
	other := redistest.NewTLSFiles(t, t.TempDir())
	untrusted := []string{"--tls", "--cacert", other.CACert, "--cert", files.ClientCert, "--key", files.ClientKey}
	r := bothTools(t, "dumb", untrusted, "check", b[0].Addr())
	wantErr := "Could not connect to Redis at " + b[0].Addr() + ": SSL_connect failed: certificate verify failed\n"
	if r.code != 1 || r.stderr != wantErr || r.stdout != "" {
		t.Errorf("untrusted certificate: exit %d, stdout %q, stderr %q; want 1 and %q", r.code, r.stdout, r.stderr, wantErr)
	}
	for _, tc := range []struct {
		global []string
		msg    string
	}{
		{[]string{"--tls", "--cacert", files.CACert + ".missing"}, "Invalid CA Certificate File/Directory"},
		{[]string{"--tls", "--cacert", files.CACert, "--cert", files.ClientKey, "--key", files.ClientKey}, "Invalid client certificate"},
		{[]string{"--tls", "--cacert", files.CACert, "--cert", files.ClientCert, "--key", files.Key}, "Invalid private key"},
	} {
		r := bothTools(t, "dumb", tc.global, "check", b[0].Addr())
		if r.code != 1 || r.stderr != "TLS Error: "+tc.msg+"\n" {
			t.Errorf("%q: exit %d, stderr %q", tc.global, r.code, r.stderr)
		}
		bothTools(t, "dumb", tc.global, "create", a[0].Addr(), a[1].Addr(), a[2].Addr())
	}

	// Where redis-cli's messages mislead, rcluster says what is wrong.
	for _, tc := range []struct {
		global []string
		msg    string
	}{
		{nil, "Could not connect to Redis at " + b[0].Addr() + ": Connection reset by peer (is it a TLS port? then use --tls)\n"},
		{[]string{"--tls", "--cacert", files.CACert}, "Could not connect to Redis at " + b[0].Addr() + ": SSL_connect failed: the server requires a client certificate (--cert and --key)\n"},
	} {
		r := runRCluster(t, "", "dumb", tc.global, "check", b[0].Addr())
		if r.code != 1 || r.stderr != tc.msg || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 and %q", tc.global, r.code, r.stdout, r.stderr, tc.msg)
		}
	}
}

func TestACLUserLikeRedisCLI(t *testing.T) {
	t.Parallel()
	redistest.Require(t)
	opts := redistest.Options{Count: 6, User: "admin", Password: "adm1n-pw"}
	a, b := redistest.Start(t, opts), redistest.Start(t, opts)
	global := redistest.CLIArgs(b) // --user admin -a adm1n-pw --no-auth-warning
	if _, err := b[0].Do("PING"); err != nil {
		t.Fatalf("the test client cannot log in as admin: %v", err)
	}

	twinCreate(t, global, a, b, 1)
	redistest.LoadKeys(t, a, 400, "acl")
	redistest.LoadKeys(t, b, 400, "acl")
	bothTools(t, "dumb", global, "check", b[3].Addr())
	bothTools(t, "dumb", global, "info", b[0].Addr())

	// The default user is off: no credentials, or a wrong password.
	bothTools(t, "dumb", nil, "check", b[0].Addr())
	bothTools(t, "dumb", []string{"--user", "admin", "-a", "wrong", "--no-auth-warning"}, "check", b[0].Addr())
	bothTools(t, "dumb", []string{"-a", "adm1n-pw", "--no-auth-warning"}, "check", b[0].Addr())

	// The user and password from -u (percent-encoded), with redis-cli's
	// warning; the URI's own host is not the cluster's. Bad URIs.
	uri := "redis://admin:adm1n%2Dpw@127.0.0.1:1/0"
	bothTools(t, "dumb", []string{"-u", uri}, "check", b[0].Addr())
	bothTools(t, "dumb", []string{"-u", uri, "--no-auth-warning"}, "call", b[0].Addr(), "dbsize")
	bothTools(t, "dumb", []string{"-u", "redis://admin:wrong@host"}, "info", b[0].Addr())
	for _, bad := range []string{"http://host", "redis://admin:pw%@host", "redis://admin:pw%4@host", "redis://a%zz:pw@host"} {
		bothTools(t, "dumb", []string{"-u", bad}, "check", b[0].Addr())
	}

	// fix of an open slot moves its keys with MIGRATE ... AUTH2.
	for _, twin := range [][]*redistest.Server{a, b} {
		owners, err := redistest.SlotOwners(twin)
		if err != nil {
			t.Fatal(err)
		}
		slot := redistest.KeySlot(redistest.KeyName("acl", 0))
		src, dst := owners[slot], owners[(slot+8000)%16384]
		if _, err := src.Do("CLUSTER", "SETSLOT", slot, "MIGRATING", nodeIDOf(t, dst)); err != nil {
			t.Fatal(err)
		}
	}
	twinsAlike(t, redistest.Redis, "fix", global, a, b, func(s []*redistest.Server) []string { return []string{"fix", s[0].Addr()} })
	redistest.WaitStable(t, a)
	redistest.WaitStable(t, b)
	redistest.VerifyKeys(t, b, 400, "acl")

	// Every master but node 0 gets more than its share, so that the plan
	// of rebalance does not depend on the order of the nodes (the IDs).
	reshardTwins(t, redistest.Redis, global, a, b, 1, 600)
	reshardTwins(t, redistest.Redis, global, a, b, 2, 300)
	twinsAlike(t, redistest.Redis, "rebalance", global, a, b, func(s []*redistest.Server) []string { return []string{"rebalance", s[1].Addr()} })
	redistest.WaitStable(t, b)
	redistest.VerifyKeys(t, b, 400, "acl")
	bothTools(t, "dumb", global, "check", b[0].Addr())

	// import: the source has no password, the cluster's credentials go
	// into MIGRATE (AUTH2). SCAN orders differ between two sources, so
	// the lines are compared sorted.
	srcA := redistest.Start(t, redistest.Options{Count: 1, Standalone: true})[0]
	srcB := redistest.Start(t, redistest.Options{Count: 1, Standalone: true})[0]
	for _, src := range []*redistest.Server{srcA, srcB} {
		for i := 0; i < 50; i++ {
			if _, err := src.Do("SET", redistest.KeyName("imp", i), redistest.KeyValue("imp", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := runRedisCLI(t, "", "dumb", global, "import", a[0].Addr(), "--cluster-from", srcA.Addr())
	got := runRCluster(t, "", "dumb", global, "import", b[0].Addr(), "--cluster-from", srcB.Addr())
	sorted := func(out string, twin []*redistest.Server, src *redistest.Server) []string {
		out = strings.ReplaceAll(out, src.Addr(), "SRC")
		l := strings.Split(normalizeTwin(out, twin), "\n")
		sort.Strings(l)
		return l
	}
	if got.code != 0 || want.code != 0 || !slices.Equal(sorted(got.stdout, b, srcB), sorted(want.stdout, a, srcA)) || got.stderr != want.stderr {
		t.Errorf("import: exit %d, redis-cli %d\n--- rcluster\n%s%s\n--- redis-cli\n%s%s", got.code, want.code, got.stdout, got.stderr, want.stdout, want.stderr)
	}
	redistest.VerifyKeys(t, b, 50, "imp")
	if n, _ := srcB.DoInt("DBSIZE"); n != 0 {
		t.Errorf("%d keys left on the import source", n)
	}
	bothTools(t, "dumb", global, "check", b[0].Addr())
}

// --user without a password sends no credentials at all, on connections
// and in MIGRATE (redis-cli 7.0.15 adds an empty argument to MIGRATE).
func TestUserWithoutPasswordMigrates(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 3})
	redistest.Create(t, servers, 0)
	redistest.LoadKeys(t, servers, 300, "nopw")
	r := runRCluster(t, "", "dumb", []string{"--user", "someone"}, "reshard", servers[0].Addr(),
		"--from", nodeIDOf(t, servers[0]), "--to", nodeIDOf(t, servers[1]), "--slots", "100", "--yes")
	if r.code != 0 {
		t.Fatalf("reshard --user without a password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	redistest.VerifyKeys(t, servers, 300, "nopw")
	cli := runRedisCLI(t, "", "dumb", []string{"--user", "someone"}, "reshard", servers[0].Addr(),
		"--cluster-from", nodeIDOf(t, servers[0]), "--cluster-to", nodeIDOf(t, servers[1]), "--cluster-slots", "100", "--cluster-yes")
	t.Logf("redis-cli: exit %d (its MIGRATE carries an empty argument)\n%s", cli.code, lastLinesOf(cli.stdout+cli.stderr, 4))
}

func lastLinesOf(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// Nodes that announce a host name: CLUSTER NODES has "ip:port@bus,name";
// redis-cli 7.0.15 shows and reaches the IP (parseClusterNodeAddress cuts
// the name off with the bus port), and the names given on the command line
// are resolved. On every compared build, against that build's own CLI.
func TestAnnouncedHostnamesLikeRedisCLI(t *testing.T) {
	t.Parallel()
	eachBuild(t, announcedHostnamesLikeCLI)
}

func announcedHostnamesLikeCLI(t *testing.T, build *redistest.Build) {
	t.Parallel()
	opts := redistest.Options{Count: 6, Build: build, ExtraConfig: []string{
		"cluster-announce-hostname localhost",
		"cluster-preferred-endpoint-type hostname",
	}}
	a, b := redistest.Start(t, opts), redistest.Start(t, opts)
	byName := func(s []*redistest.Server) []string {
		out := []string{"create"}
		for _, n := range s {
			out = append(out, "localhost:"+strconv.Itoa(n.Port))
		}
		return append(out, "--cluster-replicas", "1", "--cluster-yes")
	}
	twinsAlike(t, build, "create by name", nil, a, b, byName)
	requireHealthy(t, b, 1, false)
	redistest.WaitStable(t, a)
	if nodes, _ := b[0].DoString("CLUSTER", "NODES"); !strings.Contains(nodes, ",localhost ") {
		t.Fatalf("the nodes announce no host name:\n%s", nodes)
	}
	redistest.LoadKeys(t, b, 100, "host")
	for _, term := range []string{"dumb", "xterm-256color"} {
		bothToolsOn(t, build, term, nil, "check", "localhost:"+strconv.Itoa(b[1].Port))
		bothToolsOn(t, build, term, nil, "check", b[1].Addr())
		bothToolsOn(t, build, term, nil, "info", "localhost", strconv.Itoa(b[2].Port))
	}
	redistest.WaitReplicated(t, b) // call DBSIZE asks the replicas too
	bothToolsOn(t, build, "dumb", nil, "call", "localhost:"+strconv.Itoa(b[0].Port), "DBSIZE")
	redistest.LoadKeys(t, a, 100, "host")
	reshardTwins(t, build, nil, a, b, 1, 100)
}

// ipv6Loopback reports whether ::1 can be listened on.
func ipv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestIPv6LikeRedisCLI(t *testing.T) {
	t.Parallel()
	redistest.Require(t)
	if !ipv6Loopback() {
		t.Skip("no IPv6 loopback: cannot listen on [::1]:0")
	}
	opts := redistest.Options{Count: 6, Hosts: []string{"::1"}}
	a, b := redistest.Start(t, opts), redistest.Start(t, opts)
	bare := func(s *redistest.Server) string { return "::1:" + strconv.Itoa(s.Port) }
	// redis-cli's form on twin A, the bracketed form on twin B: the same text.
	want := runRedisCLI(t, "", "dumb", nil, "create", bare(a[0]), bare(a[1]), bare(a[2]), bare(a[3]), bare(a[4]), bare(a[5]), "--cluster-replicas", "1", "--cluster-yes")
	got := runRCluster(t, "", "dumb", nil, "create", b[0].Addr(), b[1].Addr(), b[2].Addr(), b[3].Addr(), b[4].Addr(), b[5].Addr(), "--replicas", "1", "--yes")
	if got.code != 0 || want.code != 0 {
		t.Fatalf("create: exit %d, redis-cli %d\n%s%s\n%s%s", got.code, want.code, got.stdout, got.stderr, want.stdout, want.stderr)
	}
	if g, w := normalizeTwin(got.stdout, b), normalizeTwin(want.stdout, a); g != w {
		t.Errorf("create: stdout differs\n--- rcluster\n%s\n--- redis-cli\n%s", g, w)
	}
	requireHealthy(t, b, 1, false)
	redistest.WaitStable(t, a)
	redistest.LoadKeys(t, a, 100, "v6")
	redistest.LoadKeys(t, b, 100, "v6")
	for _, term := range []string{"dumb", "xterm-256color"} {
		want := bothTools(t, term, nil, "check", bare(b[1]))
		if got := runRCluster(t, "", term, nil, "check", b[1].Addr()); got != want {
			t.Errorf("check [::1]:port differs from check ::1:port\n%s\n---\n%s", got.stdout, want.stdout)
		}
		bothTools(t, term, nil, "info", bare(b[2]))
		bothTools(t, term, nil, "info", "::1", strconv.Itoa(b[2].Port))
	}
	bothTools(t, "dumb", nil, "call", bare(b[0]), "DBSIZE")
	twinsAlike(t, redistest.Redis, "reshard", nil, a, b, func(s []*redistest.Server) []string {
		return []string{"reshard", bare(s[0]), "--cluster-from", nodeIDOf(t, s[0]), "--cluster-to", nodeIDOf(t, s[1]),
			"--cluster-slots", "100", "--cluster-yes"}
	})
	redistest.WaitStable(t, b)
	redistest.VerifyKeys(t, b, 100, "v6")
}
