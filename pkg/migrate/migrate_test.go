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
	busy        map[string]bool // keys that already exist on this node as a target
}

func replyErr(msg string) error { return &node.ReplyError{Msg: msg} }

func (n *fakeNode) Pipeline(ctx context.Context, cmds []node.Cmd) []node.Result {
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
			for s, ks := range n.keys {
				for j, x := range ks {
					if x == k {
						n.keys[s] = append(ks[:j:j], ks[j+1:]...)
					}
				}
			}
		}
		return "OK", nil
	case words[0] == "CLUSTER" && words[1] == "SETSLOT" && words[3] == "node" && n.failSetSlot != "":
		return nil, replyErr(n.failSetSlot)
	case words[0] == "DEBUG":
		out := make([]any, len(words)-2)
		for i := range out {
			out[i] = "0123456789012345678901234567890123456789"
		}
		return out, nil
	}
	return "OK", nil
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

func TestMoveSlotsProtocolOrder(t *testing.T) {
	a, b, src, dst := pair()
	c := &fakeNode{name: "c", keys: map[int][]string{}}
	other := &Node{ID: "idc", Host: "c", Port: 3, Conn: c}
	a.keys[5] = []string{"k"}
	m := &Mover{Opts: Options{Pipeline: 10}}
	n, err := m.MoveSlots(context.Background(), src, dst, []int{5, 6}, []*Node{src, dst, other}, MoveOptions{}, SlotHooks{})
	if err != nil || n != 2 {
		t.Fatalf("moved %d, err %v", n, err)
	}
	wantB := []string{"CLUSTER SETSLOT 5 importing ida", "CLUSTER SETSLOT 6 importing ida", "CLUSTER SETSLOT 5 node idb", "CLUSTER SETSLOT 6 node idb"}
	if got := b.commands("CLUSTER SETSLOT"); fmt.Sprint(got) != fmt.Sprint(wantB) {
		t.Fatalf("target got %q", got)
	}
	if got := c.commands("CLUSTER SETSLOT"); len(got) != 2 || got[0] != "CLUSTER SETSLOT 5 node idb" {
		t.Fatalf("other master got %q", got)
	}
	// A master that turned into a replica is not an error anywhere.
	a2, _, src2, dst2 := pair()
	_ = a2
	c.failSetSlot = "ERR Please use SETSLOT only with masters."
	a2.failSetSlot = c.failSetSlot
	if _, err := m.MoveSlots(context.Background(), src2, dst2, []int{9}, []*Node{other}, MoveOptions{}, SlotHooks{}); err != nil {
		t.Fatalf("replica's SETSLOT error not tolerated: %v", err)
	}
	c.failSetSlot = "ERR something else"
	if _, err := m.MoveSlots(context.Background(), src2, dst2, []int{10}, []*Node{other}, MoveOptions{}, SlotHooks{}); err == nil {
		t.Fatal("another SETSLOT error was ignored")
	}
}

func TestStopClosesUnmovedSlots(t *testing.T) {
	a, b, src, dst := pair()
	calls := 0
	stop := func() bool { calls++; return calls >= 2 } // stop after the second slot
	m := &Mover{Opts: Options{Pipeline: 10}}
	n, err := m.MoveSlots(context.Background(), src, dst, []int{1, 2, 3, 4}, nil, MoveOptions{}, SlotHooks{Stop: stop})
	if err != ErrStopped || n != 2 {
		t.Fatalf("moved %d, err %v; want 2, ErrStopped", n, err)
	}
	for _, f := range []*fakeNode{a, b} {
		log := strings.Join(f.commands("CLUSTER SETSLOT"), "\n")
		for _, want := range []string{"SETSLOT 3 STABLE", "SETSLOT 4 STABLE", "SETSLOT 1 node idb", "SETSLOT 2 node idb"} {
			if !strings.Contains(log, want) {
				t.Errorf("%s: missing %q in\n%s", f.name, want, log)
			}
		}
		if strings.Contains(log, "SETSLOT 3 node") {
			t.Errorf("%s: unmoved slot given away:\n%s", f.name, log)
		}
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
