package e2e

import (
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
)

// TestCreateZones: with --zone, create spreads the masters over the zones
// and keeps every replica out of its master's zone. The six nodes share one
// host, and two zones hold nodes that redis-cli's layout (by host) would
// make masters together, so the test fails if the zones are ignored.
// Refusals change nothing.
func TestCreateZones(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Count: 6, Build: serverBuild})
	zoneOf := map[string]string{}
	var args []string
	for i, srv := range s {
		z := string(rune('a' + i/2)) // a: nodes 0,1; b: 2,3; c: 4,5
		zoneOf[srv.Addr()] = z
		args = append(args, srv.Addr())
	}
	zones := func(except int) []string {
		var out []string
		for i, srv := range s {
			if i != except {
				out = append(out, "--zone", srv.Addr()+"="+zoneOf[srv.Addr()])
			}
		}
		return out
	}

	before := redistest.Snapshot(s)
	for _, tc := range []struct {
		name, says string // on stdout (create's errors, as redis-cli's) or stderr (flags)
		args       []string
	}{
		{"a node without a zone", "*** No zone for " + s[5].Addr() + ": give --zone HOST=ZONE for every host (or HOST:PORT=ZONE for every node).", zones(5)},
		{"a zone for no node", "*** --zone 10.9.9.9=d names no node given to create.", append(zones(-1), "--zone", "10.9.9.9=d")},
		{"no zone after =", `Invalid --zone "` + s[0].Addr() + `=": want HOST=ZONE or HOST:PORT=ZONE.`, []string{"--zone", s[0].Addr() + "="}},
		{"twice", "already has zone a.", append(zones(-1), "--zone", s[0].Addr()+"=b")},
	} {
		r := rc(t, append(append([]string{"create"}, args...), append([]string{"--replicas", "1", "--yes"}, tc.args...)...)...)
		if r.Code != 1 || !strings.Contains(r.Stdout+r.Stderr, tc.says) {
			t.Errorf("%s: want exit 1 and %q\n%s", tc.name, tc.says, r)
		}
	}
	if after := redistest.Snapshot(s); after != before {
		t.Fatalf("a refused create changed the nodes:\n%s\n---\n%s", before, after)
	}

	r := rc(t, append(append([]string{"create"}, args...), append([]string{"--replicas", "1", "--yes"}, zones(-1)...)...)...)
	wantCode(t, "create --zone", r, 0)
	wantZoneLayout(t, s, zoneOf, r)
}

// TestCreateAvailabilityZones: on Valkey 8, create lays out by the nodes'
// own availability-zone setting when every node has one, and by host,
// saying so, when only some do.
func TestCreateAvailabilityZones(t *testing.T) {
	serverBuild.Require(t)
	if serverBuild != redistest.Valkey8 {
		t.Skip("availability-zone is a Valkey 8 setting: this runs with RCLUSTER_E2E_BUILD=valkey-8.0.1 (make test-builds)")
	}
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Count: 6, Build: serverBuild})
	zoneOf := map[string]string{}
	var args []string
	for i, srv := range s {
		zoneOf[srv.Addr()] = string(rune('a' + i/2))
		args = append(args, srv.Addr())
	}
	set := func(srv *redistest.Server, zone string) {
		if _, err := srv.Do("CONFIG", "SET", "availability-zone", zone); err != nil {
			t.Fatal(err)
		}
	}
	set(s[0], "a")
	r := rc(t, append(append([]string{"create"}, args...), "--replicas", "1", "--dry-run")...)
	wantCode(t, "create --dry-run, one zone set", r, 0)
	contains(t, "create with one zone set", r.Stderr, "availability-zone is set on 1 of 6 nodes only: laying out by host")

	for _, srv := range s {
		set(srv, zoneOf[srv.Addr()])
	}
	r = rc(t, append(append([]string{"create"}, args...), "--replicas", "1", "--yes")...)
	wantCode(t, "create", r, 0)
	wantZoneLayout(t, s, zoneOf, r)
}

