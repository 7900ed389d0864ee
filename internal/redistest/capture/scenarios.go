package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// firstPort is the port of the first server of the first scenario; each
// scenario gets its own block of 10 ports. The cluster bus ports (+10000)
// stay below 32768, the start of Linux's default ephemeral range, so that
// client connections (and their TIME_WAIT) never hold them.
const firstPort = 22101

var threeHosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

func scenarios() []*scenario {
	base := firstPort
	next := func() int { b := base; base += 10; return b }
	a := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	var list []*scenario
	add := func(sc *scenario) { list = append(list, sc) }

	// healthy clusters -------------------------------------------------

	b := next()
	add(&scenario{
		name: "healthy-3", base: b, count: 3,
		desc: "3 masters (" + a(b) + "-" + strconv.Itoa(b+2) + "), no replicas, no keys",
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 0, "[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.", "!WARNING", "!ERR")
		},
	})

	b = next()
	add(&scenario{
		name: "healthy-3x1-keys", base: b, count: 6, replicas: 1,
		desc: "6 nodes created with --cluster-replicas 1, 200 keys; extra runs enter through the second node (info), " +
			"through a replica (check) and with the two-word \"HOST PORT\" address form (check)",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 200, "key"); err != nil {
				return err
			}
			return e.replicasSynced()
		},
		runs: func(e *env) []runSpec {
			_, reps := e.roles()
			return []runSpec{
				{args: []string{"info", e.s(1).Addr()}},
				{args: []string{"check", e.s(2).Host, strconv.Itoa(e.s(2).Port)}},
				{args: []string{"check", e.s(reps[0]).Addr()}},
			}
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			if err := expect(fx, "", check(e), 0, "[OK] 200 keys in 3 masters.", "0.01 keys per slot on average.", "1 additional replica(s)", "!ERR"); err != nil {
				return err
			}
			return expect(fx, "", []string{"check", e.s(2).Host, strconv.Itoa(e.s(2).Port)}, 0, ">>> Performing Cluster Check (using node "+e.s(2).Addr()+")")
		},
	})

	b = next()
	add(&scenario{
		name: "multihost-6x1", base: b, count: 6, replicas: 1, hosts: threeHosts,
		desc: "6 nodes over 127.0.0.1/.2/.3 (ports " + strconv.Itoa(b) + "-" + strconv.Itoa(b+5) + ", hosts cycled), --cluster-replicas 1, 60 keys; an extra info enters through 127.0.0.2",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 60, "key"); err != nil {
				return err
			}
			return e.replicasSynced()
		},
		runs: func(e *env) []runSpec {
			return []runSpec{{args: []string{"info", e.s(1).Addr()}}}
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 0, "127.0.0.2:", "127.0.0.3:", "[OK] 60 keys in 3 masters.", "1 additional replica(s)", "!ERR")
		},
	})

	b = next()
	add(&scenario{
		name: "multihost-9x2", base: b, count: 9, replicas: 2, hosts: threeHosts,
		desc:  "9 nodes over 127.0.0.1/.2/.3 (ports " + strconv.Itoa(b) + "-" + strconv.Itoa(b+8) + ", hosts cycled), --cluster-replicas 2, no keys",
		build: func(e *env) error { return e.replicasSynced() },
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 0, "2 additional replica(s)", "| 2 slaves.", "!ERR")
		},
	})

	// open slots -------------------------------------------------------

	b = next()
	add(&scenario{
		name: "open-slot-both", base: b, count: 3,
		desc:  "slot 10 MIGRATING on " + a(b) + " to " + a(b+2) + " and IMPORTING on " + a(b+2) + ", 3 keys of slot 10 on each (the last 3 moved with MIGRATE)",
		build: openSlot10,
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(0).Addr()+" has slots in migrating state 10.",
				"[WARNING] Node "+e.s(2).Addr()+" has slots in importing state 10.",
				"[WARNING] The following slots are open: 10.",
				"[OK] 6 keys in 3 masters.")
		},
	})

	b = next()
	add(&scenario{
		name: "open-importing-only", base: b, count: 3,
		desc: "slot 609 (owned by " + a(b) + ") IMPORTING on " + a(b+1) + " only; key aga on the owner, 2 more keys of slot 609 moved to the importing node with MIGRATE",
		build: func(e *env) error {
			keys := redistest.KeysInSlot(609, 2, "k")
			if err := e.setKeys(0, append([]string{"aga"}, keys...)...); err != nil {
				return err
			}
			if err := e.do(1, "CLUSTER", "SETSLOT", 609, "IMPORTING", e.id(0)); err != nil {
				return err
			}
			return e.migrate(0, 1, keys...)
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(1).Addr()+" has slots in importing state 609.",
				"!migrating state",
				"[WARNING] The following slots are open: 609.")
		},
	})

	b = next()
	add(&scenario{
		name: "open-migrating-only", base: b, count: 3,
		desc: "slot 609 MIGRATING on its owner " + a(b) + " to " + a(b+1) + " only (no IMPORTING); key aga on the owner",
		build: func(e *env) error {
			if err := e.setKeys(0, "aga"); err != nil {
				return err
			}
			return e.do(0, "CLUSTER", "SETSLOT", 609, "MIGRATING", e.id(1))
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(0).Addr()+" has slots in migrating state 609.",
				"!importing state",
				"[WARNING] The following slots are open: 609.")
		},
	})

	b = next()
	add(&scenario{
		name: "open-many", base: b, count: 3,
		desc: "24 open slots on all 3 masters (A=" + a(b) + " B=" + a(b+1) + " C=" + a(b+2) + "): " + openManyDesc +
			"; keys: 2 of slot 5 on A, slot 1000 one key on A and one moved to B, 1 of slot 5500 on B",
		build: buildOpenMany,
		validate: func(e *env, fx *redistest.Fixture) error {
			if err := expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(0).Addr()+" has slots in migrating state 5,7,8,9,10,11,12,100,101,102,103,104,1000,2000,3000,4000.",
				"[WARNING] The following slots are open: "); err != nil {
				return err
			}
			r, _ := plain(fx, "", check(e)...)
			for _, l := range strings.Split(r.Stdout, "\n") {
				if rest, ok := strings.CutPrefix(l, "[WARNING] The following slots are open: "); ok {
					if n := len(strings.Split(rest, ",")); n != 24 {
						return fmt.Errorf("%d open slots listed, want 24", n)
					}
				}
			}
			return nil
		},
	})

	b = next()
	add(&scenario{
		name: "open-dict-order", base: b, count: 3,
		desc: "the open slots of spec 6.11: " + a(b) + " MIGRATING 5,7,8,9,10,11,12,1000,2000,3000,4000 to " + a(b+1) +
			" and IMPORTING 5500 from it, " + a(b+1) + " MIGRATING 5500 to " + a(b) + "; no keys",
		build: func(e *env) error {
			for _, s := range []int{5, 7, 8, 9, 10, 11, 12, 1000, 2000, 3000, 4000} {
				if err := e.do(0, "CLUSTER", "SETSLOT", s, "MIGRATING", e.id(1)); err != nil {
					return err
				}
			}
			if err := e.do(0, "CLUSTER", "SETSLOT", 5500, "IMPORTING", e.id(1)); err != nil {
				return err
			}
			return e.do(1, "CLUSTER", "SETSLOT", 5500, "MIGRATING", e.id(0))
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(0).Addr()+" has slots in migrating state 5,7,8,9,10,11,12,1000,2000,3000,4000.",
				"[WARNING] Node "+e.s(0).Addr()+" has slots in importing state 5500.",
				"[WARNING] Node "+e.s(1).Addr()+" has slots in migrating state 5500.",
				"[WARNING] The following slots are open: ")
		},
	})

	// coverage and agreement ----------------------------------------------

	b = next()
	add(&scenario{
		name: "uncovered", base: b, count: 3,
		desc: "CLUSTER DELSLOTS 100 101 102 on their owner " + a(b) + " only: slot 100 has no keys, 101 has 3 keys on " + a(b) +
			", 102 has 3 keys on " + a(b) + " and 1 on " + a(b+1) + " (moved there with MIGRATE while importing, then STABLE); the other nodes still see " + a(b) + " as the owner",
		build: func(e *env) error {
			k101 := redistest.KeysInSlot(101, 3, "k")
			k102 := redistest.KeysInSlot(102, 4, "k")
			if err := e.setKeys(0, append(k101, k102...)...); err != nil {
				return err
			}
			if err := e.do(1, "CLUSTER", "SETSLOT", 102, "IMPORTING", e.id(0)); err != nil {
				return err
			}
			if err := e.migrate(0, 1, k102[3]); err != nil {
				return err
			}
			if err := e.do(1, "CLUSTER", "SETSLOT", 102, "STABLE"); err != nil {
				return err
			}
			return e.do(0, "CLUSTER", "DELSLOTS", 100, 101, 102)
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[ERR] Not all 16384 slots are covered by nodes.\n\n",
				"[ERR] Nodes don't agree about configuration!",
				"slots:[0-99],[103-"+"5460] (5458 slots) master",
				"[OK] 7 keys in 3 masters.")
		},
	})

	b = next()
	add(&scenario{
		name: "disagree", base: b, count: 3,
		desc: "all slots covered but the nodes disagree: " + a(b+2) + " ran CLUSTER FORGET of " + a(b) + " (captured within the 60 s ban), so its CLUSTER NODES has no line for " + a(b),
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 30, "key"); err != nil {
				return err
			}
			return e.do(2, "CLUSTER", "FORGET", e.id(0))
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			if strings.Contains(fx.Nodes[e.s(2).Addr()].ClusterNodes, e.s(0).Addr()) {
				return fmt.Errorf("%s knows %s again", e.s(2).Addr(), e.s(0).Addr())
			}
			return expect(fx, "", check(e), 1,
				"[ERR] Nodes don't agree about configuration!",
				"[OK] All 16384 slots covered.",
				"!WARNING")
		},
	})

	// dead nodes -----------------------------------------------------------

	b = next()
	add(&scenario{
		name: "replica-down", base: b, count: 6, replicas: 1, timeoutMS: 30000,
		desc: "6 nodes with --cluster-replicas 1 and 100 keys, cluster-node-timeout 30000; the replica of " + a(b) +
			" was killed (SIGKILL) and captured before failure detection (no node flags it fail? or fail)",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 100, "key"); err != nil {
				return err
			}
			if err := e.replicasSynced(); err != nil {
				return err
			}
			r := e.replicaOf(0)
			e.stop(r)
			time.Sleep(time.Second)
			return nil
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			dead := ""
			for addr := range e.down {
				dead = addr
			}
			if err := noFlag(e, fx, dead, "fail?", "fail"); err != nil {
				return err
			}
			return expect(fx, "", check(e), 0,
				"stderr:Could not connect to Redis at "+dead+": Connection refused",
				e.s(0).Addr()+" (", "| 0 slaves.")
		},
	})

	b = next()
	add(&scenario{
		name: "master-down-pfail", base: b, count: 6, replicas: 1, timeoutMS: 1000,
		desc: "6 nodes with --cluster-replicas 1 and 100 keys, cluster-node-timeout 1000 except on " + a(b+1) + " (CONFIG SET to 60000); master " + a(b+2) +
			" was killed: every live node but " + a(b+1) + " flags it fail?, and no node can flag it fail (only one master reports it)",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 100, "key"); err != nil {
				return err
			}
			if err := e.replicasSynced(); err != nil {
				return err
			}
			if err := e.do(1, "CONFIG", "SET", "cluster-node-timeout", 60000); err != nil {
				return err
			}
			dead := e.s(2).Addr()
			e.stop(2)
			return waitFor("fail? seen", 20*time.Second, func() error {
				for i, s := range e.servers {
					if i == 1 || e.down[s.Addr()] {
						continue
					}
					f, err := e.viewFlags(i, dead)
					if err != nil {
						return err
					}
					if !strings.Contains(f, "fail?") {
						return fmt.Errorf("%s sees %s as %s", s.Addr(), dead, f)
					}
				}
				return nil
			})
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			dead := e.s(2).Addr()
			if err := noFlag(e, fx, dead, "fail"); err != nil {
				return err
			}
			if !flagIn(fx.Nodes[e.s(0).Addr()].ClusterNodes, dead, "fail?") {
				return fmt.Errorf("the entry node does not flag %s fail?", dead)
			}
			return expect(fx, "", check(e), 1,
				"stderr:Could not connect to Redis at "+dead+": Connection refused",
				"[ERR] Not all 16384 slots are covered by nodes.",
				"claims to be slave of unknown node ID")
		},
	})

	b = next()
	add(&scenario{
		name: "master-down-fail", base: b, count: 6, replicas: 1, timeoutMS: 1000, extra: []string{"cluster-replica-no-failover yes"},
		desc: "6 nodes with --cluster-replicas 1 and 100 keys, cluster-node-timeout 1000, cluster-replica-no-failover yes; master " + a(b+2) +
			" was killed and every live node flags it fail (its replica was not promoted)",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 100, "key"); err != nil {
				return err
			}
			if err := e.replicasSynced(); err != nil {
				return err
			}
			dead := e.s(2).Addr()
			e.stop(2)
			return waitFor("fail seen", 30*time.Second, func() error {
				for i, s := range e.servers {
					if e.down[s.Addr()] {
						continue
					}
					f, err := e.viewFlags(i, dead)
					if err != nil {
						return err
					}
					if !hasFlag(f, "fail") {
						return fmt.Errorf("%s sees %s as %s", s.Addr(), dead, f)
					}
				}
				return nil
			})
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			dead := e.s(2).Addr()
			for addr, n := range fx.Nodes {
				if !n.Down && !flagIn(n.ClusterNodes, dead, "fail") {
					return fmt.Errorf("%s does not flag %s fail", addr, dead)
				}
			}
			return expect(fx, "", check(e), 1,
				"stderr:Could not connect to Redis at "+dead+": Connection refused",
				"[ERR] Not all 16384 slots are covered by nodes.",
				"claims to be slave of unknown node ID")
		},
	})

	// multiple owners, auth, empty master -----------------------------------

	b = next()
	add(&scenario{
		name: "multi-owner", base: b, count: 3,
		desc: "slot 200 reassigned from " + a(b) + " to " + a(b+1) + " (DELSLOTS on the old owner, DELSLOTS+ADDSLOTS+BUMPEPOCH on the new one, all nodes agree) while " +
			a(b) + " still holds its 3 keys of slot 200; 20 other keys",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers, 20, "key"); err != nil {
				return err
			}
			if err := e.setKeys(0, redistest.KeysInSlot(200, 3, "k")...); err != nil {
				return err
			}
			for _, step := range []struct {
				i    int
				args []any
			}{
				{0, []any{"CLUSTER", "DELSLOTS", 200}},
				{1, []any{"CLUSTER", "DELSLOTS", 200}},
				{1, []any{"CLUSTER", "ADDSLOTS", 200}},
				{1, []any{"CLUSTER", "BUMPEPOCH"}},
			} {
				if err := e.do(step.i, step.args...); err != nil {
					return err
				}
			}
			return waitFor("agreement on slot 200", 20*time.Second, func() error {
				return redistest.StableErr(e.servers)
			})
		},
		runs: func(e *env) []runSpec {
			return []runSpec{{args: check(e, "--cluster-search-multiple-owners")}}
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			if err := expect(fx, "", check(e), 0, "[OK] All 16384 slots covered.", "!ERR"); err != nil {
				return err
			}
			return expect(fx, "", check(e, "--cluster-search-multiple-owners"), 1,
				"[WARNING] Slot 200 has 2 owners:\n    "+e.s(0).Addr()+"\n    "+e.s(1).Addr()+"\n")
		},
	})

	b = next()
	add(&scenario{
		name: "password", base: b, count: 3, password: "s3cret",
		desc:  "3 masters with requirepass/masterauth s3cret and 10 keys; runs with -a s3cret, plus info without a password",
		build: func(e *env) error { return redistest.LoadKeysErr(e.servers, 10, "key") },
		runs: func(e *env) []runSpec {
			return []runSpec{{args: []string{"info", e.s(0).Addr()}}}
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			if err := expect(fx, "s3cret", check(e), 0, "[OK] 10 keys in 3 masters.", "stderr:Warning: Using a password"); err != nil {
				return err
			}
			return expect(fx, "", []string{"info", e.s(0).Addr()}, 1, "[ERR] Node "+e.s(0).Addr()+" NOAUTH Authentication required.")
		},
	})

	b = next()
	add(&scenario{
		name: "empty-master", base: b, count: 4, createN: 3,
		desc: "3 masters created with 20 keys, then a 4th master " + a(b+3) + " with no slots joined with CLUSTER MEET; an extra info enters through it",
		build: func(e *env) error {
			if err := redistest.LoadKeysErr(e.servers[:3], 20, "key"); err != nil {
				return err
			}
			if err := e.do(3, "CLUSTER", "MEET", e.s(0).Host, e.s(0).Port); err != nil {
				return err
			}
			return redistest.WaitStableErr(e.servers, 30*time.Second)
		},
		runs: func(e *env) []runSpec {
			return []runSpec{{args: []string{"info", e.s(3).Addr()}}}
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 0, "slots: (0 slots) master", "| 0 slots |", "[OK] 20 keys in 4 masters.")
		},
	})

	// Valkey 8 replicates the slot states to the replicas: their views
	// show the open slot too.
	b = next()
	add(&scenario{
		name: "open-slot-replicas", base: b, count: 6, replicas: 1,
		desc: "6 nodes with --cluster-replicas 1; slot 10 MIGRATING on " + a(b) + " to " + a(b+2) + " and IMPORTING on " + a(b+2) +
			", 3 keys of slot 10 on each (the last 3 moved with MIGRATE), replicas in sync",
		build: func(e *env) error {
			if err := openSlot10(e); err != nil {
				return err
			}
			return e.replicasSynced()
		},
		validate: func(e *env, fx *redistest.Fixture) error {
			return expect(fx, "", check(e), 1,
				"[WARNING] Node "+e.s(0).Addr()+" has slots in migrating state 10.",
				"[WARNING] The following slots are open: 10.",
				"1 additional replica(s)")
		},
	})
	return list
}

