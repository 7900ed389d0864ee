package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	slotset "github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// The fault suite (issue 16): a slot move is interrupted by a real fault
// while a cluster client writes, then one "rcluster fix --yes" must heal
// the cluster: check exits 0, every acknowledged write reads back from the
// slot's owner with its latest value, and a second fix finds nothing to do.
// docs/reliability.md holds the scenarios and their results.

// knownBroken gates the scenarios that do not heal today. They still run
// and log what is wrong (the state the fault left, what fix did, the lost
// writes) before they skip with the reason. Delete an entry once its
// scenario heals (a gated scenario whose runs all heal passes with a note).
var knownBroken = map[string]string{}

// Knobs for investigating: faultSeedEnv fixes the seed of the random kill
// points (default: the clock; every run logs its seed); faultRunsEnv runs
// every scenario that many times; faultFixArgsEnv adds flags to the first
// fix (e.g. "--fix-with-unreachable-masters", "--replace") to try a repair.
const (
	faultSeedEnv    = "RCLUSTER_FAULT_SEED"
	faultRunsEnv    = "RCLUSTER_FAULT_RUNS"
	faultFixArgsEnv = "RCLUSTER_FAULT_FIX_ARGS"
)

// The layout of every scenario: a cluster created by redis-cli (server 0
// owns 0-5460, server 1 5461-10922, server 2 the rest), moving slots 0 to
// zoneSlots-1 from server 0 (src) to server 1 (dst). The writer's hot keys
// and every other new key hash to those slots; zoneBig, the third slot
// moved, holds bigKeys keys, moved one per MIGRATE (--pipeline 1): the
// window in which most faults strike.
const (
	zoneSlots   = 64
	preloadKeys = 1500
	bigKeys     = 300
	src, dst    = 0, 1
	entryNode   = 2 // the uninvolved master: every command goes through it
)

const zoneBig = 2

// rebalanceSlots is about how many slots "rebalance --weight <src>=0.9"
// moves to each of the two other masters (src's first ones; the first
// move's slots include the zone).
const rebalanceSlots = 188

// faultScenario is one kind of fault. inject starts the move, strikes,
// and returns once the move ended (or was killed); the run then waits for
// the cluster to settle and repairs it with fix --yes and fixArgs.
type faultScenario struct {
	name     string
	runs     int
	replicas bool // 3 masters + 3 replicas (else 3 masters)
	// nodeTimeoutMS is cluster-node-timeout (default 2000).
	nodeTimeoutMS int
	inject        func(f *faultRun)
	fixArgs       []string
	// wantProblems are problem kinds check -o json must report before the
	// repair; wantOnValkey replaces them on Valkey 8, whose replicas
	// inherit their master's slot states, so that a promoted replica keeps
	// the slots open where a Redis one leaves them stranded.
	wantProblems, wantOnValkey []string
}

// faultRun is one run of a scenario on a fresh cluster.
type faultRun struct {
	t    *testing.T
	c    *cluster
	w    *writer
	rng  *rand.Rand
	move *exec.Cmd
	out  *syncBuffer
	errs *lockedWriter
	// moveExit is the exit code of the move (-1: killed by the test).
	moveExit int
	// kind is the move the faults strike: "reshard" (default) or "rebalance".
	kind string
	// entry is the server the repair goes through: entryNode, unless the
	// fault took it down (a rebalance's target can be entryNode).
	entry int
	notes []string
}

func (f *faultRun) note(format string, args ...any) {
	f.notes = append(f.notes, fmt.Sprintf(format, args...))
}

