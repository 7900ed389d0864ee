package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// replicaOf returns the index of the server replicating master i.
func (c *cluster) replicaOf(i int) int {
	c.t.Helper()
	id := c.id(i)
	for j, s := range c.servers {
		if me, err := s.Myself(); err == nil && me.MasterID == id {
			return j
		}
	}
	c.t.Fatalf("master %d has no replica", i)
	return -1
}

// sawFailover fails unless every running server sees server replica as a
// master and server master as its replica.
func (c *cluster) sawFailover(replica, master int) {
	c.t.Helper()
	replicaID, masterID := c.id(replica), c.id(master)
	for i := range c.live() {
		roles := c.roles(i)
		r, m := roles[c.addr(replica)], roles[c.addr(master)]
		if r == nil || m == nil || r.HasFlag("slave") || m.MasterID != replicaID {
			c.t.Errorf("server %d does not see %s as master and %s (%s) as its replica: %+v %+v", i, c.addr(replica), c.addr(master), masterID, r, m)
		}
	}
}

// waitLink waits (at most 30s) until the replication link of server i is
// in state ("up" or "down").
func (c *cluster) waitLink(i int, state string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.s(i).DoString("INFO", "replication")
		if err == nil && strings.Contains(info, "master_link_status:"+state+"\r\n") {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the replication link of %s is not %s after 30s:\n%s", c.addr(i), state, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wroteDuring fails unless the writer completed writes since it was at
// started: the command ran under writes.
func wroteDuring(t testing.TB, w *writer, started int) {
	t.Helper()
	if n := w.count() - started; n < 10 {
		t.Errorf("only %d writes completed while the command ran: %s", n, w.summary())
	}
}

// changeDoc is the JSON document of a command that changes the cluster,
// with its plan of type P.
type changeDoc[P any] struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	DryRun  bool   `json:"dry_run"`
	Plan    P      `json:"plan"`
}

// TestFailover promotes a replica under a client that writes throughout:
// no acknowledged write is lost and every node agrees on the new master.
// Refusals (a master given, a replication link down, bad flags) and dry
// runs change nothing; --takeover passes through with a warning.
func TestFailover(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	c := newCluster(t, 6, 0, 1)
	c.healthy(0)
	const master = 0
	replica := c.replicaOf(master)

	before := redistest.Snapshot(c.servers)
	unchanged := func(what string) {
		t.Helper()
		if after := redistest.Snapshot(c.servers); after != before {
			t.Fatalf("%s changed the nodes\n--- before\n%s\n--- after\n%s", what, before, after)
		}
	}
	for _, tc := range []struct {
		name        string
		args        []string
		out, stderr string
	}{
		{"a master", []string{c.addr(master)}, "[ERR] Node " + c.addr(master) + " is a master: give the address of the replica to promote.\n", ""},
		{"force and takeover", []string{c.addr(replica), "--force", "--takeover"}, "", "*** --force and --takeover cannot be used together.\n"},
		{"negative lag", []string{c.addr(replica), "--max-lag", "-1"}, "", "Invalid --max-lag -1: it must be a number of bytes, 0 or more.\n"},
		{"no address", nil, "", "[ERR] Wrong number of arguments for specified --cluster sub command\n"},
	} {
		r := rc(t, append([]string{"failover"}, tc.args...)...)
		wantCode(t, tc.name, r, 1)
		contains(t, tc.name+": stdout", r.Stdout, tc.out)
		contains(t, tc.name+": stderr", r.Stderr, tc.stderr)
		unchanged(tc.name)
	}

	// The replica's link down (its master refuses its credentials): refused.
	c.do(replica, "CONFIG", "SET", "masteruser", "nobody", "masterauth", "wrong")
	c.do(replica, "CLIENT", "KILL", "TYPE", "master")
	c.waitLink(replica, "down")
	r := rc(t, "failover", c.addr(replica))
	wantCode(t, "failover with the link down", r, 1)
	contains(t, "failover with the link down", r.Stdout,
		">>> Failing over master "+c.addr(master)+" ("+c.id(master)+") to its replica "+c.addr(replica)+" ("+c.id(replica)+")\n",
		"   slots:[0-5460], replication: link down\n",
		"[ERR] Replica "+c.addr(replica)+" is not safe to promote: its link to its master is down. --force fails over anyway")
	unchanged("failover with the link down")
	c.do(replica, "CONFIG", "SET", "masteruser", "", "masterauth", "")
	c.waitLink(replica, "up")

	// Dry runs.
	r = rc(t, "failover", c.addr(replica), "--dry-run")
	wantCode(t, "failover --dry-run", r, 0)
	contains(t, "failover --dry-run", r.Stdout, "   slots:[0-5460], replication: link up, ")
	contains(t, "failover --dry-run", r.Stderr, "Dry run: nothing was changed.\n")
	r = rc(t, "failover", c.addr(replica), "--dry-run", "-o", "json")
	wantCode(t, "failover --dry-run -o json", r, 0)
	var doc changeDoc[report.FailoverDoc]
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("failover --dry-run -o json: %v\n%s", err, r)
	}
	if p := doc.Plan; !doc.OK || !doc.DryRun || p.Replica != c.id(replica) || p.Master != c.id(master) || p.Mode != "default" ||
		p.Replication.Link != "up" || p.Replication.LagBytes < 0 || p.Done {
		t.Errorf("failover --dry-run -o json: %+v", doc)
	}
	unchanged("the dry runs")

	// The failover, under writes.
	w := startWriter(t, c)
	waitWrites(t, w, 200)
	started := w.count()
	r = rc(t, "failover", c.addr(replica))
	wantCode(t, "failover", r, 0)
	wroteDuring(t, w, started)
	contains(t, "failover", r.Stdout,
		">>> Sending CLUSTER FAILOVER to "+c.addr(replica)+"\n",
		"[OK] "+c.addr(replica)+" is the master of slots [0-5460]: every node agrees.\n")
	if r.Stderr != "" {
		t.Errorf("failover wrote to stderr:\n%s", r.Stderr)
	}
	c.sawFailover(replica, master)
	waitWrites(t, w, w.count()+200)
	w.finish(t, c)
	c.healthy(0)

	// Back with --takeover: a warning on stderr, and the JSON result.
	c.waitLink(master, "up")
	r = rc(t, "failover", c.addr(master), "--takeover", "-o", "json")
	wantCode(t, "failover --takeover", r, 0)
	contains(t, "failover --takeover", r.Stderr, "Warning: CLUSTER FAILOVER TAKEOVER: ")
	doc = changeDoc[report.FailoverDoc]{}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("failover --takeover -o json: %v\n%s", err, r)
	}
	if !doc.OK || doc.DryRun || doc.Command != "failover" || doc.Plan.Mode != "takeover" || !doc.Plan.Done || doc.Plan.Replica != c.id(master) {
		t.Errorf("failover --takeover -o json: %+v", doc)
	}
	c.sawFailover(master, replica)
	c.healthy(0)
}

