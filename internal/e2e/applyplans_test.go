package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// TestApplyEvacuation writes an evacuation plan of a host with two masters
// (nothing changes), refuses it once a master's slots changed, and
// carries out a fresh one: refused while one of its failovers is already
// made, then, with --resume, the other failover only, recorded.
func TestApplyEvacuation(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	// Servers 0 and 3 on 127.0.0.1 are masters, with replicas 4
	// (127.0.0.2) and 5 (127.0.0.3); server 1 is a master with replica 2.
	servers := redistest.Start(t, redistest.Options{Count: 6, Hosts: []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, Build: serverBuild})
	if err := redistest.CreateCluster([]*redistest.Server{servers[0], servers[1], servers[3]}, 0); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, servers: servers}
	for replica, master := range map[int]int{4: 0, 5: 3, 2: 1} {
		wantCode(t, "add-node --replica", rc(t, "add-node", c.addr(replica), c.addr(0), "--replica", "--master-id", c.id(master)), 0)
	}
	c.healthy(0)
	dir := t.TempDir()

	stale := filepath.Join(dir, "stale.json")
	before := redistest.Snapshot(c.servers)
	r := rc(t, "evacuate", c.addr(0), "--plan-out", stale)
	wantCode(t, "evacuate --plan-out", r, 0)
	contains(t, "evacuate --plan-out", r.Stderr, "Plan written to "+stale+" (2 failovers): nothing was changed. Carry it out with 'rcluster apply "+stale+"'.\n")
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("--plan-out changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}
	var pf report.PlanFile
	readJSON(t, stale, &pf)
	ev := pf.Evacuation
	if pf.Command != "evacuate" || pf.Entry != c.addr(0) || len(pf.Nodes) != 6 || ev == nil || ev.Host != "127.0.0.1" || len(ev.Failovers) != 2 || ev.MaxLag != 1<<20 {
		t.Fatalf("evacuation plan file: %+v", pf)
	}
	planned := map[string]string{}
	for _, f := range ev.Failovers {
		planned[f.Master] = f.Replica
	}
	if planned[c.id(0)] != c.id(4) || planned[c.id(3)] != c.id(5) {
		t.Fatalf("evacuation plan: failovers %v, want %s -> %s and %s -> %s", planned, c.id(0), c.id(4), c.id(3), c.id(5))
	}

	// One slot of server 0 moves: the plan no longer holds.
	wantCode(t, "reshard one slot away", rc(t, "reshard", c.addr(0), "--slot-range", "0", "--to", c.id(1), "--yes"), 0)
	c.healthy(0)
	c.applyRefused(stale, "master "+c.id(0)+" ("+c.addr(0)+") owns slots [1-5460], the plan fails over slots [0-5460]")

	// A fresh plan; its first failover is then made by hand.
	file := filepath.Join(dir, "evacuate.json")
	wantCode(t, "evacuate --plan-out again", rc(t, "evacuate", c.addr(0), "--plan-out", file), 0)
	readJSON(t, file, &pf)
	first, second := pf.Evacuation.Failovers[0], pf.Evacuation.Failovers[1]
	index := func(id string) int {
		for i := range c.servers {
			if c.id(i) == id {
				return i
			}
		}
		t.Fatalf("no server has ID %s", id)
		return -1
	}
	wantCode(t, "failover by hand", rc(t, "failover", first.ReplicaAddress), 0)
	c.applyRefused(file, "master "+first.Master+" ("+first.MasterAddress+") was already failed over to "+first.Replica+" ("+first.ReplicaAddress+
		"): continue an interrupted apply with --resume")

	r = rc(t, "apply", "--resume", file)
	wantCode(t, "apply --resume", r, 0)
	contains(t, "apply --resume", r.Stdout,
		">>> Failing over master "+second.MasterAddress+" ("+second.Master+") to its replica "+second.ReplicaAddress+" ("+second.Replica+")\n",
		"[OK] No master with slots is left on host 127.0.0.1.\n")
	if strings.Contains(r.Stdout, "Failing over master "+first.MasterAddress) {
		t.Errorf("apply --resume failed %s over again:\n%s", first.MasterAddress, r.Stdout)
	}
	c.sawFailover(index(second.Replica), index(second.Master))
	var rec report.PlanProgress
	readJSON(t, file+".progress", &rec)
	if !rec.Complete || rec.FailoversPlanned != 2 || len(rec.FailoversDone) != 2 {
		t.Errorf("progress after the apply: %+v", rec)
	}
	c.healthy(0)

	r = rc(t, "apply", file)
	wantCode(t, "apply again without --resume", r, 1)
	contains(t, "apply again without --resume", r.Stderr, "records an earlier apply of this plan (2 of 2 failovers done): continue it with 'rcluster apply --resume "+file+"'.")
	r = rc(t, "apply", "--resume", file)
	wantCode(t, "apply --resume when done", r, 0)
	contains(t, "apply --resume when done", r.Stdout, "[OK] Every failover of the plan is done.\n", "[OK] No master with slots is left on host 127.0.0.1.\n")
}