func faultScenarios() []faultScenario {
	return []faultScenario{
		{name: "reshard/kill-rcluster", runs: 10, inject: func(f *faultRun) {
			f.killRclusterAtRandom("reshard", zoneSlots)
		}},
		{name: "reshard/kill-rcluster-first-slot", runs: 8, inject: func(f *faultRun) {
			f.killRclusterAtRandom("reshard", 1)
		}},
		{name: "rebalance/kill-rcluster", runs: 10, inject: func(f *faultRun) {
			f.killRclusterAtRandom("rebalance", 0)
		}},
		{name: "reshard/kill-source-master", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.killMasterMidMove(src)
		}},
		{name: "reshard/kill-target-master", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.killMasterMidMove(dst)
		}},
		{name: "reshard/failover-source-replica", runs: 1, replicas: true, wantProblems: []string{"open_slots", "open_slot_peer_gone", "cluster_state_fail"}, wantOnValkey: []string{"open_slots"}, inject: func(f *faultRun) {
			f.failoverMidMove(src)
		}},
		{name: "reshard/failover-target-replica", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.failoverMidMove(dst)
		}},
		{name: "reshard/target-hung-past-timeout", runs: 1, nodeTimeoutMS: 6000, inject: func(f *faultRun) {
			f.hangTargetMidMove()
		}},
		// The same faults in a rebalance (which moves slots 0, 1, 2... of
		// the source, a "#" per slot): on the source's side, and a hung
		// target (the first move's).
		{name: "rebalance/kill-source-master", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.killMasterMidMove(src)
		}},
		{name: "rebalance/failover-source-replica", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.failoverMidMove(src)
		}},
		{name: "rebalance/target-hung-past-timeout", runs: 1, nodeTimeoutMS: 6000, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.hangTargetMidMove()
		}},
		{name: "rebalance/kill-target-master", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.killMasterMidMove(dst)
		}},
		{name: "rebalance/failover-target-replica", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.failoverMidMove(dst)
		}},
		{name: "rebalance/del-node-crashed-source", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.kind = "rebalance"
			f.delNode(f.killMasterMidMove(src))
		}},
		{name: "reshard/del-node-crashed-source", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.delNode(f.killMasterMidMove(src))
		}},
		{name: "reshard/del-node-crashed-target", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.delNode(f.killMasterMidMove(dst))
		}},
		// What del-node refuses, done by hand (CLUSTER FORGET on every node,
		// as with redis-cli --cluster call): the open slots close, and the
		// keys already moved are stranded on a node that does not own them.
		{name: "reshard/forget-crashed-source", runs: 1, replicas: true, wantProblems: []string{"stranded_keys"}, wantOnValkey: []string{"open_slots"}, inject: func(f *faultRun) {
			f.forgetNode(f.killMasterMidMove(src))
		}},
		{name: "reshard/forget-crashed-target", runs: 1, replicas: true, inject: func(f *faultRun) {
			f.forgetNode(f.killMasterMidMove(dst))
		}},
	}
}

// TestFaults runs every fault scenario (see the comment at the top).
func TestFaults(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(faultSeedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", faultSeedEnv, v, err)
		}
	}
	t.Logf("seed %d (%s=%d repeats these runs)", seed, faultSeedEnv, seed)
	for _, sc := range faultScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, sc, seed)
		})
	}
}

// runResult is how one run ended.
type runResult struct {
	seed       uint64
	healed     bool
	problems   []string
	acked      int
	lost       int
	stateLeft  string
	fixOutput  string
	fixedState string
}

func runScenario(t *testing.T, sc faultScenario, seed uint64) {
	if v := os.Getenv(faultRunsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", faultRunsEnv, v)
		}
		sc.runs = n
	}
	if v := os.Getenv(faultFixArgsEnv); v != "" {
		sc.fixArgs = append(sc.fixArgs, strings.Fields(v)...)
	}
	results := make([]runResult, sc.runs)
	// The runs are parallel subtests of one group, which returns when all
	// ended (go test -parallel bounds how many run at once).
	t.Run("runs", func(t *testing.T) {
		for run := range results {
			t.Run(strconv.Itoa(run), func(t *testing.T) {
				t.Parallel()
				results[run] = runFault(t, sc, seed+uint64(run))
			})
		}
	})
	failed, acked, lost := 0, 0, 0
	for i, r := range results {
		acked += r.acked
		lost += r.lost
		if r.healed {
			continue
		}
		failed++
		t.Logf("run %d (seed %d) not healed: %s\n--- state the fault left:\n%s\n--- fix --yes:\n%s\n--- state after fix:\n%s",
			i, r.seed, strings.Join(r.problems, "; "), r.stateLeft, r.fixOutput, r.fixedState)
	}
	t.Logf("RESULT %s: %d runs, %d healed by one fix, %d acknowledged keys, %d lost", sc.name, len(results), len(results)-failed, acked, lost)
	reason, gated := knownBroken[sc.name]
	switch {
	case failed > 0 && gated:
		t.Skipf("%s (%d of %d runs not healed, %d acknowledged keys lost)", reason, failed, len(results), lost)
	case failed > 0:
		t.Errorf("%d of %d runs not healed", failed, len(results))
	case gated:
		// Not an error: some of these failures depend on timing.
		t.Logf("NOTE: every run healed although knownBroken[%q] is set; delete the entry once it heals for good", sc.name)
	}
}

