package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// rclusterBin is the binary TestMain builds from ./cmd/rcluster.
var rclusterBin string

// BuildEnv names the servers, with their CLI, the tests run on: redis
// (redis-server and redis-cli in PATH, the default), redis-7.2.3 or
// valkey-8.0.1 (from the shared servers directory, see redistest.Build).
const BuildEnv = "RCLUSTER_E2E_BUILD"

// serverBuild is the build BuildEnv names.
var serverBuild = redistest.Redis

// cliBin is the path of the build's CLI (redis-cli, valkey-cli); the test
// skips, or fails under RCLUSTER_REQUIRE_REDIS=1, when it is missing.
func cliBin(t testing.TB) string {
	t.Helper()
	serverBuild.Require(t)
	return serverBuild.MustCLI(t)
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go env GOMOD: %v\n", err)
		return 1
	}
	if name := os.Getenv(BuildEnv); name != "" {
		serverBuild = nil
		for _, b := range []*redistest.Build{redistest.Redis, redistest.Redis72, redistest.Valkey8} {
			if b.Name == name {
				serverBuild = b
			}
		}
		if serverBuild == nil {
			fmt.Fprintf(os.Stderr, "e2e: %s=%s: use redis, redis-7.2.3 or valkey-8.0.1\n", BuildEnv, name)
			return 1
		}
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		fmt.Fprintln(os.Stderr, "e2e: not inside a Go module")
		return 1
	}
	dir, err := os.MkdirTemp("", "rcluster-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	rclusterBin = filepath.Join(dir, "rcluster")
	args := []string{"build", "-o", rclusterBin}
	if os.Getenv("RCLUSTER_E2E_RACE") == "1" {
		// A race-enabled rcluster: a data race makes it print a report on
		// stderr and exit 66, which the tests see.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/rcluster")...)
	build.Dir = filepath.Dir(gomod)
	if b, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/rcluster: %v\n%s", err, b)
		return 1
	}
	return m.Run()
}

// toolEnv is the environment both tools run with: no colors, no
// REDISCLI_AUTH or REDISCLI_CLUSTER_YES from the caller.
func toolEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "TERM=dumb", "HOME=" + os.TempDir()}
}

// result is what one run of a tool produced.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s", r.Code, r.Stdout, r.Stderr)
}

const toolTimeout = 3 * time.Minute

