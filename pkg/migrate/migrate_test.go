package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rcluster/rcluster/pkg/node"
)

// fakeNode is an in-memory node: keys per slot with sizes, and a log of
// every command it received.
type fakeNode struct {
	mu    sync.Mutex
	name  string
	keys  map[int][]string
	size  map[string]int64
	log   []string
	peers map[string]*fakeNode // by "host:port", for MIGRATE
	// failSetSlot makes SETSLOT ... NODE fail with this text.
	failSetSlot string
	// noReplicas makes that many SETSLOT ... NODE fail with NOREPLICAS
	// first, as a Valkey master whose replica lags.
	noReplicas int
	busy       map[string]bool // keys that already exist on this node as a target
	noDebug    bool            // DEBUG is disabled (enable-debug-command no)
	pipelines  int             // round trips of pipelines
	journal    *journal        // if set, shared with other nodes: the order across nodes
}

// journal records the commands of several nodes in the order they ran.
type journal struct {
	mu    sync.Mutex
	lines []string
}

// index is the position of line in the journal, -1 if absent.
func (j *journal) index(line string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, l := range j.lines {
		if l == line {
			return i
		}
	}
	return -1
}

func replyErr(msg string) error { return &node.ReplyError{Msg: msg} }

func (n *fakeNode) Pipeline(ctx context.Context, cmds []node.Cmd) []node.Result {
	n.mu.Lock()
	n.pipelines++
	n.mu.Unlock()
	return node.DoEach(ctx, n.Do, cmds)
}

func (n *fakeNode) Transaction(context.Context, []node.Cmd) ([]node.Result, error) {
	return nil, errors.New("no transactions here")
}

func (n *fakeNode) Close() error { return nil }

func (n *fakeNode) Do(_ context.Context, args ...any) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = fmt.Sprint(a)
	}
	n.log = append(n.log, strings.Join(words, " "))
	if n.journal != nil {
		n.journal.mu.Lock()
		n.journal.lines = append(n.journal.lines, n.name+": "+strings.Join(words, " "))
		n.journal.mu.Unlock()
	}
	switch {
	case words[0] == "CLUSTER" && words[1] == "GETKEYSINSLOT":
		var slot, count int
		fmt.Sscan(words[2], &slot)
		fmt.Sscan(words[3], &count)
		var out []any
		for _, k := range n.keys[slot] {
			if len(out) < count {
				out = append(out, k)
			}
		}
		return out, nil
	case words[0] == "MEMORY":
		return n.size[words[2]], nil
	case words[0] == "MIGRATE":
		dst := n.peers[words[1]+":"+words[2]]
		i := 0
		for ; words[i] != "KEYS"; i++ {
		}
		moved := words[i+1:]
		replace := strings.Contains(strings.Join(words[:i], " "), "REPLACE")
		for _, k := range moved {
			if dst.busy[k] && !replace {
				return nil, replyErr("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
			}
		}
		for _, k := range moved {
			n.remove(k)
		}
		return "OK", nil
	case words[0] == "CLUSTER" && words[1] == "SETSLOT" && words[3] == "node" && n.failSetSlot != "":
		return nil, replyErr(n.failSetSlot)
	case words[0] == "CLUSTER" && words[1] == "SETSLOT" && words[3] == "node" && n.noReplicas > 0:
		n.noReplicas--
		return nil, replyErr("NOREPLICAS Not enough good replicas to write.")
	case words[0] == "ASKING":
		return "OK", nil
	case words[0] == "EXISTS":
		if n.has(words[1]) {
			return int64(1), nil
		}
		return int64(0), nil
	case words[0] == "DEL":
		n.remove(words[1])
		delete(n.busy, words[1])
		return int64(1), nil
	case words[0] == "DUMP":
		return "payload of " + words[1], nil
	case words[0] == "DEBUG" && n.noDebug:
		return nil, replyErr("ERR DEBUG command not allowed.")
	case words[0] == "DEBUG":
		out := make([]any, len(words)-2)
		for i := range out {
			out[i] = "0123456789012345678901234567890123456789"
		}
		return out, nil
	}
	return "OK", nil
}