// runFault runs the scenario once on a fresh cluster and reports what
// happened; it fails t only when the test itself cannot go on.
func runFault(t *testing.T, sc faultScenario, seed uint64) runResult {
	timeout := sc.nodeTimeoutMS
	if timeout == 0 {
		timeout = 2000
	}
	n, replicas := 3, 0
	if sc.replicas {
		n, replicas = 6, 1
	}
	// DEBUG is off as in a default Redis 7 (redistest turns it on).
	c := newCluster(t, n, 0, replicas, "cluster-node-timeout "+strconv.Itoa(timeout), "enable-debug-command no")
	for i, want := range []int{0, 5461, 10923} {
		if me, err := c.s(i).Myself(); err != nil || len(me.Slots) == 0 || !strings.HasPrefix(me.Slots[0], strconv.Itoa(want)+"-") {
			t.Fatalf("server %d does not own slots from %d: %v %v", i, want, me, err)
		}
	}
	names := map[string]string{}
	for i := range c.servers {
		names[c.id(i)] = "server " + strconv.Itoa(i)
	}
	zone := make([]int, zoneSlots)
	for i := range zone {
		zone[i] = i
	}
	w := startWriterOn(t, c, zone)
	f := &faultRun{t: t, c: c, w: w, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), entry: entryNode}
	var pre []string
	for i := 0; i < preloadKeys; i++ {
		pre = append(pre, "pre"+w.newKey(i))
	}
	for i := 0; i < bigKeys; i++ {
		pre = append(pre, f.bigKey(i))
	}
	w.preload(t, c, pre)
	waitWrites(t, w, 100)

	sc.inject(f)
	r := runResult{seed: seed}
	if f.move != nil {
		f.note("the move exited %d; its last output: %q; stderr: %q", f.moveExit, lastLines(f.out.String(), 2), strings.TrimSpace(f.errs.String()))
		// A move that failed names the repair (issue 16).
		if f.moveExit == 1 && !strings.Contains(f.errs.String(), "Run 'rcluster fix ") {
			t.Errorf("the failed move did not name the repair; stderr:\n%s", f.errs.String())
		}
	}
	// Let the cluster settle as far as it can before the repair (the
	// failover of a dead master, the propagation of epochs).
	if err := redistest.WaitStableErr(c.live(), 10*time.Second); err != nil {
		f.note("before fix: %v", firstLine(err.Error()))
	}
	want := sc.wantProblems
	if serverBuild == redistest.Valkey8 {
		want = sc.wantOnValkey
	}
	if len(want) > 0 {
		found := map[string]bool{}
		cr := rc(t, "check", c.addr(f.entry), "-o", "json")
		var doc struct {
			Problems []struct{ Kind string } `json:"problems"`
		}
		if err := json.Unmarshal([]byte(cr.Stdout), &doc); err != nil {
			t.Errorf("check -o json before the repair: %v\n%s", err, cr)
		}
		for _, p := range doc.Problems {
			found[p.Kind] = true
		}
		for _, k := range want {
			if !found[k] {
				t.Errorf("check -o json before the repair does not report %s:\n%s", k, cr.Stdout)
			}
		}
	}
	r.stateLeft = strings.Join(f.notes, "\n") + "\n" + describeState(c, names)
	t.Log(strings.Join(f.notes, "; "))

	args := append([]string{"fix", c.addr(f.entry), "--yes", "--timeout", "5000", "--settle-timeout", "20s"}, sc.fixArgs...)
	fix := rc(t, args...)
	r.fixOutput = fmt.Sprintf("rcluster %s: exit %d\n%s%s", strings.Join(args, " "), fix.Code, fixSteps(fix.Stdout), fix.Stderr)
	if fix.Code != 0 {
		r.problems = append(r.problems, fmt.Sprintf("fix --yes exited %d", fix.Code))
	}
	if err := redistest.WaitStableErr(c.members(f.entry), 10*time.Second); err != nil {
		r.problems = append(r.problems, "not stable after fix: "+firstLine(err.Error()))
	}
	w.halt()
	t.Log(w.summary())
	for _, e := range w.fatal {
		t.Errorf("writer: error reply: %s", e)
	}
	check := rc(t, "check", c.addr(f.entry))
	if check.Code != 0 {
		r.problems = append(r.problems, fmt.Sprintf("check exited %d: %s", check.Code, problemLines(check.Stdout)))
	}
	wc, err := w.check(c.servers)
	if err != nil {
		t.Fatal(err)
	}
	r.acked, r.lost = wc.acked, wc.lost()
	if wc.lost() > 0 {
		r.problems = append(r.problems, "lost writes: "+wc.String())
	}
	second := rc(t, "fix", c.addr(f.entry), "--yes")
	if second.Code != 0 || problemLines(second.Stdout) != "" {
		r.problems = append(r.problems, fmt.Sprintf("a second fix --yes exited %d: %s", second.Code, problemLines(second.Stdout)))
	}
	if r.lost > 0 {
		// Whether the keys are gone for good or only out of reach.
		if again, err := w.check(c.servers); err == nil {
			r.problems = append(r.problems, "after the second fix: "+again.String())
		}
	}
	r.fixedState = describeState(c, names)
	r.healed = len(r.problems) == 0
	t.Logf("seed %d: %s; %s", seed, map[bool]string{true: "healed", false: "NOT healed"}[r.healed], wc)
	return r
}

