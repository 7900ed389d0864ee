// Command capture builds cluster states on real redis-server processes, runs
// the real `redis-cli --cluster check|info` on them and writes, per
// scenario, testdata/golden/<scenario>.json: the replies of every node (INFO,
// CLUSTER NODES, DBSIZE, keys per slot) together with redis-cli's stdout,
// stderr and exit status under TERM=dumb and TERM=xterm-256color. With
// -build valkey-8.0.1 (or redis-7.2.3) the servers and the CLI are that
// build's, from the shared servers directory (redistest.ServersDir).
//
// The node replies are captured immediately before and after the redis-cli
// runs; the capture is retried when they differ (ignoring only the
// ping-sent/pong-received timestamps of CLUSTER NODES and the counters of
// INFO, which redis-cli does not use). Replies are stored verbatim.
//
// Usage (from the repository root):
//
//	go run ./internal/redistest/capture -out testdata/golden [-only a,b]
//	go run ./internal/redistest/capture -build valkey-8.0.1 -out testdata/golden/valkey-8.0.1
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

var terms = []string{"dumb", "xterm-256color"}

// build is the server and CLI the scenarios run on (-build).
var build = redistest.Redis

// env is a scenario's running cluster.
type env struct {
	sc      *scenario
	servers []*redistest.Server
	down    map[string]bool // addresses deliberately stopped
}

func (e *env) s(i int) *redistest.Server { return e.servers[i] }

func (e *env) id(i int) string {
	id, err := e.servers[i].ID()
	if err != nil {
		panic(fmt.Sprintf("%s: CLUSTER MYID: %v", e.servers[i].Addr(), err))
	}
	return id
}

func (e *env) do(i int, args ...any) error {
	_, err := e.servers[i].Do(args...)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", e.servers[i].Addr(), args, err)
	}
	return nil
}

func (e *env) stop(i int) {
	e.servers[i].Stop()
	e.down[e.servers[i].Addr()] = true
}

// setKeys writes keys (value "value:<key>") on server i directly.
func (e *env) setKeys(i int, keys ...string) error {
	for _, k := range keys {
		if err := e.do(i, "SET", k, "value:"+k); err != nil {
			return err
		}
	}
	return nil
}

// migrate moves keys from server i to server j with MIGRATE.
func (e *env) migrate(i, j int, keys ...string) error {
	t := e.servers[j]
	args := []any{"MIGRATE", t.Host, t.Port, "", 0, 5000}
	if p := t.Password(); p != "" {
		args = append(args, "AUTH", p)
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		args = append(args, k)
	}
	return e.do(i, args...)
}

// roles returns the indexes of the masters and replicas (own view).
func (e *env) roles() (masters, replicas []int) {
	for i, s := range e.servers {
		if e.down[s.Addr()] {
			continue
		}
		me, err := s.Myself()
		if err != nil {
			panic(err)
		}
		if me.HasFlag("slave") {
			replicas = append(replicas, i)
		} else {
			masters = append(masters, i)
		}
	}
	return
}

// replicaOf returns the index of a replica of master m.
func (e *env) replicaOf(m int) int {
	id := e.id(m)
	_, reps := e.roles()
	for _, r := range reps {
		me, _ := e.servers[r].Myself()
		if me.MasterID == id {
			return r
		}
	}
	panic(fmt.Sprintf("no replica of %s", e.servers[m].Addr()))
}

// waitFor polls cond until it returns nil.
func waitFor(what string, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// viewFlags returns the flags server i's CLUSTER NODES shows for node addr.
func (e *env) viewFlags(i int, addr string) (string, error) {
	lines, err := e.servers[i].Nodes()
	if err != nil {
		return "", err
	}
	for _, l := range lines {
		if l.HostPort() == addr {
			return strings.Join(l.Flags, ","), nil
		}
	}
	return "", fmt.Errorf("%s does not know %s", e.servers[i].Addr(), addr)
}

// replicasSynced waits until every live replica of a live master has its
// link up and as many keys as its master.
func (e *env) replicasSynced() error {
	return waitFor("replicas in sync", 30*time.Second, func() error {
		for _, s := range e.servers {
			if !s.Running() {
				continue
			}
			me, err := s.Myself()
			if err != nil {
				return err
			}
			if !me.HasFlag("slave") {
				continue
			}
			var master *redistest.Server
			lines, _ := s.Nodes()
			for _, l := range lines {
				if l.ID == me.MasterID {
					for _, t := range e.servers {
						if t.Addr() == l.HostPort() && t.Running() {
							master = t
						}
					}
				}
			}
			if master == nil {
				continue
			}
			info, err := s.DoString("INFO", "replication")
			if err != nil {
				return err
			}
			if !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("%s: link down", s.Addr())
			}
			a, _ := s.DoInt("DBSIZE")
			b, _ := master.DoInt("DBSIZE")
			if a != b {
				return fmt.Errorf("%s has %d keys, its master %d", s.Addr(), a, b)
			}
		}
		return nil
	})
}