func (n *fakeNode) has(k string) bool {
	if n.busy[k] {
		return true
	}
	for _, ks := range n.keys {
		for _, x := range ks {
			if x == k {
				return true
			}
		}
	}
	return false
}

func (n *fakeNode) remove(k string) {
	for s, ks := range n.keys {
		for j, x := range ks {
			if x == k {
				n.keys[s] = append(ks[:j:j], ks[j+1:]...)
			}
		}
	}
}

func (n *fakeNode) commands(prefix string) []string {
	var out []string
	for _, l := range n.log {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func pair() (*fakeNode, *fakeNode, *Node, *Node) {
	a := &fakeNode{name: "a", keys: map[int][]string{}, size: map[string]int64{}}
	b := &fakeNode{name: "b", keys: map[int][]string{}, size: map[string]int64{}, busy: map[string]bool{}}
	a.peers = map[string]*fakeNode{"b:2": b}
	return a, b, &Node{ID: "ida", Host: "a", Port: 1, Conn: a}, &Node{ID: "idb", Host: "b", Port: 2, Conn: b}
}

type countObs struct {
	NopObserver
	moved                   int
	busy, replacing, differ int
	kept                    []string // "kept-addr:dropped-addr:key"
}

func (o *countObs) KeptCopies(kept, dropped *Node, keys []string) {
	for _, k := range keys {
		o.kept = append(o.kept, kept.Addr()+">"+dropped.Addr()+":"+k)
	}
}

func (o *countObs) KeysMoved(_, n int)                  { o.moved += n }
func (o *countObs) TargetKeyExists()                    { o.busy++ }
func (o *countObs) ReplacingKeys()                      { o.replacing++ }
func (o *countObs) ValuesDiffer(*Node, *Node, []string) { o.differ++ }

func TestBatchesByKeysAndBytes(t *testing.T) {
	a, _, src, dst := pair()
	for i := 0; i < 25; i++ {
		k := fmt.Sprintf("k%d", i)
		a.keys[7] = append(a.keys[7], k)
		a.size[k] = 100
	}
	a.size["k10"] = 50 << 20 // a big key moves alone
	obs := &countObs{}
	m := &Mover{Opts: Options{BatchKeys: 8, BatchBytes: 1 << 20}, Obs: obs}
	if err := m.MigrateKeys(context.Background(), src, dst, 7); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range a.commands("MIGRATE") {
		sizes = append(sizes, len(strings.Fields(c[strings.Index(c, "KEYS")+5:])))
	}
	// GETKEYSINSLOT 8: [k0..k7], [k8..k15] cut around k10, ...
	want := "[8 2 1 5 8 1]"
	if fmt.Sprint(sizes) != want || obs.moved != 25 {
		t.Fatalf("batches %v (moved %d), want %s", sizes, obs.moved, want)
	}
}

func TestFixedPipelineAsRedisCLI(t *testing.T) {
	a, _, src, dst := pair()
	for i := 0; i < 25; i++ {
		a.keys[8] = append(a.keys[8], fmt.Sprintf("k%d", i))
	}
	m := &Mover{Opts: Options{Pipeline: 10, Timeout: 60000, Password: "pw", User: "u"}}
	if err := m.MigrateKeys(context.Background(), src, dst, 8); err != nil {
		t.Fatal(err)
	}
	migrates := a.commands("MIGRATE")
	if len(migrates) != 3 || len(a.commands("MEMORY")) != 0 {
		t.Fatalf("want 3 MIGRATEs of 10, 10, 5 keys and no MEMORY USAGE, got %q", a.log)
	}
	if !strings.HasPrefix(migrates[0], "MIGRATE b 2  0 60000 AUTH2 u pw KEYS k0 ") {
		t.Fatalf("MIGRATE arguments: %q", migrates[0])
	}
}

func TestBusyKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace bool
		wantErr bool
	}{{"compare values", false, false}, {"replace", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, src, dst := pair()
			a.keys[1] = []string{"x", "y"}
			b.busy["y"] = true
			obs := &countObs{}
			m := &Mover{Opts: Options{Pipeline: 10, Replace: tc.replace}, Obs: obs}
			err := m.MigrateKeys(context.Background(), src, dst, 1)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			// Same digests on both sides, or --replace: the batch is sent again with REPLACE.
			last := a.commands("MIGRATE")
			if obs.busy != 1 || obs.replacing != 1 || !strings.Contains(last[len(last)-1], "REPLACE") {
				t.Fatalf("busy %d replacing %d, log %q", obs.busy, obs.replacing, a.log)
			}
			if tc.replace == (len(a.commands("DEBUG")) > 0) {
				t.Fatalf("DEBUG DIGEST-VALUE sent with replace=%v: %q", tc.replace, a.log)
			}
		})
	}
}