// TestApplyFixPlan writes a fix plan for a cluster with an open slot
// (nothing changes), refuses it while the check finds another problem,
// applies it once the cluster is back as planned (healthy after, no key
// lost), and refuses it again when its problem is gone.
func TestApplyFixPlan(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := newCluster(t, 3, 0, 0)
	keys := c.loadKeys(300, "fixplan")
	owners, err := redistest.SlotOwners(c.servers)
	if err != nil {
		t.Fatal(err)
	}
	index := func(s *redistest.Server) int {
		for i := range c.servers {
			if c.s(i) == s {
				return i
			}
		}
		t.Fatalf("%s is not a server of the cluster", s.Addr())
		return -1
	}
	slot := redistest.KeySlot(keys[0])
	src := index(owners[slot])
	dst := (src + 1) % 3
	c.do(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", c.id(dst))
	dir := t.TempDir()
	file := filepath.Join(dir, "fix.json")

	before := redistest.Snapshot(c.servers)
	r := rc(t, "fix", c.addr(0), "--plan-out", file)
	wantCode(t, "fix --plan-out", r, 0)
	contains(t, "fix --plan-out", r.Stderr, "Dry run: fix would repair the open slots ["+strconv.Itoa(slot)+"]: ",
		"Plan written to "+file+" (1 problems): nothing was changed. Carry it out with 'rcluster apply "+file+"'.\n")
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("--plan-out changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}
	var pf report.PlanFile
	readJSON(t, file, &pf)
	if pf.Command != "fix" || pf.Fix == nil || len(pf.Fix.Problems) != 1 || len(pf.Fix.Repairs) != 1 {
		t.Fatalf("fix plan file: %+v", pf)
	}
	if p := pf.Fix.Problems[0]; p.Kind != "open_slots" || p.Node != c.addr(src) || len(p.Slots) != 1 || p.Slots[0] != slot {
		t.Fatalf("fix plan's problem: %+v, want slot %d open on %s", p, slot, c.addr(src))
	}

	// Another slot opens: the check finds a problem the plan does not list.
	other := (slot + 1) % 16384
	importer := (index(owners[other]) + 1) % 3
	c.do(importer, "CLUSTER", "SETSLOT", other, "IMPORTING", c.id(index(owners[other])))
	c.applyRefused(file, "the check finds a problem the plan does not list: node "+c.addr(importer)+" has slots in importing state (slots ["+strconv.Itoa(other)+"])")
	c.do(importer, "CLUSTER", "SETSLOT", other, "STABLE")

	r = rc(t, "apply", "--resume", file)
	wantCode(t, "apply --resume of a fix plan", r, 1)
	contains(t, "apply --resume of a fix plan", r.Stderr, "*** A fix plan records no progress to resume")

	r = rc(t, "apply", file)
	wantCode(t, "apply of the fix plan", r, 0)
	contains(t, "apply of the fix plan", r.Stdout, ">>> Fixing open slot "+strconv.Itoa(slot)+"\n")
	c.healthy(0)
	c.keysIntact(keys)

	c.applyRefused(file, "the plan lists a problem the check no longer finds: node "+c.addr(src)+" has slots in migrating state (slots ["+strconv.Itoa(slot)+"])")
}

// applyRefused runs apply of file and requires it to refuse, naming the
// difference (what), with no node changed.
func (c *cluster) applyRefused(file, what string) {
	c.t.Helper()
	before := redistest.Snapshot(c.servers)
	r := rc(c.t, "apply", file)
	wantCode(c.t, "apply of "+file, r, 1)
	contains(c.t, "apply of "+file, r.Stderr, "*** The cluster does not match the plan: "+what+". Nothing was changed.\n")
	if after := redistest.Snapshot(c.servers); after != before {
		c.t.Fatalf("a refused apply of %s changed the nodes\n--- before\n%s\n--- after\n%s", file, before, after)
	}
}