type runSpec struct {
	args     []string
	password string
}

type scenario struct {
	name, desc string
	base       int // port of the first server
	count      int
	hosts      []string
	password   string
	timeoutMS  int
	extra      []string
	replicas   int
	createN    int // servers passed to create (default: all)
	build      func(e *env) error
	// runs returns the runs besides the default check and info through
	// the first server.
	runs     func(e *env) []runSpec
	validate func(e *env, f *redistest.Fixture) error
}

func main() {
	log.SetFlags(log.Ltime)
	out := flag.String("out", "testdata/golden", "directory for the fixture files")
	only := flag.String("only", "", "comma-separated scenario names (default all)")
	workDir := flag.String("workdir", filepath.Join(os.TempDir(), "rcluster-capture"), "directory for the servers' files (wiped per scenario)")
	buildName := flag.String("build", "redis", "servers and CLI: redis (in PATH), redis-7.2.3 or valkey-8.0.1 (shared servers directory)")
	flag.Parse()
	for _, b := range []*redistest.Build{redistest.Redis, redistest.Redis72, redistest.Valkey8} {
		if b.Name == *buildName {
			build = b
		}
	}
	if build.Name != *buildName {
		log.Fatalf("unknown build %q", *buildName)
	}
	if err := build.Available(); err != nil {
		log.Fatal(err)
	}
	cliPath, _ := build.CLIPath()
	version, err := exec.Command(cliPath, "--version").Output()
	if err != nil {
		log.Fatalf("%s --version: %v", cliPath, err)
	}
	cliVersion = strings.TrimSpace(string(version))
	log.Printf("capturing with %s", cliVersion)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	var failed []string
	seen := map[string]bool{}
	for _, sc := range scenarios() {
		seen[sc.name] = true
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		log.Printf("== %s", sc.name)
		fx, err := capture(sc, filepath.Join(*workDir, sc.name))
		if err != nil {
			log.Printf("!! %s: %v", sc.name, err)
			failed = append(failed, sc.name)
			continue
		}
		b, err := reindent(fx)
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, sc.name+".json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", path)
	}
	for n := range want {
		if seen[n] {
			continue
		}
		log.Printf("!! unknown scenario %q", n)
		failed = append(failed, n)
	}
	_ = os.RemoveAll(*workDir)
	if len(failed) > 0 {
		log.Fatalf("failed: %s", strings.Join(failed, ", "))
	}
}