// TestKeep: a key on both nodes keeps the copy Options.Keep names, and
// the observer hears which; Replace does not change that.
func TestKeep(t *testing.T) {
	for _, tc := range []struct {
		keep      Keep
		wantKept  string
		wantOnSrc bool // y still on the source afterwards
	}{
		{KeepSource, "a:1>b:2:y", false},
		{KeepTarget, "b:2>a:1:y", false},
	} {
		a, b, src, dst := pair()
		a.keys[1] = []string{"x", "y"}
		b.busy["y"] = true
		obs := &countObs{}
		m := &Mover{Opts: Options{Pipeline: 10, Keep: tc.keep, Replace: true}, Obs: obs}
		if err := m.MigrateKeys(context.Background(), src, dst, 1); err != nil {
			t.Fatalf("keep %d: %v", tc.keep, err)
		}
		if fmt.Sprint(obs.kept) != "["+tc.wantKept+"]" {
			t.Errorf("keep %d: kept %q, want %q", tc.keep, obs.kept, tc.wantKept)
		}
		if a.has("y") != tc.wantOnSrc || len(a.keys[1]) != 0 {
			t.Errorf("keep %d: source still has %q", tc.keep, a.keys[1])
		}
		replaced := strings.Contains(fmt.Sprint(a.commands("MIGRATE")), "REPLACE")
		if replaced != (tc.keep == KeepSource) {
			t.Errorf("keep %d: MIGRATE REPLACE sent: %v; log %q", tc.keep, replaced, a.log)
		}
		if len(a.commands("DEBUG")) > 0 {
			t.Errorf("keep %d: values compared although the winner is known", tc.keep)
		}
	}
}

// TestCompareWithDumpWhenDebugIsOff: with DEBUG disabled, as in a default
// Redis 7, values are compared with DUMP instead of failing.
func TestCompareWithDumpWhenDebugIsOff(t *testing.T) {
	a, b, src, dst := pair()
	a.noDebug, b.noDebug = true, true
	a.keys[1] = []string{"y"}
	b.busy["y"] = true
	obs := &countObs{}
	m := &Mover{Opts: Options{Pipeline: 10}, Obs: obs}
	if err := m.MigrateKeys(context.Background(), src, dst, 1); err != nil {
		t.Fatalf("equal values (same DUMP) not replaced: %v; log %q", err, a.log)
	}
	if len(a.commands("DUMP")) != 1 || len(b.commands("DUMP")) != 1 || obs.replacing != 1 {
		t.Fatalf("DUMP not compared: a %q b %q", a.log, b.log)
	}
}

