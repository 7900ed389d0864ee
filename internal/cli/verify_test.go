package cli

import (
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
)

// TestVerify: the JSON document of a healthy cluster (the redirects of
// --trace on stderr), a master that refuses writes (exit 1, its error, no
// key left), and the bad values of the flags.
func TestVerify(t *testing.T) {
	t.Parallel()
	servers := redistest.StartCluster(t, redistest.Options{Count: 6}, 1)
	entry := servers[0].Addr()

	r := runRCluster(t, "", "dumb", []string{"-o", "json"}, "verify", entry, "--trace", "--keys", "4", "--replica-timeout", "1m")
	doc := decode[report.VerifyDoc](t, r.stdout)
	if r.code != 0 || !doc.OK || len(doc.Masters) != 3 || len(doc.KeysLeft) != 0 || doc.Prefix != manager.VerifyPrefix {
		t.Fatalf("verify -o json: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	owners, err := redistest.SlotOwners(servers)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range doc.Masters {
		if !m.Reached || m.Error != "" || len(m.Keys) != 4 || len(m.Replicas) != 1 || !m.Replicas[0].CaughtUp {
			t.Errorf("master %+v", m)
		}
		for _, k := range m.Keys {
			if !strings.HasPrefix(k, manager.VerifyPrefix) || owners[cluster.KeySlot(k)].Addr() != m.Address {
				t.Errorf("key %s (slot %d) of %s is not in its slots", k, cluster.KeySlot(k), m.Address)
			}
		}
	}
	// The entry node is the first master: the keys of the 2 others are
	// redirected at each SET, GET, and DEL and EXISTS of the clean-up.
	if n, want := strings.Count(r.stderr, "-> Redirected to slot ["), 2*4*4; n != want {
		t.Errorf("%d redirects on stderr, want %d:\n%s", n, want, r.stderr)
	}
	noKeys(t, servers)

	// A master that refuses writes: exit 1, the others still verified.
	bad := owners[cluster.NumSlots-1]
	if _, err := bad.Do("CONFIG", "SET", "maxmemory", "1"); err != nil {
		t.Fatal(err)
	}
	r = runRCluster(t, "", "dumb", nil, "verify", entry)
	if _, err := bad.Do("CONFIG", "SET", "maxmemory", "0"); err != nil {
		t.Fatal(err)
	}
	if r.code != 1 {
		t.Errorf("verify with a master out of memory: exit %d\n%s", r.code, r.stdout)
	}
	for _, want := range []string{
		"[ERR] " + bad.Addr() + " (" + nodeIDOf(t, bad)[:8] + "...) -> could not take a write and read it back: OOM command not allowed",
		"[ERR] 1 of 3 masters could not take a write.\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Count(r.stdout, "[OK] ") != 2 {
		t.Errorf("the two other masters are not reported OK:\n%s", r.stdout)
	}
	noKeys(t, servers)

	for _, args := range [][]string{{"--keys", "0"}, {"--replica-timeout", "0s"}} {
		r := runRCluster(t, "", "dumb", nil, append([]string{"verify", entry}, args...)...)
		if r.code != 1 || r.stderr != "Invalid --keys or --replica-timeout: both must be more than 0.\n" || r.stdout != "" {
			t.Errorf("verify %v: exit %d, stderr %q, stdout %q", args, r.code, r.stderr, r.stdout)
		}
	}
}

// noKeys fails the test when a master holds a key (verify's keys are
// deleted on the masters before it exits).
func noKeys(t *testing.T, servers []*redistest.Server) {
	t.Helper()
	for _, s := range servers {
		me, err := s.Myself()
		if err != nil {
			t.Fatal(err)
		}
		if me.HasFlag("slave") {
			continue
		}
		if n, err := s.DoInt("DBSIZE"); err != nil || n != 0 {
			t.Errorf("%s holds %d keys (%v)", s.Addr(), n, err)
		}
	}
}