// reindent renders the fixture with two-space indentation and without HTML
// escaping (CLUSTER NODES has "->-" and "-<-" markers).
func reindent(fx *redistest.Fixture) ([]byte, error) {
	raw, err := marshal(fx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// capture builds the scenario (up to 3 times from scratch) and captures it.
func capture(sc *scenario, dir string) (*redistest.Fixture, error) {
	var errs []error
	for attempt := 1; attempt <= 3; attempt++ {
		fx, err := captureOnce(sc, dir)
		if err == nil {
			return fx, nil
		}
		log.Printf("   attempt %d: %v", attempt, err)
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func captureOnce(sc *scenario, dir string) (fx *redistest.Fixture, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	ports := make([]int, sc.count)
	for i := range ports {
		ports[i] = sc.base + i
	}
	timeout := sc.timeoutMS
	if timeout == 0 {
		timeout = 2000
	}
	servers, err := redistest.StartProcs(redistest.Options{
		Build: build,
		Count: sc.count, Hosts: sc.hosts, Password: sc.password,
		NodeTimeoutMS: timeout, ExtraConfig: sc.extra, Ports: ports,
	}, dir)
	if err != nil {
		return nil, err
	}
	defer redistest.StopAll(servers)
	e := &env{sc: sc, servers: servers, down: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	n := sc.createN
	if n == 0 {
		n = sc.count
	}
	if err := redistest.CreateCluster(servers[:n], sc.replicas); err != nil {
		return nil, err
	}
	if sc.build != nil {
		if err := sc.build(e); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	specs := []runSpec{
		{args: []string{"check", servers[0].Addr()}, password: sc.password},
		{args: []string{"info", servers[0].Addr()}, password: sc.password},
	}
	if sc.runs != nil {
		specs = append(specs, sc.runs(e)...)
	}
	for try := 1; try <= 5; try++ {
		if err := waitQuiet(e); err != nil {
			return nil, err
		}
		before, err := snapshot(e)
		if err != nil {
			return nil, err
		}
		var runs []*redistest.FixtureRun
		for _, sp := range specs {
			for _, term := range terms {
				r, err := runCLI(sp, term)
				if err != nil {
					return nil, err
				}
				runs = append(runs, r)
			}
		}
		after, err := snapshot(e)
		if err != nil {
			return nil, err
		}
		if d := diff(before, after); d != "" {
			log.Printf("   try %d: the nodes changed during the runs: %s", try, d)
			continue
		}
		fx := &redistest.Fixture{Scenario: sc.name, Description: sc.desc, CLI: cliVersion, Nodes: before, Runs: runs}
		if err := validateTerms(fx); err != nil {
			log.Printf("   try %d: %v", try, err)
			continue
		}
		if sc.validate != nil {
			if err := sc.validate(e, fx); err != nil {
				log.Printf("   try %d: scenario not shown: %v", try, err)
				continue
			}
		}
		return fx, nil
	}
	return nil, errors.New("no consistent capture")
}

// waitQuiet waits until two snapshots a second apart are equal.
func waitQuiet(e *env) error {
	prev, err := snapshot(e)
	if err != nil {
		return err
	}
	var last string
	for i := 0; i < 30; i++ {
		time.Sleep(time.Second)
		cur, err := snapshot(e)
		if err != nil {
			return err
		}
		if last = diff(prev, cur); last == "" {
			return nil
		}
		prev = cur
	}
	return fmt.Errorf("the nodes never settled: %s", last)
}

func snapshot(e *env) (map[string]*redistest.FixtureNode, error) {
	out := map[string]*redistest.FixtureNode{}
	for _, s := range e.servers {
		if e.down[s.Addr()] || !s.Running() {
			out[s.Addr()] = &redistest.FixtureNode{Down: true}
			continue
		}
		n, err := snapshotNode(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Addr(), err)
		}
		out[s.Addr()] = n
	}
	return out, nil
}

func snapshotNode(s *redistest.Server) (*redistest.FixtureNode, error) {
	n := &redistest.FixtureNode{CountKeysInSlot: map[string]int64{}, GetKeysInSlot: map[string][]string{}}
	var err error
	if n.Info, err = s.DoString("INFO"); err != nil {
		return nil, err
	}
	if n.ClusterNodes, err = s.DoString("CLUSTER", "NODES"); err != nil {
		return nil, err
	}
	if n.DBSize, err = s.DoInt("DBSIZE"); err != nil {
		return nil, err
	}
	ctx := context.Background()
	pipe := s.Client().Pipeline()
	for slot := 0; slot < 16384; slot++ {
		pipe.ClusterCountKeysInSlot(ctx, slot)
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		return nil, err
	}
	for slot, c := range cmds {
		v, err := c.(interface{ Result() (int64, error) }).Result()
		if err != nil {
			return nil, err
		}
		if v > 0 {
			n.CountKeysInSlot[strconv.Itoa(slot)] = v
			keys, err := s.Client().ClusterGetKeysInSlot(ctx, slot, 10).Result()
			if err != nil {
				return nil, err
			}
			n.GetKeysInSlot[strconv.Itoa(slot)] = keys
		}
	}
	return n, nil
}

// diff compares two snapshots on everything redis-cli's check and info use:
// CLUSTER NODES without the ping-sent and pong-received columns, DBSIZE,
// the keys per slot, and the stable fields of INFO.
func diff(a, b map[string]*redistest.FixtureNode) string {
	var out []string
	for addr, x := range a {
		y := b[addr]
		switch {
		case y == nil || x.Down != y.Down:
			out = append(out, addr+": up/down")
		case x.Down:
		default:
			if p, q := normNodes(x.ClusterNodes), normNodes(y.ClusterNodes); p != q {
				out = append(out, fmt.Sprintf("%s: CLUSTER NODES\n%s\n->\n%s", addr, p, q))
			}
			if p, q := normInfo(x.Info), normInfo(y.Info); p != q {
				out = append(out, fmt.Sprintf("%s: INFO %s -> %s", addr, p, q))
			}
			if x.DBSize != y.DBSize {
				out = append(out, fmt.Sprintf("%s: DBSIZE %d -> %d", addr, x.DBSize, y.DBSize))
			}
			if fmt.Sprint(x.CountKeysInSlot) != fmt.Sprint(y.CountKeysInSlot) || fmt.Sprint(x.GetKeysInSlot) != fmt.Sprint(y.GetKeysInSlot) {
				out = append(out, addr+": keys per slot")
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func normNodes(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		f := strings.Split(l, " ")
		if len(f) > 5 {
			f[4], f[5] = "*", "*"
		}
		lines[i] = strings.Join(f, " ")
	}
	return strings.Join(lines, "\n")
}

var stableInfo = []string{"redis_version:", "role:", "connected_slaves:", "master_host:", "master_port:", "master_link_status:", "cluster_enabled:", "db0:"}

func normInfo(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\r\n") {
		for _, p := range stableInfo {
			if strings.HasPrefix(l, p) {
				keep = append(keep, l)
			}
		}
	}
	return strings.Join(keep, " ")
}

func runCLI(sp runSpec, term string) (*redistest.FixtureRun, error) {
	var args []string
	if sp.password != "" {
		args = append(args, "-a", sp.password)
	}
	args = append(args, "--cluster")
	args = append(args, sp.args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path, err := build.CLIPath()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TERM=" + term}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("%s %v: %w", build.CLI, args, err)
	}
	return &redistest.FixtureRun{Args: sp.args, Password: sp.password, Term: term, Stdout: stdout.String(), Stderr: stderr.String(), Exit: cmd.ProcessState.ExitCode()}, nil
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// validateTerms checks that the coloured runs differ from the plain ones
// only by escape sequences, and that they have some.
func validateTerms(fx *redistest.Fixture) error {
	for i := 0; i+1 < len(fx.Runs); i += 2 {
		p, c := fx.Runs[i], fx.Runs[i+1]
		if p.Term != "dumb" || c.Term != "xterm-256color" {
			return errors.New("runs out of order")
		}
		if ansi.ReplaceAllString(c.Stdout, "") != p.Stdout || c.Stderr != p.Stderr || c.Exit != p.Exit {
			return fmt.Errorf("%v: the coloured run differs from the plain one", p.Args)
		}
		if p.Stdout != "" && !strings.Contains(c.Stdout, "\x1b[") {
			return fmt.Errorf("%v: no colours under %s", p.Args, c.Term)
		}
	}
	return nil
}

// plain returns the TERM=dumb run with the given args (and password).
func plain(fx *redistest.Fixture, password string, args ...string) (*redistest.FixtureRun, error) {
	for _, r := range fx.Runs {
		if r.Term == "dumb" && slices.Equal(r.Args, args) && r.Password == password {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no run %v", args)
}

// expect checks the plain run for the exit status and the given substrings
// of stdout (a leading "!" means: must not appear; "stderr:" checks stderr).
func expect(fx *redistest.Fixture, password string, args []string, exit int, subs ...string) error {
	r, err := plain(fx, password, args...)
	if err != nil {
		return err
	}
	if r.Exit != exit {
		return fmt.Errorf("%v: exit %d, want %d\n%s%s", args, r.Exit, exit, r.Stdout, r.Stderr)
	}
	for _, s := range subs {
		s = build.CLIWords(s)
		text := r.Stdout
		neg := strings.HasPrefix(s, "!")
		s = strings.TrimPrefix(s, "!")
		if after, ok := strings.CutPrefix(s, "stderr:"); ok {
			text, s = r.Stderr, after
		}
		if strings.Contains(text, s) == neg {
			return fmt.Errorf("%v: output has %q = %v, want %v\n%s%s", args, s, !neg, !neg, r.Stdout, r.Stderr)
		}
	}
	return nil
}

// cliVersion is what the CLI's --version printed.
var cliVersion string

func check(e *env, extra ...string) []string {
	return append([]string{"check", e.s(0).Addr()}, extra...)
}