// fixSteps is fix's output from the check of open slots on (the summary
// and node list before it say nothing the state dump does not).
func fixSteps(out string) string {
	if i := strings.Index(out, "[ERR] Nodes don't agree"); i >= 0 {
		return out[i:]
	}
	if i := strings.Index(out, ">>> Check for open slots"); i >= 0 {
		return out[i:]
	}
	return out
}

// repairLines are the starts of the lines check and fix print about a
// problem or a repair.
var repairLines = []string{"[ERR]", "[WARNING]", "*** ", ">>> Fixing", ">>> Covering", ">>> Case", ">>> Setting", "Moving slot"}

// problemLines returns the lines of out about a problem or a repair.
func problemLines(out string) string {
	var found []string
	for _, l := range strings.Split(out, "\n") {
		for _, p := range repairLines {
			if strings.HasPrefix(strings.TrimSpace(l), p) {
				found = append(found, strings.TrimSpace(l))
				break
			}
		}
	}
	return strings.Join(found, " | ")
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// describeState returns what the live nodes say: each one's CLUSTER NODES
// line of itself (open slots included), its cluster_state, the nodes it
// sees failed, and for masters the keys held in slots they do not own.
func describeState(c *cluster, names map[string]string) string {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return fmt.Sprintf("%.8s", id)
	}
	var b strings.Builder
	for i, s := range c.servers {
		if !s.Running() {
			fmt.Fprintf(&b, "server %d %s: down\n", i, s.Addr())
			continue
		}
		raw, err := s.DoString("CLUSTER", "NODES")
		if err != nil {
			fmt.Fprintf(&b, "server %d %s: CLUSTER NODES: %v\n", i, s.Addr(), err)
			continue
		}
		lines, _ := redistest.ParseClusterNodes(raw)
		info, _ := s.DoString("CLUSTER", "INFO")
		state, _ := node.InfoField(info, "cluster_state")
		var me *redistest.NodeLine
		var failed []string
		for _, l := range lines {
			if l.HasFlag("myself") {
				me = l
			} else if l.HasFlag("fail") || l.HasFlag("fail?") {
				failed = append(failed, l.HostPort()+" "+strings.Join(l.Flags, ","))
			}
		}
		if me == nil {
			continue
		}
		role := "master"
		if me.HasFlag("slave") {
			role = "replica of " + name(me.MasterID)
		}
		fmt.Fprintf(&b, "server %d %s %s id %.8s state %s slots %s", i, s.Addr(), role, me.ID, state, slotTokens(me.Slots, name))
		if len(failed) > 0 {
			fmt.Fprintf(&b, "; sees failed: %s", strings.Join(failed, ", "))
		}
		// Who this node thinks owns its open slots: an importing node
		// ignores the owner changes of those slots that others announce.
		owner := map[int]string{}
		for _, l := range lines {
			for _, slot := range l.SlotNumbers() {
				owner[slot] = name(l.ID)
				if l.HasFlag("slave") {
					owner[slot] += " (a replica)"
				} else if l.HasFlag("fail") {
					owner[slot] += " (failed)"
				}
			}
		}
		seen := map[string][]int{}
		var order []string
		for _, tok := range me.Slots {
			if !strings.HasPrefix(tok, "[") {
				continue
			}
			slot, _ := strconv.Atoi(strings.Trim(strings.SplitN(tok, "-", 2)[0], "["))
			o, ok := owner[slot]
			if !ok {
				o = "nobody"
			}
			if _, dup := seen[o]; !dup {
				order = append(order, o)
			}
			seen[o] = append(seen[o], slot)
		}
		for _, o := range order {
			set := slotset.SlotsOf(seen[o]...)
			fmt.Fprintf(&b, "; sees open slots %s owned by %s", set.String(), o)
		}
		if role == "master" {
			owned := map[int]bool{}
			for _, slot := range me.SlotNumbers() {
				owned[slot] = true
			}
			stranded := map[int]int{}
			v, err := s.Do("SCAN", "0", "COUNT", 100000)
			if err == nil {
				for _, k := range v.([]any)[1].([]any) {
					if slot := redistest.KeySlot(k.(string)); !owned[slot] {
						stranded[slot]++
					}
				}
			}
			if len(stranded) > 0 {
				slots := make([]int, 0, len(stranded))
				n := 0
				for slot, k := range stranded {
					slots = append(slots, slot)
					n += k
				}
				set := slotset.SlotsOf(slots...)
				fmt.Fprintf(&b, "; %d keys in %d slots it does not own %s", n, len(slots), set.String())
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// slotTokens prints the slot tokens of a CLUSTER NODES line with the open
// slots grouped: "[0->-id] [1->-id]" becomes "migrating 0,1 to server 1".
func slotTokens(tokens []string, name func(id string) string) string {
	var plain []string
	var order []string
	open := map[string][]int{}
	for _, tok := range tokens {
		if !strings.HasPrefix(tok, "[") {
			plain = append(plain, tok)
			continue
		}
		slot, rest, _ := strings.Cut(strings.Trim(tok, "[]"), "-")
		n, _ := strconv.Atoi(slot)
		var what string
		if id, ok := strings.CutPrefix(rest, ">-"); ok {
			what = "migrating to " + name(id)
		} else {
			what = "importing from " + name(strings.TrimPrefix(rest, "<-"))
		}
		if _, seen := open[what]; !seen {
			order = append(order, what)
		}
		open[what] = append(open[what], n)
	}
	out := strings.Join(plain, " ")
	for _, what := range order {
		set := slotset.SlotsOf(open[what]...)
		out += fmt.Sprintf("; %s %s", what, set.String())
	}
	return out
}

// startMove starts "rcluster reshard" of the zone from src to dst (or
// "rcluster rebalance" giving about 380 slots of src, its first ones, to
// the other masters), one key per MIGRATE, with bounded waits.
func (f *faultRun) startMove(kind string, extra ...string) {
	f.t.Helper()
	c := f.c
	var args []string
	switch kind {
	case "reshard":
		args = []string{"reshard", c.addr(entryNode), "--from", c.id(src), "--to", c.id(dst),
			"--slots", strconv.Itoa(zoneSlots), "--yes"}
	case "rebalance":
		args = []string{"rebalance", c.addr(entryNode), "--weight", c.id(src) + "=0.9", "--parallel", "1"}
	}
	args = append(args, "--pipeline", "1", "--settle-timeout", "20s")
	args = append(args, extra...)
	f.move = exec.Command(rclusterBin, args...)
	f.move.Env = toolEnv()
	f.out, f.errs = newSyncBuffer(), &lockedWriter{}
	f.move.Stdout, f.move.Stderr = f.out, f.errs
	if err := f.move.Start(); err != nil {
		f.t.Fatal(err)
	}
	cmd := f.move
	f.t.Cleanup(func() { _ = cmd.Process.Kill() })
}

// waitMoving waits until the move printed dots of slot's keys after its
// "Moving slot" line (dots 0: the line itself; not the line of the plan,
// which names the source by ID) and reports whether it did.
func (f *faultRun) waitMoving(slot, dots int) bool {
	header := fmt.Sprintf("Moving slot %d from %s to ", slot, f.c.addr(src))
	off, ok := f.out.waitFor(header, 0, time.Now().Add(20*time.Second))
	if ok && dots > 0 {
		_, ok = f.out.waitFor(strings.Repeat(".", dots), off, time.Now().Add(20*time.Second))
	}
	return ok
}

// waitMove waits (at most d) for the move to exit; past d it kills it.
func (f *faultRun) waitMove(d time.Duration) {
	done := make(chan error, 1)
	go func() { done <- f.move.Wait() }()
	select {
	case err := <-done:
		f.moveExit = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			f.moveExit = ee.ExitCode()
		}
	case <-time.After(d):
		_ = f.move.Process.Kill()
		<-done
		f.moveExit = -1
		f.note("the move did not end within %v: killed", d)
	}
}

// killRclusterAtRandom kills the move (SIGKILL) at a random point, then
// a random delay up to 5ms: in a reshard after a random number of the
// keys of a random slot among the zone's first slots (in the first slot:
// after at most 2 keys); in a rebalance (which prints a # per slot) after
// a random number of slots moved.
func (f *faultRun) killRclusterAtRandom(kind string, slots int) {
	f.startMove(kind)
	delay := time.Duration(f.rng.IntN(5000)) * time.Microsecond
	var reached bool
	var where string
	if kind == "rebalance" {
		slots := f.rng.IntN(rebalanceSlots)
		off, ok := f.out.waitFor("Moving ", 0, time.Now().Add(20*time.Second))
		if ok {
			_, ok = f.out.waitFor(strings.Repeat("#", slots), off, time.Now().Add(20*time.Second))
		}
		reached, where = ok || slots == 0, fmt.Sprintf("%d slots", slots)
	} else {
		slot := f.rng.IntN(slots)
		dots := f.rng.IntN(20)
		if slots == 1 {
			dots = f.rng.IntN(3)
		}
		if slot == zoneBig {
			dots = f.rng.IntN(bigKeys)
		}
		reached, where = f.waitMoving(slot, dots), fmt.Sprintf("%d keys of slot %d", dots, slot)
	}
	time.Sleep(delay)
	_ = f.move.Process.Signal(syscall.SIGKILL)
	f.waitMove(10 * time.Second)
	f.note("SIGKILL of rcluster %s after %s (reached: %v) + %v", kind, where, reached, delay)
}

// strikeMidMove starts the move and returns once slot zoneBig is in
// flight: in a reshard once half of its keys moved, in a rebalance once
// the slots before it did. It returns the index of the target.
func (f *faultRun) strikeMidMove(extra ...string) (target int) {
	if f.kind != "rebalance" {
		f.startMove("reshard", extra...)
		if !f.waitMoving(zoneBig, bigKeys/2) {
			f.t.Fatalf("the reshard never reached the middle of slot %d:\n%s\n%s", zoneBig, f.out.String(), f.errs.String())
		}
		return dst
	}
	f.startMove("rebalance", extra...)
	header := "slots from " + f.c.addr(src) + " to "
	off, ok := f.out.waitFor(header, 0, time.Now().Add(20*time.Second))
	if ok {
		_, ok = f.out.waitFor(strings.Repeat("#", zoneBig), off, time.Now().Add(20*time.Second))
	}
	if !ok {
		f.t.Fatalf("the rebalance never reached slot %d:\n%s\n%s", zoneBig, f.out.String(), f.errs.String())
	}
	rest := f.out.String()[off:]
	addr, _, _ := strings.Cut(rest, "\n")
	for i := range f.c.servers {
		if f.c.addr(i) == addr {
			return i
		}
	}
	f.t.Fatalf("the rebalance moves to %q, not a server of the test", addr)
	return -1
}

// replicaOf returns the index of the server replicating master i.
func (f *faultRun) replicaOf(i int) int {
	f.t.Helper()
	return f.c.replicaOf(i)
}

// waitPromoted waits (at most 30s) until every running server sees server i
// as a master.
func (f *faultRun) waitPromoted(i int) {
	deadline := time.Now().Add(30 * time.Second)
	id, err := f.c.s(i).ID()
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		id, err = f.c.s(i).ID()
	}
	for time.Now().Before(deadline) {
		if f.everyLiveServerSeesMaster(id) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.note("server %d was not seen as a master by every running server within 30s", i)
}

// everyLiveServerSeesMaster reports whether every running server lists
// node id as a master. The promoted replica knows first; a command run
// through another node before the news spread there would still see the
// dead master owning its slots (seen on Valkey 8 under load).
func (f *faultRun) everyLiveServerSeesMaster(id string) bool {
	for _, s := range f.c.live() {
		lines, err := s.Nodes()
		if err != nil {
			return false
		}
		seen := false
		for _, l := range lines {
			if l.ID == id && l.HasFlag("master") {
				seen = true
			}
		}
		if !seen {
			return false
		}
	}
	return true
}

// killMasterMidMove SIGKILLs the move's source or target (role) in the
// middle of the move and waits for its replica to take over. It returns
// the server killed.
func (f *faultRun) killMasterMidMove(role int) int {
	i, replica := f.strikeAt(role)
	f.c.s(i).Stop()
	f.note("SIGKILL of server %d (%s) in the middle of slot %d; its replica is server %d", i, roleName(role), zoneBig, replica)
	f.waitMove(90 * time.Second)
	f.waitPromoted(replica)
	return i
}

// failoverMidMove sends CLUSTER FAILOVER to the replica of the move's
// source or target (role) in the middle of the move.
func (f *faultRun) failoverMidMove(role int) {
	i, replica := f.strikeAt(role)
	if _, err := f.c.s(replica).Do("CLUSTER", "FAILOVER"); err != nil {
		f.t.Fatalf("CLUSTER FAILOVER on server %d: %v", replica, err)
	}
	f.note("CLUSTER FAILOVER on server %d, replica of server %d (%s), in the middle of slot %d", replica, i, roleName(role), zoneBig)
	f.waitPromoted(replica)
	f.waitMove(90 * time.Second)
}

// strikeAt starts the move and, once slot zoneBig is in flight, returns
// the server playing role (src or dst) and its replica. The repair goes
// through another master if that one is the entry node.
func (f *faultRun) strikeAt(role int) (i, replica int) {
	replicas := map[int]int{}
	for _, m := range []int{0, 1, 2} {
		replicas[m] = f.replicaOf(m)
	}
	i = src
	if target := f.strikeMidMove(); role == dst {
		i = target
	}
	if i == f.entry {
		f.entry = 3 - src - i // the third master
	}
	return i, replicas[i]
}

func roleName(role int) string { return map[int]string{src: "source", dst: "target"}[role] }

// hangTargetMidMove stops the target (SIGSTOP) in the middle of slot
// zoneBig, past the reshard's MIGRATE --timeout, then resumes it
// (SIGCONT) before the cluster would fail it over.
func (f *faultRun) hangTargetMidMove() {
	const migrateTimeout = 500 * time.Millisecond
	pids := map[int]int{}
	for i := range f.c.servers {
		pids[i] = f.pid(i)
	}
	target := f.strikeMidMove("--timeout", strconv.Itoa(int(migrateTimeout.Milliseconds())))
	pid := pids[target]
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		f.t.Fatal(err)
	}
	stopped := time.Now()
	f.waitMove(4 * time.Second)
	time.Sleep(max(0, 3*migrateTimeout-time.Since(stopped)))
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		f.t.Fatal(err)
	}
	f.note("SIGSTOP of server %d (target) in the middle of slot %d for %v (MIGRATE --timeout %v), then SIGCONT", target, zoneBig, time.Since(stopped).Round(time.Millisecond), migrateTimeout)
	if f.moveExit == -1 {
		f.note("the move was still running with the target stopped")
	}
	// Write every key of the slot in flight again: the key whose MIGRATE
	// timed out is now on both nodes, and only the source's copy, the
	// one clients read and write, may survive the repair.
	for i := 0; i < bigKeys; i++ {
		f.w.set(f.bigKey(i))
	}
	f.note("rewrote the %d keys of slot %d after SIGCONT", bigKeys, zoneBig)
}

// bigKey is the i-th preloaded key of slot zoneBig.
func (f *faultRun) bigKey(i int) string {
	return "{" + redistest.KeysInSlot(zoneBig, 1, "tag")[0] + "}:big" + strconv.Itoa(i)
}

// pid returns server i's process ID (INFO server).
func (f *faultRun) pid(i int) int {
	f.t.Helper()
	info, err := f.c.s(i).DoString("INFO", "server")
	if err != nil {
		f.t.Fatal(err)
	}
	v, _ := node.InfoField(info, "process_id")
	pid, err := strconv.Atoi(v)
	if err != nil {
		f.t.Fatalf("INFO server of server %d: process_id %q", i, v)
	}
	return pid
}

// delNode tries to remove the crashed server i with rcluster del-node, as
// an operator would once the node is gone for good. While slots are open
// with it, del-node must refuse and name the repair; otherwise (the
// strike came between two slots) it removes it.
func (f *faultRun) delNode(i int) {
	id := f.deadID(i)
	open := false
	for _, s := range f.c.live() {
		if me, err := s.Myself(); err == nil && strings.Contains(strings.Join(me.Slots, " "), id) {
			open = true
		}
	}
	r := rc(f.t, "del-node", f.c.addr(f.entry), id, "--settle-timeout", "20s")
	f.note("rcluster del-node of server %d (%.8s), slots open with it: %v: exit %d; %s", i, id, open, r.Code, lastLines(r.Stdout+r.Stderr, 3))
	switch {
	case open && r.Code == 0 && serverBuild == redistest.Valkey8:
		// Seen on Valkey 8 only: by the time del-node loaded the cluster,
		// no slot was open with the dead node any more (its states had
		// apparently moved to the replica that took over; not confirmed
		// in Valkey's source). The run must still heal with one fix.
		f.note("no slot open with the dead node any more when del-node loaded the cluster (Valkey)")
	case open && (r.Code != 1 || !strings.Contains(r.Stderr+r.Stdout, "rcluster fix")):
		f.t.Errorf("del-node of a node that slots are open with: exit %d, want 1 and the fix command; output:\n%s", r.Code, r)
	case !open && r.Code != 0:
		f.t.Errorf("del-node of a failed-over node: exit %d, want 0; output:\n%s", r.Code, r)
	}
}

// forgetNode makes every running server forget the crashed server i.
func (f *faultRun) forgetNode(i int) {
	id := f.deadID(i)
	for _, s := range f.c.live() {
		if _, err := s.Do("CLUSTER", "FORGET", id); err != nil {
			f.t.Fatalf("%s: CLUSTER FORGET %s: %v", s, id, err)
		}
	}
	f.note("CLUSTER FORGET of server %d (%.8s) on every running server", i, id)
}

// deadID is the ID of server i as the running servers know it.
func (f *faultRun) deadID(i int) string {
	for _, s := range f.c.live() {
		lines, err := s.Nodes()
		if err != nil {
			continue
		}
		for _, l := range lines {
			if l.HostPort() == f.c.addr(i) {
				return l.ID
			}
		}
	}
	f.t.Fatalf("no running server knows server %d", i)
	return ""
}