// wantZoneLayout fails unless the cluster on s has three masters in three
// zones and every replica out of its master's zone.
func wantZoneLayout(t *testing.T, s []*redistest.Server, zoneOf map[string]string, r result) {
	t.Helper()
	if strings.Contains(r.Stdout, "same host as their") {
		t.Errorf("create warns of replicas in their master's zone:\n%s", r.Stdout)
	}
	ids := map[string]string{} // node id -> address
	masterOf := map[string]string{}
	for _, srv := range s {
		me, err := srv.Myself()
		if err != nil {
			t.Fatal(err)
		}
		ids[me.ID] = srv.Addr()
		if me.MasterID != "" && me.MasterID != "-" {
			masterOf[srv.Addr()] = me.MasterID
		}
	}
	masterZones := map[string]bool{}
	for _, srv := range s {
		addr := srv.Addr()
		if id, ok := masterOf[addr]; ok {
			if m := ids[id]; zoneOf[m] == zoneOf[addr] {
				t.Errorf("replica %s is in zone %s with its master %s", addr, zoneOf[addr], m)
			}
			continue
		}
		if masterZones[zoneOf[addr]] {
			t.Errorf("two masters in zone %s", zoneOf[addr])
		}
		masterZones[zoneOf[addr]] = true
	}
	if len(masterOf) != 3 || len(masterZones) != 3 {
		t.Errorf("want 3 masters in 3 zones and 3 replicas; masters' zones %v, replicas %v", masterZones, masterOf)
	}
}

// TestPlacement: every replica in its master's zone is reported (exit 1);
// --apply swaps masters among the replicas, one CLUSTER REPLICATE each and
// no slot moved, until none is, and the cluster checks clean.
func TestPlacement(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	s := redistest.Start(t, redistest.Options{Count: 6, Build: serverBuild})
	var args []string
	for _, srv := range s {
		args = append(args, srv.Addr())
	}
	wantCode(t, "create", rc(t, append(append([]string{"create"}, args...), "--replicas", "1", "--yes")...), 0)

	// Zones that put each replica with its master.
	lines := map[string]*redistest.NodeLine{} // by address
	addrOf := map[string]string{}             // by id
	slotsBefore := map[string]string{}
	for _, srv := range s {
		me, err := srv.Myself()
		if err != nil {
			t.Fatal(err)
		}
		lines[srv.Addr()], addrOf[me.ID] = me, srv.Addr()
		slotsBefore[me.ID] = strings.Join(me.Slots, " ")
	}
	zoneOf := map[string]string{}
	var zones []string
	next := 'a'
	for addr, l := range lines {
		if l.HasFlag("master") {
			zoneOf[addr] = string(next)
			next++
		}
	}
	for addr, l := range lines {
		if !l.HasFlag("master") {
			zoneOf[addr] = zoneOf[addrOf[l.MasterID]]
		}
	}
	for addr, z := range zoneOf {
		zones = append(zones, "--zone", addr+"="+z)
	}

	r := rc(t, append([]string{"placement", args[0]}, zones...)...)
	wantCode(t, "placement", r, 1)
	if n := strings.Count(r.Stdout, "is in the same zone as its master"); n != 3 {
		t.Errorf("placement reports %d replicas in their master's zone, want 3:\n%s", n, r.Stdout)
	}
	before := redistest.Snapshot(s)
	wantCode(t, "placement --apply --dry-run", rc(t, append([]string{"placement", args[0], "--apply", "--dry-run"}, zones...)...), 0)
	if after := redistest.Snapshot(s); after != before {
		t.Fatalf("--dry-run changed the nodes:\n%s\n---\n%s", before, after)
	}

	r = rc(t, append([]string{"placement", args[0], "--apply", "--yes"}, zones...)...)
	wantCode(t, "placement --apply", r, 0)
	if n := strings.Count(r.Stdout, "Replica "); n < 3 {
		t.Errorf("want 3 replicas moved:\n%s", r.Stdout)
	}
	replicas := map[string]int{}
	for _, srv := range s {
		me, err := srv.Myself()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(me.Slots, " "); got != slotsBefore[me.ID] {
			t.Errorf("%s: slots %q, were %q: placement moved slots", srv.Addr(), got, slotsBefore[me.ID])
		}
		if me.HasFlag("master") {
			continue
		}
		master := addrOf[me.MasterID]
		replicas[master]++
		if zoneOf[master] == zoneOf[srv.Addr()] {
			t.Errorf("replica %s still in zone %s with its master %s", srv.Addr(), zoneOf[master], master)
		}
	}
	if len(replicas) != 3 {
		t.Errorf("replicas per master after --apply: %v, want one each", replicas)
	}
	wantCode(t, "check after placement", rc(t, "check", args[0]), 0)
	r = rc(t, append([]string{"placement", args[0]}, zones...)...)
	wantCode(t, "placement after --apply", r, 0)
	contains(t, "placement after --apply", r.Stdout, "[OK] No replica is in the same zone as its master.")
}