// TestNoEmptyFetchAfterShortOne: in a move (the source MIGRATING), a
// fetch that returned fewer keys than asked for is the last one; a cold
// move (fix) asks until the slot is empty, as redis-cli does.
func TestNoEmptyFetchAfterShortOne(t *testing.T) {
	for _, cold := range []bool{false, true} {
		a, _, src, dst := pair()
		a.keys[5] = []string{"k1", "k2", "k3"}
		m := &Mover{Opts: Options{Pipeline: 10}}
		if _, err := m.MoveSlots(context.Background(), src, dst, []int{5}, nil, MoveOptions{Cold: cold}, SlotHooks{}); err != nil {
			t.Fatal(err)
		}
		want := 1
		if cold {
			want = 2
		}
		if got := len(a.commands("CLUSTER GETKEYSINSLOT")); got != want {
			t.Errorf("cold %v: %d GETKEYSINSLOT for 3 keys, want %d", cold, got, want)
		}
	}
}

func TestMoveSlotsProtocolOrder(t *testing.T) {
	a, b, src, dst := pair()
	c := &fakeNode{name: "c", keys: map[int][]string{}}
	other := &Node{ID: "idc", Host: "c", Port: 3, Conn: c}
	a.keys[5] = []string{"k"}
	j := &journal{}
	a.journal, b.journal, c.journal = j, j, j
	m := &Mover{Opts: Options{Pipeline: 10, Window: 1}}
	n, err := m.MoveSlots(context.Background(), src, dst, []int{5, 6, 7}, []*Node{src, dst, other}, MoveOptions{}, SlotHooks{})
	if err != nil || n != 3 {
		t.Fatalf("moved %d, err %v", n, err)
	}
	// A window of one slot: one slot after the other; closing one and
	// opening the next share a round trip on each node.
	wantB := []string{"CLUSTER SETSLOT 5 importing ida", "CLUSTER SETSLOT 5 node idb", "CLUSTER SETSLOT 6 importing ida",
		"CLUSTER SETSLOT 6 node idb", "CLUSTER SETSLOT 7 importing ida", "CLUSTER SETSLOT 7 node idb"}
	if got := b.commands("CLUSTER SETSLOT"); fmt.Sprint(got) != fmt.Sprint(wantB) {
		t.Fatalf("target got %q", got)
	}
	// The source closes a slot as it opens the next one.
	wantA := []string{"CLUSTER SETSLOT 5 migrating idb", "CLUSTER SETSLOT 5 node idb", "CLUSTER SETSLOT 6 migrating idb",
		"CLUSTER SETSLOT 6 node idb", "CLUSTER SETSLOT 7 migrating idb", "CLUSTER SETSLOT 7 node idb"}
	if got := a.commands("CLUSTER SETSLOT"); fmt.Sprint(got) != fmt.Sprint(wantA) {
		t.Fatalf("source got %q", got)
	}
	if got := c.commands("CLUSTER SETSLOT"); fmt.Sprint(got) != fmt.Sprint([]string{"CLUSTER SETSLOT 5 node idb", "CLUSTER SETSLOT 6 node idb", "CLUSTER SETSLOT 7 node idb"}) {
		t.Fatalf("other master got %q", got)
	}
	// Each slot's new owner is learnt by the target and the other masters,
	// then by the source (redis/redis#7116, #12564).
	for s := 5; s <= 7; s++ {
		setslot := fmt.Sprintf("CLUSTER SETSLOT %d node idb", s)
		if bi, ci, ai := j.index("b: "+setslot), j.index("c: "+setslot), j.index("a: "+setslot); bi < 0 || ci < 0 || !(bi < ai && ci < ai) {
			t.Errorf("slot %d: target, other master, source learnt the owner at %d, %d, %d", s, bi, ci, ai)
		}
	}
	// A master that turned into a replica is not an error anywhere.
	a2, _, src2, dst2 := pair()
	_ = a2
	// Valkey 8 may also unblock a waiting SETSLOT on the role change, or
	// fail it when the replicas left.
	for slot, refusal := range []string{"ERR Please use SETSLOT only with masters.", "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
		"NOREPLICAS Not enough good replicas to write."} {
		c.failSetSlot = refusal
		a2.failSetSlot = refusal
		if _, err := m.MoveSlots(context.Background(), src2, dst2, []int{20 + slot}, []*Node{other}, MoveOptions{}, SlotHooks{}); err != nil {
			t.Fatalf("replica's SETSLOT error %q not tolerated: %v", refusal, err)
		}
	}
	c.failSetSlot = "ERR something else"
	n, err = m.MoveSlots(context.Background(), src2, dst2, []int{10}, []*Node{other}, MoveOptions{}, SlotHooks{})
	if err == nil {
		t.Fatal("another SETSLOT error was ignored")
	}
	// Source and target switched before the other master refused: the
	// slot did move.
	if n != 1 {
		t.Fatalf("moved %d slots when only telling another master failed, want 1", n)
	}
	// With more slots to go, the source learns the owner all the same and
	// the next slot, opened on the target only, is left open.
	a3, _, src3, dst3 := pair()
	n, err = m.MoveSlots(context.Background(), src3, dst3, []int{11, 12}, []*Node{other}, MoveOptions{}, SlotHooks{})
	var left *LeftOpen
	if n != 1 || !errors.As(err, &left) || fmt.Sprint(left.Slots) != "[12]" {
		t.Fatalf("moved %d, err %v; want 1 and slot 12 left open", n, err)
	}
	if got := a3.commands("CLUSTER SETSLOT"); fmt.Sprint(got) != "[CLUSTER SETSLOT 11 migrating idb CLUSTER SETSLOT 11 node idb]" {
		t.Fatalf("source got %q", got)
	}
}