// runTool runs bin with args and stdin (nil: an empty stdin) and waits.
func runTool(t testing.TB, stdin string, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = toolEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("%s %s: %v (timeout %v)\n%s", filepath.Base(bin), strings.Join(args, " "), err, toolTimeout, r)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// rc runs rcluster with args and an empty stdin.
func rc(t testing.TB, args ...string) result {
	t.Helper()
	return runTool(t, "", rclusterBin, args...)
}

// rcIn runs rcluster with args and stdin.
func rcIn(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	return runTool(t, stdin, rclusterBin, args...)
}

// cli runs "redis-cli --cluster args..." with an empty stdin.
func cli(t testing.TB, args ...string) result {
	t.Helper()
	return runTool(t, "", cliBin(t), append([]string{"--cluster"}, args...)...)
}

// qa is one answer of a dialog: it is written once stdout shows prompt.
type qa struct{ prompt, answer string }

// syncBuffer is a bytes.Buffer safe for one writer and many readers, with a
// channel that is signalled on every write.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{notify: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer, from offset from, contains s, and returns
// the offset just after it.
func (b *syncBuffer) waitFor(s string, from int, deadline time.Time) (int, bool) {
	for {
		text := b.String()
		if from <= len(text) {
			if i := strings.Index(text[from:], s); i >= 0 {
				return from + i + len(s), true
			}
		}
		d := time.Until(deadline)
		if d <= 0 {
			return 0, false
		}
		select {
		case <-b.notify:
		case <-time.After(min(d, 50*time.Millisecond)):
		}
	}
}

// dialog runs bin and answers its prompts one at a time: each answer is
// written (with a newline) only after its prompt was printed, so a program
// that reads stdin with raw read(2) calls (redis-cli) gets one line per read.
// stdin is closed after the last answer.
func dialog(t testing.TB, answers []qa, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = toolEnv()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := newSyncBuffer()
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	off := 0
	for _, a := range answers {
		var ok bool
		off, ok = out.waitFor(a.prompt, off, time.Now().Add(time.Minute))
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("%s %s: prompt %q never came\n%s", filepath.Base(bin), strings.Join(args, " "), a.prompt, out.String())
		}
		if _, err := io.WriteString(in, a.answer+"\n"); err != nil {
			t.Fatalf("writing %q: %v", a.answer, err)
		}
	}
	in.Close()
	err = cmd.Wait()
	r := result{Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, r)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// cluster is a set of servers forming (or about to form) one cluster.
type cluster struct {
	t       testing.TB
	servers []*redistest.Server
}

// newCluster starts n servers and creates a cluster of the first create of
// them (0: all) with redis-cli and the given replicas.
func newCluster(t testing.TB, n, create, replicas int, extra ...string) *cluster {
	t.Helper()
	servers := redistest.Start(t, redistest.Options{Count: n, ExtraConfig: extra, Build: serverBuild})
	if create == 0 {
		create = n
	}
	redistest.Create(t, servers[:create], replicas)
	return &cluster{t: t, servers: servers}
}

func (c *cluster) s(i int) *redistest.Server { return c.servers[i] }
func (c *cluster) addr(i int) string         { return c.servers[i].Addr() }

func (c *cluster) id(i int) string {
	c.t.Helper()
	id, err := c.servers[i].ID()
	if err != nil {
		c.t.Fatalf("CLUSTER MYID on %s: %v", c.addr(i), err)
	}
	return id
}

// do sends a command to server i and fails the test on an error.
func (c *cluster) do(i int, args ...any) any {
	c.t.Helper()
	v, err := c.servers[i].Do(args...)
	if err != nil {
		c.t.Fatalf("%s: %v: %v", c.addr(i), args, err)
	}
	return v
}

// live returns the running servers.
func (c *cluster) live() []*redistest.Server {
	var out []*redistest.Server
	for _, s := range c.servers {
		if s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// members returns the running servers that are part of the cluster in
// server entry's view (entry included), in server order.
func (c *cluster) members(entry int) []*redistest.Server {
	c.t.Helper()
	lines, err := c.servers[entry].Nodes()
	if err != nil {
		c.t.Fatal(err)
	}
	known := map[string]bool{}
	for _, l := range lines {
		known[l.HostPort()] = true
	}
	var out []*redistest.Server
	for _, s := range c.servers {
		if known[s.Addr()] && s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// setOn writes the keys, value "value:"+key, on server i directly (it must
// own their slots, or be importing them with ASKING).
func (c *cluster) setOn(i int, keys ...string) {
	c.t.Helper()
	for _, k := range keys {
		c.do(i, "SET", k, "value:"+k)
	}
}

// migrate moves keys from server from to server to with MIGRATE.
func (c *cluster) migrate(from, to int, keys ...string) {
	c.t.Helper()
	args := []any{"MIGRATE", c.s(to).Host, c.s(to).Port, "", 0, 5000, "KEYS"}
	for _, k := range keys {
		args = append(args, k)
	}
	c.do(from, args...)
}

// slotsCount returns how many slots server i owns in its own view.
func (c *cluster) slotsCount(i int) int {
	c.t.Helper()
	me, err := c.servers[i].Myself()
	if err != nil {
		c.t.Fatal(err)
	}
	return len(me.SlotNumbers())
}

// norm turns one run's output into a form comparable between twin
// clusters: node IDs (full and the 8-character prefixes of info lines)
// become <idN> and addresses <addrN>, N being the server's index, and runs
// of node blocks (whose order follows the entry node's hash table) are
// sorted.
type norm struct {
	repl []string
}

func newNorm(t testing.TB, servers []*redistest.Server) *norm {
	t.Helper()
	n := &norm{}
	for i, s := range servers {
		if !s.Running() {
			continue
		}
		id, err := s.ID()
		if err != nil {
			t.Fatalf("CLUSTER MYID %s: %v", s.Addr(), err)
		}
		n.add(id, fmt.Sprintf("<id%d>", i))
		n.add(id[:8]+"...", fmt.Sprintf("<id%d>...", i))
		n.add(s.Addr(), fmt.Sprintf("<addr%d>", i))
	}
	return n
}

func (n *norm) add(old, new string) { n.repl = append(n.repl, old, new) }

var hex40 = regexp.MustCompile(`\b[0-9a-f]{40}\b`)

func (n *norm) apply(s string) string {
	s = strings.NewReplacer(n.repl...).Replace(s)
	s = hex40.ReplaceAllString(s, "<id?>")
	return sortNodeBlocks(s)
}

var blockHead = regexp.MustCompile(`^( *)[MS]: `)

// sortNodeBlocks sorts every run of consecutive node blocks ("M: id addr"
// and its more indented lines).
func sortNodeBlocks(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); {
		m := blockHead.FindStringSubmatch(lines[i])
		if m == nil {
			out = append(out, lines[i])
			i++
			continue
		}
		indent := m[1]
		var blocks []string
		for i < len(lines) {
			m := blockHead.FindStringSubmatch(lines[i])
			if m == nil || m[1] != indent {
				break
			}
			b := []string{lines[i]}
			i++
			for i < len(lines) && strings.HasPrefix(lines[i], indent+"   ") && !blockHead.MatchString(lines[i]) {
				b = append(b, lines[i])
				i++
			}
			blocks = append(blocks, strings.Join(b, "\n"))
		}
		sort.Strings(blocks)
		out = append(out, blocks...)
	}
	return strings.Join(out, "\n")
}

// sameText fails the test with a line diff when a and b differ.
func sameText(t testing.TB, what, nameA, a, nameB, b string) {
	t.Helper()
	if a == b {
		return
	}
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	first := 0
	for first < len(la) && first < len(lb) && la[first] == lb[first] {
		first++
	}
	from := max(0, first-3)
	show := func(l []string) string {
		end := min(len(l), first+8)
		if from >= end {
			return "(end)"
		}
		return strings.Join(l[from:end], "\n")
	}
	t.Errorf("%s differs (first at line %d):\n--- %s\n%s\n--- %s\n%s\n=== full %s\n%s\n=== full %s\n%s",
		what, first+1, nameA, show(la), nameB, show(lb), nameA, a, nameB, b)
}

// sameRun compares two runs' exit codes, stdout and stderr.
func sameRun(t testing.TB, nameA string, a result, nameB string, b result) {
	t.Helper()
	if a.Code != b.Code {
		t.Errorf("exit code: %s %d, %s %d\n%s: %s\n%s: %s", nameA, a.Code, nameB, b.Code, nameA, a, nameB, b)
	}
	sameText(t, "stdout", nameA, a.Stdout, nameB, b.Stdout)
	sameText(t, "stderr", nameA, a.Stderr, nameB, b.Stderr)
}

// wantCode fails the test when the run did not exit with code.
func wantCode(t testing.TB, what string, r result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("%s: exit code %d, want %d\n%s", what, r.Code, code, r)
	}
}

// contains fails the test when text lacks one of the substrings, given in
// redis-cli's words: on Valkey nodes both tools say them in valkey-cli's.
func contains(t testing.TB, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		s = serverBuild.CLIWords(s)
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

// healthy waits for the members of the cluster to be stable, requires every
// node to see no open slot and all 16384 slots covered (CLUSTER NODES and
// CLUSTER INFO on every node) and rcluster check and redis-cli check to exit
// 0 through entry.
func (c *cluster) healthy(entry int) {
	c.t.Helper()
	members := c.members(entry)
	redistest.WaitStable(c.t, members)
	for _, s := range members {
		lines, err := s.Nodes()
		if err != nil {
			c.t.Fatal(err)
		}
		covered := 0
		for _, l := range lines {
			for _, tok := range l.Slots {
				if strings.HasPrefix(tok, "[") {
					c.t.Fatalf("%s: open slot %s on %s", s.Addr(), tok, l.HostPort())
				}
			}
			covered += len(l.SlotNumbers())
		}
		if covered != 16384 {
			c.t.Fatalf("%s sees %d slots covered", s.Addr(), covered)
		}
		info, err := s.DoString("CLUSTER", "INFO")
		if err != nil {
			c.t.Fatal(err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_slots_assigned:16384", "cluster_slots_ok:16384"} {
			if !strings.Contains(info, want) {
				c.t.Fatalf("%s: CLUSTER INFO lacks %s:\n%s", s.Addr(), want, info)
			}
		}
	}
	r := rc(c.t, "check", c.addr(entry))
	wantCode(c.t, "rcluster check", r, 0)
	r = cli(c.t, "check", c.addr(entry))
	wantCode(c.t, "redis-cli check", r, 0)
}

// keysIntact checks that every key is on the master owning its slot with
// value "value:"+key, and that the masters hold no other key (no copy left
// behind on a former owner).
func (c *cluster) keysIntact(keys []string) {
	c.t.Helper()
	members := c.members(0)
	owners, err := redistest.SlotOwners(members)
	if err != nil {
		c.t.Fatal(err)
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		s := owners[redistest.KeySlot(k)]
		if s == nil {
			c.t.Fatalf("slot %d of %s has no owner", redistest.KeySlot(k), k)
		}
		v, err := s.DoString("GET", k)
		if err != nil || v != "value:"+k {
			c.t.Fatalf("key %s (slot %d) on owner %s: %q, %v", k, redistest.KeySlot(k), s.Addr(), v, err)
		}
	}
	total := 0
	for _, s := range members {
		me, err := s.Myself()
		if err != nil {
			c.t.Fatal(err)
		}
		if me.HasFlag("slave") {
			continue
		}
		all := scanAll(c.t, s)
		for _, k := range all {
			if owners[redistest.KeySlot(k)] != s {
				c.t.Errorf("%s holds key %s of slot %d that it does not own", s.Addr(), k, redistest.KeySlot(k))
			}
			if !want[k] {
				c.t.Errorf("%s holds unexpected key %s", s.Addr(), k)
			}
		}
		total += len(all)
	}
	if total != len(keys) {
		c.t.Fatalf("the masters hold %d keys, want %d", total, len(keys))
	}
}

func scanAll(t testing.TB, s *redistest.Server) []string {
	t.Helper()
	var out []string
	cursor := "0"
	for {
		v, err := s.Do("SCAN", cursor, "COUNT", 1000)
		if err != nil {
			t.Fatalf("SCAN on %s: %v", s.Addr(), err)
		}
		l := v.([]any)
		cursor = l[0].(string)
		for _, k := range l[1].([]any) {
			out = append(out, k.(string))
		}
		if cursor == "0" {
			return out
		}
	}
}

// loadKeys writes n keys with redistest.LoadKeys and returns their names.
func (c *cluster) loadKeys(n int, prefix string) []string {
	c.t.Helper()
	redistest.LoadKeys(c.t, c.members(0), n, prefix)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = redistest.KeyName(prefix, i)
	}
	return keys
}

// roles returns server entry's CLUSTER NODES lines by address.
func (c *cluster) roles(entry int) map[string]*redistest.NodeLine {
	c.t.Helper()
	lines, err := c.servers[entry].Nodes()
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]*redistest.NodeLine{}
	for _, l := range lines {
		out[l.HostPort()] = l
	}
	return out
}

// noNodeKnows fails when a running server's CLUSTER NODES lists id.
func (c *cluster) noNodeKnows(id string) {
	c.t.Helper()
	for _, s := range c.live() {
		lines, err := s.Nodes()
		if err != nil {
			c.t.Fatal(err)
		}
		me := ""
		for _, l := range lines {
			if l.HasFlag("myself") {
				me = l.ID
			}
		}
		if me == id {
			continue
		}
		for _, l := range lines {
			if l.ID == id {
				c.t.Errorf("%s still lists %s (%s %s)", s.Addr(), id, l.Addr, strings.Join(l.Flags, ","))
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// twins starts 2n servers and creates two identical clusters of n masters
// (no replicas: redis-cli places replicas at random) at the same time.
func twins(t testing.TB, n int, extra ...string) (*cluster, *cluster) {
	t.Helper()
	return twinsWithSpare(t, n, 0, extra...)
}

// twinsWithSpare is twins with spare more servers in each twin, started but
// left out of the cluster (servers n to n+spare-1).
func twinsWithSpare(t testing.TB, n, spare int, extra ...string) (*cluster, *cluster) {
	t.Helper()
	per := n + spare
	servers := redistest.Start(t, redistest.Options{Count: 2 * per, ExtraConfig: extra, Build: serverBuild})
	a, b := &cluster{t: t, servers: servers[:per]}, &cluster{t: t, servers: servers[per:]}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range []*cluster{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = redistest.CreateCluster(c.servers[:n], 0)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("creating twin clusters: %v", err)
		}
	}
	return a, b
}

// sameLayout fails when server i of a and of b do not own the same slots.
func sameLayout(t testing.TB, a, b *cluster) {
	t.Helper()
	for i := range a.servers {
		ma, err := a.servers[i].Myself()
		if err != nil {
			t.Fatal(err)
		}
		mb, err := b.servers[i].Myself()
		if err != nil {
			t.Fatal(err)
		}
		if ja, jb := strings.Join(ma.Slots, " "), strings.Join(mb.Slots, " "); ja != jb || ma.HasFlag("slave") != mb.HasFlag("slave") {
			t.Errorf("server %d: twin A %s %v, twin B %s %v", i, ma.Flags, ja, mb.Flags, jb)
		}
	}
}

// compareTwins compares a redis-cli run on twin a with an rcluster run on
// twin b after normalising IDs, addresses and node-block order, then
// applying extra normalisers to both outputs.
func compareTwins(t testing.TB, a *cluster, ra result, b *cluster, rb result, extra ...func(string) string) {
	t.Helper()
	na, nb := newNorm(t, a.servers), newNorm(t, b.servers)
	if ra.Code != rb.Code {
		t.Errorf("exit code: redis-cli %d, rcluster %d\nredis-cli: %s\nrcluster: %s", ra.Code, rb.Code, ra, rb)
	}
	outA, outB := na.apply(ra.Stdout), nb.apply(rb.Stdout)
	for _, f := range extra {
		outA, outB = f(outA), f(outB)
	}
	sameText(t, "normalised stdout", "redis-cli", outA, "rcluster", outB)
	sameText(t, "normalised stderr", "redis-cli", na.apply(ra.Stderr), "rcluster", nb.apply(rb.Stderr))
}

// sortMoves sorts the runs of rebalance moves ("Moving N slots from A to
// B" and its line of #): between twins, masters with equal balances come
// in the entry node's order, which differs.
func sortMoves(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); {
		if !strings.HasPrefix(lines[i], "Moving ") || !strings.Contains(lines[i], " slots from ") {
			out = append(out, lines[i])
			i++
			continue
		}
		var moves []string
		for i < len(lines) && strings.HasPrefix(lines[i], "Moving ") && strings.Contains(lines[i], " slots from ") {
			m := lines[i]
			i++
			if i < len(lines) && strings.HasPrefix(lines[i], "#") {
				m += "\n" + lines[i]
				i++
			}
			moves = append(moves, m)
		}
		sort.Strings(moves)
		out = append(out, moves...)
	}
	return strings.Join(out, "\n")
}