// openSlot10 leaves slot 10 MIGRATING on server 0 to server 2 and
// IMPORTING on server 2, with 3 of its 6 keys moved.
func openSlot10(e *env) error {
	keys := redistest.KeysInSlot(10, 6, "k")
	if err := e.setKeys(0, keys...); err != nil {
		return err
	}
	if err := e.do(2, "CLUSTER", "SETSLOT", 10, "IMPORTING", e.id(0)); err != nil {
		return err
	}
	if err := e.do(0, "CLUSTER", "SETSLOT", 10, "MIGRATING", e.id(2)); err != nil {
		return err
	}
	return e.migrate(0, 2, keys[3:]...)
}

// open-many: 0 = A (0-5460), 1 = B (5461-10922), 2 = C (10923-16383).
const openManyDesc = "A MIGRATING 5,7-12,100-104,1000,2000,3000,4000 to B; B IMPORTING 1000,2000,3000 from A; " +
	"B MIGRATING 5500 to A and A IMPORTING 5500 from B; B MIGRATING 6000,7000,8000 to C and C IMPORTING 7000 from B; " +
	"C MIGRATING 12000,13000 to A and A IMPORTING 13000 from C; C IMPORTING 200,300 from A"

func buildOpenMany(e *env) error {
	ids := []string{e.id(0), e.id(1), e.id(2)}
	type st struct {
		node  int
		slots []int
		state string
		peer  int
	}
	steps := []st{
		{0, []int{5, 7, 8, 9, 10, 11, 12, 100, 101, 102, 103, 104, 1000, 2000, 3000, 4000}, "MIGRATING", 1},
		{1, []int{1000, 2000, 3000}, "IMPORTING", 0},
		{1, []int{5500}, "MIGRATING", 0},
		{0, []int{5500}, "IMPORTING", 1},
		{1, []int{6000, 7000, 8000}, "MIGRATING", 2},
		{2, []int{7000}, "IMPORTING", 1},
		{2, []int{12000, 13000}, "MIGRATING", 0},
		{0, []int{13000}, "IMPORTING", 2},
		{2, []int{200, 300}, "IMPORTING", 0},
	}
	if err := e.setKeys(0, redistest.KeysInSlot(5, 2, "k")...); err != nil {
		return err
	}
	k1000 := redistest.KeysInSlot(1000, 2, "k")
	if err := e.setKeys(0, k1000...); err != nil {
		return err
	}
	if err := e.setKeys(1, redistest.KeysInSlot(5500, 1, "k")...); err != nil {
		return err
	}
	for _, s := range steps {
		for _, slot := range s.slots {
			if err := e.do(s.node, "CLUSTER", "SETSLOT", slot, s.state, ids[s.peer]); err != nil {
				return err
			}
		}
	}
	return e.migrate(0, 1, k1000[1])
}

func hasFlag(flags, f string) bool {
	for _, x := range strings.Split(flags, ",") {
		if x == f {
			return true
		}
	}
	return false
}

// flagIn reports whether the CLUSTER NODES reply flags addr with f.
func flagIn(reply, addr, f string) bool {
	lines, _ := redistest.ParseClusterNodes(reply)
	for _, l := range lines {
		if l.HostPort() == addr {
			return l.HasFlag(f)
		}
	}
	return false
}

// noFlag checks that no live node's view flags addr with any of flags.
func noFlag(e *env, fx *redistest.Fixture, addr string, flags ...string) error {
	for a, n := range fx.Nodes {
		if n.Down {
			continue
		}
		for _, f := range flags {
			if flagIn(n.ClusterNodes, addr, f) {
				return fmt.Errorf("%s flags %s %s", a, addr, f)
			}
		}
	}
	return nil
}