// TestStopOpensNoOtherSlot: after Stop, the slot moved is closed and no
// other slot is opened.
func TestStopOpensNoOtherSlot(t *testing.T) {
	a, b, src, dst := pair()
	calls := 0
	stop := func() bool { calls++; return calls >= 2 } // stop after the second slot
	m := &Mover{Opts: Options{Pipeline: 10, Window: 1}}
	n, err := m.MoveSlots(context.Background(), src, dst, []int{1, 2, 3, 4}, nil, MoveOptions{}, SlotHooks{Stop: stop})
	if err != ErrStopped || n != 2 {
		t.Fatalf("moved %d, err %v; want 2, ErrStopped", n, err)
	}
	for _, f := range []*fakeNode{a, b} {
		log := strings.Join(f.commands("CLUSTER SETSLOT"), "\n")
		for _, want := range []string{"SETSLOT 1 node idb", "SETSLOT 2 node idb"} {
			if !strings.Contains(log, want) {
				t.Errorf("%s: missing %q in\n%s", f.name, want, log)
			}
		}
		if strings.Contains(log, "SETSLOT 3") || strings.Contains(log, "SETSLOT 4") {
			t.Errorf("%s: a slot after the stop was touched:\n%s", f.name, log)
		}
	}
}

// TestWindowSharesRoundTrips: the slots of a window are opened, closed
// and migrated together, a round trip per node for each step; the next
// window opens with the close of the one before, the key names of its
// slots fetched in the same round trip.
func TestWindowSharesRoundTrips(t *testing.T) {
	a, b, src, dst := pair()
	for s := 1; s <= 5; s++ {
		a.keys[s] = []string{fmt.Sprintf("k%d", s)}
	}
	var started []int
	var open [][]int
	m := &Mover{Opts: Options{Window: 2}}
	hooks := SlotHooks{Start: func(s int) { started = append(started, s) }, Open: func(s []int) { open = append(open, s) }}
	n, err := m.MoveSlots(context.Background(), src, dst, []int{1, 2, 3, 4, 5}, nil, MoveOptions{}, hooks)
	if err != nil || n != 5 {
		t.Fatalf("moved %d, err %v", n, err)
	}
	if fmt.Sprint(started) != "[1 2 3 4 5]" {
		t.Errorf("slots started %v, want in order", started)
	}
	if fmt.Sprint(open) != "[[1 2] [1 2 3 4] [3 4] [3 4 5] [5] []]" {
		t.Errorf("open slots told %v", open)
	}
	// Round trips: 3 windows. Target: the first open, then a close (and
	// the next open) per window. Source: the same, with the key names
	// fetched; a size pipeline and a MIGRATE pipeline per window.
	if got := b.pipelines; got != 1+3 {
		t.Errorf("target: %d round trips, want 4", got)
	}
	if got := a.pipelines; got != 1+3+2*3 {
		t.Errorf("source: %d round trips, want 10", got)
	}
	for s := 1; s <= 5; s++ {
		if len(a.keys[s]) != 0 {
			t.Errorf("slot %d: keys not moved: %v", s, a.keys[s])
		}
	}
	// Stopped after the first window: its slots are closed, no other opened.
	_, b, src, dst = pair()
	hooks = SlotHooks{Stop: func() bool { return true }}
	if n, err := m.MoveSlots(context.Background(), src, dst, []int{1, 2, 3, 4, 5}, nil, MoveOptions{}, hooks); err != ErrStopped || n != 2 {
		t.Fatalf("stopped: moved %d, err %v; want 2, ErrStopped", n, err)
	}
	if log := strings.Join(b.commands("CLUSTER SETSLOT"), "\n"); strings.Contains(log, "SETSLOT 3") {
		t.Errorf("a slot after the stop was opened:\n%s", log)
	}
}

