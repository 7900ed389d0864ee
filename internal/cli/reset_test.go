package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// TestResetRefusals runs reset on a healthy cluster and on empty nodes:
// every refusal exits 1 with its reasons and changes no node, a dry run and
// a declined question change nothing either, and -o json says it all.
func TestResetRefusals(t *testing.T) {
	t.Parallel()
	servers := redistest.StartCluster(t, redistest.Options{Count: 3}, 0)
	spare := redistest.Start(t, redistest.Options{Count: 2})
	alone := redistest.Start(t, redistest.Options{Count: 1, Standalone: true})[0]
	all := append(append([]*redistest.Server{}, servers...), spare...)
	key := redistest.KeysInSlot(0, 1, "k")[0]
	if _, err := servers[0].Do("SET", key, "v"); err != nil { // slot 0 is the first master's
		t.Fatal(err)
	}
	A, B, C := servers[0].Addr(), servers[1].Addr(), servers[2].Addr()
	healthy := "healthy cluster (masters " + A + " " + B + " " + C + ")"
	forceMsg := "[ERR] Node " + A + " serves a " + healthy + ": reset it with --force if it is to leave that cluster.\n"
	flushMsg := "[ERR] Node " + A + " has keys in database 0: reset it with --flush to delete them.\n"
	wrongArgs := "[ERR] Wrong number of arguments for specified --cluster sub command\n"

	for _, tc := range []struct {
		name           string
		args           []string
		stdin          string
		code           int
		stdout, stderr []string // substrings
	}{
		{"no-args", []string{"reset"}, "", 1, nil, []string{wrongArgs}},
		{"no-port", []string{"reset", "127.0.0.1"}, "", 1, nil, []string{"Invalid address format: 127.0.0.1\n"}},
		{"refused", []string{"reset", spare[0].Addr(), "127.0.0.1:1"}, "", 1, nil, []string{"Could not connect to Redis at 127.0.0.1:1: Connection refused\n"}},
		{"not-cluster", []string{"reset", alone.Addr()}, "", 1, []string{"[ERR] Node " + alone.Addr() + " is not configured as a cluster node.\n"}, nil},
		{"twice", []string{"reset", spare[0].Addr(), "localhost:" + strconv.Itoa(spare[0].Port)}, "", 1,
			[]string{"[ERR] Node localhost:" + strconv.Itoa(spare[0].Port) + " is the same node as " + spare[0].Addr()}, nil},
		{"empty", []string{"reset", spare[0].Addr(), spare[1].Addr()}, "", 0,
			[]string{"   empty: nothing to reset\n", "[OK] Every node is empty: nothing to reset.\n"}, nil},
		{"no-flags", []string{"reset", A, spare[0].Addr()}, "", 1,
			[]string{"M: " + nodeIDOf(t, servers[0]) + " " + A + "\n   slots:[0-5460] (5461 slots), 1 key in database 0, knows 2 other nodes\n   serves the healthy cluster of masters " + A + " " + B + " " + C + "\n",
				forceMsg, flushMsg}, nil},
		{"force-only", []string{"reset", A, "--force"}, "", 1, []string{flushMsg}, nil},
		{"flush-only", []string{"reset", A, "--flush"}, "", 1, []string{forceMsg}, nil},
		{"other-masters", []string{"reset", B, C, "--flush"}, "", 1, []string{"[ERR] Node " + B + " serves a " + healthy}, nil},
		{"dry-run", []string{"reset", A, B, "--flush", "--force", "--dry-run"}, "", 0,
			[]string{"[WARNING] Node " + A + " serves a " + healthy + ": --force resets it anyway.\n"}, []string{"Dry run: nothing was changed.\n"}},
		{"declined", []string{"reset", A, "--flush", "--force"}, "no\n", 0,
			[]string{"Can I delete the keys of the above nodes and reset them? (type 'yes' to accept): "}, nil},
		{"no-answer", []string{"reset", B, "--force"}, "", 0, []string{"Can I reset the above nodes? (type 'yes' to accept): "}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, all)
			got := runRCluster(t, tc.stdin, "dumb", nil, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n--- stdout\n%s--- stderr\n%s", got.code, tc.code, got.stdout, got.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(got.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, got.stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(got.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, got.stderr)
				}
			}
			if tc.stderr == nil && got.stderr != "" {
				t.Errorf("stderr %q, want nothing", got.stderr)
			}
			if after := snapshot(t, all); after != before {
				t.Fatalf("the nodes changed\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}

	// -o json: the document of a refusal, and of a dry run.
	j := runRCluster(t, "", "dumb", []string{"-o", "json"}, "reset", A, spare[0].Addr(), "--force")
	doc := decode[report.ResetDoc](t, j.stdout)
	if j.code != 1 || doc.OK || len(doc.Nodes) != 2 {
		t.Fatalf("reset -o json refused: exit %d\n%s", j.code, j.stdout)
	}
	if n := doc.Nodes[0]; n.Action != report.ResetRefused || !n.NeedsFlush || !n.NeedsForce || n.Keys != 1 || n.SlotCount != 5461 ||
		n.OtherNodes != 2 || len(n.Cluster) != 3 || n.Role != "master" {
		t.Errorf("refused node: %+v", n)
	}
	if n := doc.Nodes[1]; n.Action != report.ResetNone || n.NeedsFlush || n.NeedsForce {
		t.Errorf("empty node: %+v", n)
	}
	j = runRCluster(t, "", "dumb", []string{"-o", "json"}, "reset", A, "--force", "--flush", "--dry-run")
	doc = decode[report.ResetDoc](t, j.stdout)
	if j.code != 0 || !doc.OK || !doc.DryRun || doc.Nodes[0].Action != report.ResetPlanned {
		t.Errorf("reset --dry-run -o json: exit %d\n%s", j.code, j.stdout)
	}
	if j.stderr != "Dry run: nothing was changed.\n" {
		t.Errorf("reset --dry-run -o json: stderr %q", j.stderr)
	}
}

// TestResetBrokenNodes leaves three nodes as a failed create leaves them
// (slots assigned, nodes met, keys loaded, no healthy cluster): reset needs
// no --force, empties them without a restart, and create takes them.
func TestResetBrokenNodes(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 3})
	addrs := []string{servers[0].Addr(), servers[1].Addr(), servers[2].Addr()}
	for _, cmd := range [][]any{{"CLUSTER", "ADDSLOTSRANGE", 0, 100}, {"DEBUG", "POPULATE", 5}} {
		if _, err := servers[0].Do(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := servers[1].Do("CLUSTER", "MEET", servers[2].Host, servers[2].Port); err != nil {
		t.Fatal(err)
	}
	create := runRCluster(t, "", "dumb", nil, append([]string{"create", "--yes"}, addrs...)...)
	if create.code != 1 || !strings.Contains(create.stdout, "[ERR] Node "+addrs[0]+" is not empty.") {
		t.Fatalf("create on a node with keys: exit %d\n%s", create.code, create.stdout)
	}
	// servers[1] and [2] may not have met yet: only servers[0] is sure.
	if !strings.HasPrefix(create.stderr, "Nodes that are not empty can be emptied with: rcluster reset "+addrs[0]) ||
		!strings.HasSuffix(create.stderr, " --flush\n") {
		t.Errorf("create's stderr: %q", create.stderr)
	}
	// Let the MEET land first, so that no handshake in flight re-introduces
	// the two after their reset.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, _ := servers[2].DoString("CLUSTER", "INFO")
		if strings.Contains(info, "cluster_known_nodes:2\r\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never met %s", servers[1].Addr(), servers[2].Addr())
		}
	}

	r := runRCluster(t, "", "dumb", []string{"-o", "json"}, append([]string{"reset", "--flush", "--yes"}, addrs...)...)
	doc := decode[report.ResetDoc](t, r.stdout)
	if r.code != 0 || !doc.OK {
		t.Fatalf("reset: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := doc.Nodes[0]; n.Action != report.ResetDone || n.Keys != 5 || n.SlotCount != 101 || n.NeedsForce || n.NewID == "" || n.NewID == n.ID {
		t.Errorf("node with slots and keys: %+v", n)
	}
	for _, s := range servers {
		info, err := s.DoString("CLUSTER", "INFO")
		if err != nil || !strings.Contains(info, "cluster_known_nodes:1\r\n") || !strings.Contains(info, "cluster_slots_assigned:0\r\n") {
			t.Errorf("%s after reset: %v\n%s", s.Addr(), err, info)
		}
		if n, _ := s.DoInt("DBSIZE"); n != 0 {
			t.Errorf("%s has %d keys after reset --flush", s.Addr(), n)
		}
	}
	create = runRCluster(t, "", "dumb", nil, append([]string{"create", "--yes"}, addrs...)...)
	if create.code != 0 {
		t.Fatalf("create after reset: exit %d\n%s\n%s", create.code, create.stdout, create.stderr)
	}
}