// TestEvacuate empties hosts of masters under a client that writes
// throughout. Three loopback "hosts"; masters 0 (127.0.0.1), 1 (.2), 2
// (.3), 3 (.1); replicas 4 (.2) of 0, 5 (.3) of 1, 6 (.1) of 3, 7 (.2) of
// 2. Evacuating 127.0.0.1 fails 0 over to 4 and names 3, whose only
// replica is on the same host; evacuating 127.0.0.3 through a node of
// another host fails 2 over to 7. No acknowledged write is lost.
func TestEvacuate(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 8, Hosts: []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}})
	if err := redistest.CreateCluster(servers[:4], 0); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, servers: servers}
	for replica, master := range map[int]int{4: 0, 5: 1, 6: 3, 7: 2} {
		r := rc(t, "add-node", c.addr(replica), c.addr(0), "--replica", "--master-id", c.id(master))
		wantCode(t, "add-node --replica", r, 0)
	}
	c.healthy(0)

	before := redistest.Snapshot(c.servers)
	// Through "localhost": the host evacuated is the one the nodes announce.
	r := rc(t, "evacuate", "localhost:"+itoa(c.s(0).Port), "--dry-run", "-o", "json")
	wantCode(t, "evacuate --dry-run", r, 1) // a master would stay
	contains(t, "evacuate --dry-run", r.Stderr, "Dry run: nothing was changed.\n")
	var doc changeDoc[report.EvacuateDoc]
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("evacuate --dry-run -o json: %v\n%s", err, r)
	}
	p := doc.Plan
	if doc.OK || !doc.DryRun || p.Host != "127.0.0.1" || len(p.Failovers) != 1 || p.Failovers[0].Replica != c.id(4) || p.Failovers[0].Master != c.id(0) ||
		len(p.Left) != 1 || p.Left[0].Master != c.id(3) || p.Left[0].Reason != "no replica on another host" {
		t.Errorf("evacuate --dry-run -o json: %+v", doc)
	}
	r = rc(t, "evacuate", c.addr(0), "nowhere.invalid", "--dry-run")
	wantCode(t, "evacuate of a host without nodes", r, 0)
	contains(t, "evacuate of a host without nodes", r.Stdout, ">>> Evacuating host nowhere.invalid: 0 masters with slots\n")
	r = rc(t, "evacuate", c.addr(0), "127.0.0.2", "extra")
	wantCode(t, "evacuate with three words", r, 1)
	contains(t, "evacuate with three words", r.Stderr, "[ERR] Wrong number of arguments")
	r = rc(t, "evacuate", "127.0.0.1")
	wantCode(t, "evacuate of a bare host", r, 1)
	contains(t, "evacuate of a bare host", r.Stderr, "*** evacuate needs the address of a node to load the cluster through: 127.0.0.1:PORT")
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("the dry runs changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}

	w := startWriter(t, c)
	waitWrites(t, w, 200)
	started := w.count()
	r = rc(t, "evacuate", c.addr(0))
	wantCode(t, "evacuate 127.0.0.1", r, 1)
	wroteDuring(t, w, started)
	contains(t, "evacuate 127.0.0.1", r.Stdout,
		">>> Evacuating host 127.0.0.1: 2 masters with slots\n",
		"[WARNING] Master "+c.addr(3)+" ("+c.id(3)+", slots:[12288-16383]) stays on 127.0.0.1: no replica on another host.\n",
		">>> Failing over master "+c.addr(0)+" ("+c.id(0)+") to its replica "+c.addr(4)+" ("+c.id(4)+")\n",
		"[OK] "+c.addr(4)+" is the master of slots [0-4095]: every node agrees.\n",
		"[ERR] Host 127.0.0.1 still has 1 master with slots: "+c.addr(3)+".\n")
	c.sawFailover(4, 0)
	waitWrites(t, w, w.count()+200)

	started = w.count()
	r = rc(t, "evacuate", c.addr(0), "127.0.0.3")
	wantCode(t, "evacuate 127.0.0.3", r, 0)
	wroteDuring(t, w, started)
	contains(t, "evacuate 127.0.0.3", r.Stdout,
		"[OK] "+c.addr(7)+" is the master of slots [8192-12287]: every node agrees.\n",
		"[OK] No master with slots is left on host 127.0.0.3.\n")
	c.sawFailover(7, 2)
	waitWrites(t, w, w.count()+200)
	w.finish(t, c)
	c.healthy(0)
	if me, err := c.s(3).Myself(); err != nil || me.HasFlag("slave") {
		t.Errorf("server 3, left alone, is no longer a master: %+v %v", me, err)
	}
}