func TestTransient(t *testing.T) {
	for msg, want := range map[string]bool{
		"CLUSTERDOWN The cluster is down":                                         true,
		"ERR Target instance replied with error: CLUSTERDOWN The cluster is down": true,
		"ERR Target instance replied with error: TRYAGAIN Multiple keys request":  true,
		"LOADING Redis is loading the dataset in memory":                          true,
		"BUSYKEY Target key name already exists.":                                 false,
		"IOERR error or timeout reading to target instance":                       false,
		"ERR Target instance replied with error: MOVED 12 127.0.0.1:7001":         false,
	} {
		if got := transient(replyErr(msg)); got != want {
			t.Errorf("transient(%q) = %v, want %v", msg, got, want)
		}
	}
	if transient(context.DeadlineExceeded) {
		t.Error("a timeout is not transient: the keys may have arrived")
	}
}

func TestRetryTransientStopsOnOtherErrors(t *testing.T) {
	calls := 0
	err := retryTransient(context.Background(), func() error {
		calls++
		if calls < 3 {
			return replyErr("CLUSTERDOWN The cluster is down")
		}
		return replyErr("IOERR error or timeout reading to target instance")
	})
	if calls != 3 || err == nil {
		t.Fatalf("calls %d, err %v: want 3 calls ending on the IOERR", calls, err)
	}
	calls = 0
	err = retryTransient(context.Background(), func() error { calls++; return replyErr("TRYAGAIN x") })
	if calls != transientTries || err == nil {
		t.Fatalf("calls %d, err %v: want %d tries and the last error", calls, err, transientTries)
	}
}

// A SETSLOT NODE refused with NOREPLICAS (a Valkey master whose replica
// lags) is sent again until the master takes it.
func TestSetSlotWaitsForLaggingReplicas(t *testing.T) {
	_, b, src, dst := pair()
	b.noReplicas = 2
	m := &Mover{Opts: Options{Pipeline: 10, Window: 1}}
	if n, err := m.MoveSlots(context.Background(), src, dst, []int{7, 8}, nil, MoveOptions{}, SlotHooks{}); err != nil || n != 2 {
		t.Fatalf("moved %d, err %v", n, err)
	}
	if got := b.commands("CLUSTER SETSLOT 7 node"); len(got) != 3 {
		t.Errorf("SETSLOT 7 NODE sent %d times to the target, want 3 (two NOREPLICAS, then OK): %q", len(got), got)
	}
}
