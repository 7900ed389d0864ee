package e2e

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// TestRebalanceByKeys skews a cluster (2000 of its 2600 keys in 40 slots of
// one master) and evens out the keys with rebalance --by keys: the dry run
// and --simulate change nothing, the run ends with every master within the
// 2% threshold of its share of the keys, every key readable. Then 120 big
// values on another master skew the memory, and --by memory evens it out
// within 5%, as measured independently with MEMORY USAGE of every key.
func TestRebalanceByKeys(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	c := newCluster(t, 3, 0, 0)
	keys := c.loadKeys(600, "key")
	me, err := c.s(0).Myself()
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range me.SlotNumbers()[100:140] {
		heavy := redistest.KeysInSlot(slot, 50, "heavy")
		if err := redistest.SetKeys(c.members(0), heavy, func(k string) string { return "value:" + k }); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, heavy...)
	}
	masters := c.servers

	before := redistest.Snapshot(masters)
	r := rc(t, "rebalance", c.addr(0), "--by", "keys", "--dry-run", "-o", "json")
	wantCode(t, "--dry-run -o json", r, 0)
	var doc changeDoc[report.MovePlanDoc]
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if doc.Plan.By != "keys" || len(doc.Plan.Loads) != 3 || len(doc.Plan.Moves) == 0 || !doc.DryRun {
		t.Fatalf("plan: %+v", doc.Plan)
	}
	var total int64
	for _, l := range doc.Plan.Loads {
		total += l.Before
		if l.Address == c.addr(0) && l.Before < 2000 {
			t.Errorf("%s holds %d keys in the plan, want over 2000", l.Address, l.Before)
		}
	}
	if total != int64(len(keys)) {
		t.Errorf("the plan counts %d keys, %d were written", total, len(keys))
	}
	for _, mv := range doc.Plan.Moves {
		if mv.From != c.id(0) {
			t.Errorf("a move from %s: only %s (server 0) is over its share", mv.From, c.id(0))
		}
	}
	r = rc(t, "rebalance", c.addr(0), "--by", "keys", "--simulate", "--verbose")
	wantCode(t, "--simulate", r, 0)
	contains(t, "--simulate", r.Stdout, ">>> Rebalancing across 3 nodes. Total weight = 3.00\n",
		c.addr(0)+" balance is ", " keys\n", "Moving ", " slots from "+c.addr(0)+" to ", "#\n")
	if after := redistest.Snapshot(masters); after != before {
		t.Fatalf("a dry run changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}

	r = rc(t, "rebalance", c.addr(0), "--by", "keys")
	wantCode(t, "rebalance --by keys", r, 0)
	contains(t, "rebalance --by keys", r.Stdout, ">>> Rebalancing across 3 nodes. Total weight = 3.00\n", "Moving ")
	c.healthy(0)
	c.keysIntact(keys)
	target := float64(len(keys)) / 3
	for _, s := range masters {
		n, err := s.DoInt("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		if off := math.Abs(float64(n)-target) * 100 / target; off > 2 {
			t.Errorf("%s holds %d keys, %.1f%% off its share %.0f", s.Addr(), n, off, target)
		}
	}
	r = rc(t, "rebalance", c.addr(0), "--by", "keys")
	wantCode(t, "rebalance --by keys again", r, 0)
	contains(t, "rebalance --by keys again", r.Stdout, "*** No rebalancing needed! All nodes are within the 2.00% threshold.\n")

	// Memory: one big value in each of 120 slots of server 1.
	me, err = c.s(1).Myself()
	if err != nil {
		t.Fatal(err)
	}
	big := map[string]bool{}
	for i := 0; i < 120; i++ {
		k := redistest.KeysInSlot(me.SlotNumbers()[i*20], 1, "big")[0]
		big[k] = true
		keys = append(keys, k)
	}
	bigValue := func(k string) string { return "value:" + k + strings.Repeat("x", 8000) }
	var bigKeys []string
	for k := range big {
		bigKeys = append(bigKeys, k)
	}
	if err := redistest.SetKeys(c.members(0), bigKeys, bigValue); err != nil {
		t.Fatal(err)
	}
	r = rc(t, "rebalance", c.addr(0), "--by", "memory", "--threshold", "5")
	wantCode(t, "rebalance --by memory", r, 0)
	contains(t, "rebalance --by memory", r.Stdout, "Moving ", " slots from "+c.addr(1)+" to ")
	c.healthy(0)
	owners, err := redistest.SlotOwners(masters)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		want := "value:" + k
		if big[k] {
			want = bigValue(k)
		}
		if v, err := owners[redistest.KeySlot(k)].DoString("GET", k); err != nil || v != want {
			t.Fatalf("key %s after --by memory: %.20q, %v", k, v, err)
		}
	}
	usage := make([]float64, len(masters))
	var sum float64
	for i, s := range masters {
		for _, k := range scanAll(t, s) {
			n, err := s.DoInt("MEMORY", "USAGE", k)
			if err != nil {
				t.Fatal(err)
			}
			usage[i] += float64(n)
		}
		sum += usage[i]
	}
	// The estimate weighs the first 16 keys of a slot: close to, not
	// exactly, the memory of every key.
	for i, u := range usage {
		if off := math.Abs(u-sum/3) * 100 / (sum / 3); off > 7 {
			t.Errorf("%s holds %.0f bytes, %.1f%% off its share %.0f", c.addr(i), u, off, sum/3)
		}
	}
}