// TestFailoverMasterDown: with its master killed (and a node timeout long
// enough that the cluster does not fail it over by itself meanwhile),
// failover refuses, naming the unreachable master; --force promotes the
// replica, with the warning on stderr. The old master, restarted, rejoins
// as a replica.
func TestFailoverMasterDown(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	c := newCluster(t, 6, 0, 1, "cluster-node-timeout 30000")
	c.healthy(0)
	const master = 1
	replica := c.replicaOf(master)
	keys := c.loadKeys(300, "down")
	redistest.WaitReplicated(t, c.servers)
	masterID := c.id(master)
	c.s(master).Stop()

	r := rc(t, "failover", c.addr(replica))
	wantCode(t, "failover with the master down", r, 1)
	contains(t, "failover with the master down", r.Stdout,
		">>> Failing over master "+c.addr(master)+" ("+masterID+") to its replica "+c.addr(replica)+" (",
		"[ERR] Replica "+c.addr(replica)+" is not safe to promote: its master cannot be reached. --force fails over anyway")
	if me, err := c.s(replica).Myself(); err != nil || me.HasFlag("master") {
		t.Fatalf("the refused failover promoted the replica: %+v %v", me, err)
	}

	r = rc(t, "failover", c.addr(replica), "--force")
	wantCode(t, "failover --force", r, 0)
	contains(t, "failover --force", r.Stderr,
		"Warning: CLUSTER FAILOVER FORCE: the replica does not wait for its master's last writes; acknowledged writes may be lost.\n",
		"Warning: the replica is not safe to promote: its master cannot be reached.\n")
	contains(t, "failover --force", r.Stdout, ">>> Sending CLUSTER FAILOVER FORCE to "+c.addr(replica)+"\n",
		"[OK] "+c.addr(replica)+" is the master of slots [5461-10922]: every node agrees.\n")

	if err := c.s(master).Restart(); err != nil {
		t.Fatal(err)
	}
	c.healthy(0)
	if me, err := c.s(master).Myself(); err != nil || me.MasterID != c.id(replica) {
		t.Errorf("the old master did not rejoin as a replica of %s: %+v %v", c.addr(replica), me, err)
	}
	c.keysIntact(keys)
}
