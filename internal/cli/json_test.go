package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	return v
}

func TestCheckInfoJSON(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.StartCluster(t, redistest.Options{Count: 6}, 1)
	redistest.LoadKeys(t, nodes, 300, "json")

	r := runRCluster(t, "", "xterm-256color", nil, "check", nodes[0].Addr(), "-o", "json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("check -o json: exit %d, stderr %q", r.code, r.stderr)
	}
	doc := decode[report.ClusterDoc](t, r.stdout)
	masters, replicas := 0, 0
	for _, n := range doc.Nodes {
		switch n.Role {
		case "master":
			masters++
			if n.Keys == nil || n.SlotCount == 0 || n.Replicas != 1 {
				t.Errorf("master %+v: want keys, slots and one replica", n)
			}
		case "replica":
			replicas++
			if n.MasterID == "" || n.Keys != nil {
				t.Errorf("replica %+v", n)
			}
		}
	}
	if !doc.OK || doc.Entry != nodes[0].Addr() || doc.Keys != 300 || doc.Masters != 3 || masters != 3 || replicas != 3 ||
		doc.Covered != 16384 || len(doc.Problems) != 0 {
		t.Fatalf("unexpected document: %+v", doc)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("escape codes in JSON output")
	}

	// An open slot: the check fails, the document says why.
	owners, _ := redistest.SlotOwners(nodes)
	dstID, _ := owners[16000].ID()
	if _, err := owners[5].Do("CLUSTER", "SETSLOT", 5, "MIGRATING", dstID); err != nil {
		t.Fatal(err)
	}
	r = runRCluster(t, "", "dumb", nil, "check", nodes[0].Addr(), "-o", "json")
	doc = decode[report.ClusterDoc](t, r.stdout)
	if r.code != 1 || doc.OK || len(doc.Problems) != 1 || doc.Problems[0].Kind != "open_slots" ||
		doc.Problems[0].Node != owners[5].Addr() || len(doc.Problems[0].Slots) != 1 || doc.Problems[0].Slots[0] != 5 {
		t.Fatalf("open slot: exit %d, document %+v", r.code, doc)
	}

	// No cluster at all: an error document, the same exit code as in text.
	r = runRCluster(t, "", "dumb", nil, "info", "127.0.0.1:1", "-o", "json")
	e := decode[report.ErrorDoc](t, r.stdout)
	if r.code != 1 || e.OK || e.Error == "" || !strings.Contains(r.stderr, "Connection refused") {
		t.Fatalf("unreachable: exit %d, %+v, stderr %q", r.code, e, r.stderr)
	}
	if r := runRCluster(t, "", "dumb", nil, "info", nodes[0].Addr(), "-o", "yaml"); r.code != 2 {
		t.Fatalf("-o yaml: exit %d, want 2", r.code)
	}
}

// Every --dry-run prints its plan and leaves every node as it was.
func TestDryRunsChangeNothing(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.Start(t, redistest.Options{Count: 3})
	redistest.Create(t, nodes, 0)
	redistest.LoadKeys(t, nodes, 200, "dry")
	fresh := redistest.Start(t, redistest.Options{Count: 3})
	spare := fresh[0]
	ids := make([]string, 3)
	for i, n := range nodes {
		ids[i], _ = n.ID()
	}
	owners, _ := redistest.SlotOwners(nodes)
	if _, err := owners[7].Do("CLUSTER", "SETSLOT", 7, "MIGRATING", ids[2]); err != nil {
		t.Fatal(err)
	}
	all := append(append([]*redistest.Server{}, nodes...), fresh...)
	a := nodes[0].Addr()
	cases := []struct {
		name string
		args []string
		code int
		plan string // a field the JSON plan must have
	}{
		{"create", append(append([]string{"create"}, addrs(fresh)...), "--dry-run"), 0, "masters"},
		{"reshard", []string{"reshard", a, "--from", ids[0], "--to", ids[1], "--slots", "100", "--dry-run"}, 1, ""},
		{"rebalance", []string{"rebalance", a, "--weight", ids[0][:8] + "=3", "--dry-run"}, 1, ""},
		{"fix", []string{"fix", a, "--dry-run", "--yes"}, 1, "steps"},
		{"add-node", []string{"add-node", spare.Addr(), a, "--dry-run"}, 1, ""},
		{"del-node", []string{"del-node", a, ids[2], "--dry-run"}, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, all)
			r := runRCluster(t, "", "dumb", nil, tc.args...)
			// The open slot makes the commands that check first refuse; the
			// plan of create is still printed.
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.name == "fix" && !strings.Contains(r.stderr, "Dry run: fix would repair the open slots [7]: ") {
				t.Errorf("fix --dry-run does not say what it would do:\n%s", r.stderr)
			}
			j := runRCluster(t, "", "dumb", []string{"-o", "json"}, tc.args...)
			if !json.Valid([]byte(j.stdout)) {
				t.Errorf("-o json: not JSON: %q", j.stdout)
			}
			if tc.plan != "" {
				doc := decode[map[string]any](t, j.stdout)
				plan, _ := doc["plan"].(map[string]any)
				if doc["dry_run"] != true || plan[tc.plan] == nil {
					t.Errorf("-o json: no dry-run plan with %q: %s", tc.plan, j.stdout)
				}
			}
			if after := snapshot(t, all); after != before {
				t.Errorf("--dry-run changed the nodes\n--- before\n%s--- after\n%s", before, after)
			}
		})
	}

	// Without the open slot every dry run goes through, and still changes nothing.
	if _, err := owners[7].Do("CLUSTER", "SETSLOT", 7, "STABLE"); err != nil {
		t.Fatal(err)
	}
	source := redistest.Start(t, redistest.Options{Count: 1, Standalone: true})[0]
	if _, err := source.Do("SET", "imported", "v"); err != nil {
		t.Fatal(err)
	}
	all = append(all, source)
	timeout, _ := nodes[1].DoString("CONFIG", "GET", "cluster-node-timeout")
	for _, args := range [][]string{
		{"set-timeout", a, "5000", "--dry-run"},
		{"import", a, "--from", source.Addr(), "--dry-run"},
		{"reshard", a, "--from", ids[0], "--to", ids[1], "--slots", "100", "--dry-run"},
		{"rebalance", a, "--weight", ids[0][:8] + "=3", "--dry-run"},
		{"add-node", spare.Addr(), a, "--dry-run", "--replica"},
		{"del-node", a, ids[2], "--dry-run"},
		{"fix", a, "--dry-run"},
	} {
		before := snapshot(t, all)
		r := runRCluster(t, "", "dumb", nil, args...)
		if args[0] == "del-node" {
			// A master with slots is refused, dry run or not.
			if r.code != 1 || !strings.Contains(r.stdout, "is not empty!") {
				t.Errorf("%s: exit %d\n%s", args[0], r.code, r.stdout)
			}
		} else if r.code != 0 || !strings.Contains(r.stderr, "Dry run: nothing was changed.") {
			t.Errorf("%s: exit %d, stderr %q\n%s", args[0], r.code, r.stderr, r.stdout)
		}
		if args[0] == "reshard" {
			j := runRCluster(t, "", "dumb", []string{"-o", "json"}, args...)
			doc := decode[report.ResultDoc](t, j.stdout)
			plan, _ := json.Marshal(doc.Plan)
			var moves report.MovePlanDoc
			json.Unmarshal(plan, &moves)
			n := 0
			for _, mv := range moves.Moves {
				n += mv.Count
			}
			if !doc.DryRun || n != 100 {
				t.Errorf("reshard plan moves %d slots, want 100: %s", n, j.stdout)
			}
		}
		if after := snapshot(t, all); after != before {
			t.Errorf("%s --dry-run changed the nodes\n--- before\n%s--- after\n%s", args[0], before, after)
		}
	}
	if now, _ := nodes[1].DoString("CONFIG", "GET", "cluster-node-timeout"); now != timeout {
		t.Errorf("set-timeout --dry-run changed cluster-node-timeout: %q, was %q", now, timeout)
	}
}

func TestReshardJSONShowsTheResult(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.Start(t, redistest.Options{Count: 3})
	redistest.Create(t, nodes, 0)
	redistest.LoadKeys(t, nodes, 500, "res")
	from, _ := nodes[0].ID()
	to, _ := nodes[1].ID()
	r := runRCluster(t, "", "dumb", []string{"-o", "json", "--yes"}, "reshard", nodes[0].Addr(), "--from", from, "--to", to, "--slots", "50")
	doc := decode[report.ResultDoc](t, r.stdout)
	if r.code != 0 || !doc.OK || doc.DryRun || doc.Cluster == nil {
		t.Fatalf("exit %d: %s", r.code, r.stdout)
	}
	for _, n := range doc.Cluster.Nodes {
		want := map[string]int{from: 5461 - 50, to: 5462 + 50}[n.ID]
		if want != 0 && n.SlotCount != want {
			t.Errorf("node %s has %d slots after the reshard, want %d", n.Address, n.SlotCount, want)
		}
	}
	redistest.VerifyKeys(t, nodes, 500, "res")
}

func TestCallJSON(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.StartCluster(t, redistest.Options{Count: 6}, 1)
	a := nodes[0].Addr()

	call := func(args ...string) report.CallDoc {
		t.Helper()
		r := runRCluster(t, "", "xterm-256color", nil, append([]string{"call", a}, append(args, "-o", "json")...)...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("call %v -o json: exit %d, stderr %q", args, r.code, r.stderr)
		}
		return decode[report.CallDoc](t, r.stdout)
	}

	doc := call("config", "get", "cluster-node-timeout")
	if doc.Command != "call" || !doc.OK || strings.Join(doc.Args, " ") != "config get cluster-node-timeout" || len(doc.Replies) != 6 {
		t.Fatalf("doc %+v: want call, ok, the args and 6 replies", doc)
	}
	roles := map[string]int{}
	for _, r := range doc.Replies {
		roles[r.Role]++
		reply, ok := r.Reply.([]any)
		if r.Address == "" || len(r.ID) != 40 || r.Error != "" || !ok || len(reply) != 2 || reply[0] != "cluster-node-timeout" {
			t.Errorf("reply %+v: want the node and [cluster-node-timeout, N]", r)
		}
	}
	if roles["master"] != 3 || roles["replica"] != 3 {
		t.Errorf("roles %v, want 3 masters and 3 replicas", roles)
	}

	// Integers, nulls, nested arrays and an error inside an array, on the
	// masters only.
	doc = call("eval", "return {7,{2,'a'},redis.error_reply('boom'),false}", "0", "--only-masters")
	if len(doc.Replies) != 3 {
		t.Fatalf("%d replies, want 3 (masters only)", len(doc.Replies))
	}
	got, _ := json.Marshal(doc.Replies[0].Reply)
	if string(got) != `[7,[2,"a"],{"error":"boom"},null]` && string(got) != `[7,[2,"a"],{"error":"ERR boom"},null]` {
		t.Errorf("eval reply %s", got)
	}

	// An error reply is an error, not a reply, and the document is not ok.
	doc = call("nosuchcommand")
	if doc.OK {
		t.Errorf("every node answered with an error, yet ok is true")
	}
	for _, r := range doc.Replies {
		if r.Reply != nil || !strings.Contains(r.Error, "unknown command") || r.Failed {
			t.Errorf("reply %+v: want the error reply", r)
		}
	}
}

// TestFailureJSON: a failed command's document says why, in the words it
// printed, and shows the state it left.
func TestFailureJSON(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.Start(t, redistest.Options{Count: 3})
	redistest.Create(t, nodes, 0)
	a := nodes[0].Addr()

	r := runRCluster(t, "", "dumb", []string{"-o", "json"}, "check", "127.0.0.1:1")
	if e := decode[report.ErrorDoc](t, r.stdout); r.code != 1 || e.OK || e.Error != "Could not connect to Redis at 127.0.0.1:1: Connection refused" {
		t.Errorf("unreachable entry: exit %d, %s", r.code, r.stdout)
	}
	r = runRCluster(t, "", "dumb", []string{"-o", "json", "--yes"}, "reshard", a, "--from", "all", "--to", "zz", "--slots", "10")
	doc := decode[report.ResultDoc](t, r.stdout)
	if r.code != 1 || doc.OK || doc.Error != "*** The specified node (zz) is not known or not a master, please retry." {
		t.Errorf("reshard --to zz: exit %d, %s", r.code, r.stdout)
	}

	// A move that fails half way: its open slot is in the document.
	from, _ := nodes[0].ID()
	to, _ := nodes[1].ID()
	redistest.LoadKeys(t, nodes, 300, "fail")
	for _, k := range redistest.KeysInSlot(0, 5, "fail0") {
		if _, err := nodes[0].Do("SET", k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := nodes[1].Do("CONFIG", "SET", "maxmemory", "1"); err != nil { // the target refuses the keys
		t.Fatal(err)
	}
	r = runRCluster(t, "", "dumb", []string{"-o", "json", "--yes"}, "reshard", a, "--from", from, "--to", to, "--slots", "10")
	if _, err := nodes[1].Do("CONFIG", "SET", "maxmemory", "0"); err != nil {
		t.Fatal(err)
	}
	doc = decode[report.ResultDoc](t, r.stdout)
	if r.code != 1 || doc.OK || !strings.Contains(doc.Error, "rcluster fix") || doc.Cluster == nil {
		t.Fatalf("failed reshard: exit %d, %s", r.code, r.stdout)
	}
	kinds := map[string]bool{}
	for _, p := range doc.Cluster.Problems {
		kinds[p.Kind] = true
	}
	if !kinds["open_slots"] || doc.Cluster.Keys == 0 {
		t.Errorf("failed reshard's cluster: problems %+v, %d keys; want the open slot and the keys", doc.Cluster.Problems, doc.Cluster.Keys)
	}
}

func TestTableOutput(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.StartCluster(t, redistest.Options{Count: 6}, 1)
	a := nodes[0].Addr()

	for _, command := range []string{"info", "check"} {
		r := runRCluster(t, "", "xterm-256color", nil, command, a, "-o", "table")
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || r.stderr != "" || len(lines) != 7 ||
			!strings.HasPrefix(lines[0], "ADDRESS ") || !strings.HasPrefix(lines[1], a+" ") || strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("%s -o table: exit %d, stderr %q, want a header and 6 uncolored rows, the entry first:\n%s", command, r.code, r.stderr, r.stdout)
		}
	}
	// A failing check keeps its exit code and lists the problem.
	id, _ := nodes[1].ID()
	if _, err := nodes[0].Do("CLUSTER", "SETSLOT", "0", "MIGRATING", id); err != nil {
		t.Fatal(err)
	}
	r := runRCluster(t, "", "dumb", nil, "check", a, "-o", "table")
	if r.code != 1 || !strings.Contains(r.stdout, "  migrating 0->"+id[:8]+"\n") || !strings.Contains(r.stdout, "open_slots  node "+a+" has slots in migrating state") {
		t.Errorf("check -o table of an open slot: exit %d\n%s", r.code, r.stdout)
	}
	nodes[0].Do("CLUSTER", "SETSLOT", "0", "STABLE")

	// Other commands have no table.
	for _, args := range [][]string{{"reshard", a}, {"call", a, "ping"}, {"create", a}} {
		r := runRCluster(t, "", "dumb", nil, append(args, "-o", "table")...)
		if r.code != 2 || !strings.Contains(r.stderr, "--output table is available for check and info only") {
			t.Errorf("%v -o table: exit %d, stderr %q; want exit 2 and the refusal", args, r.code, r.stderr)
		}
	}
	// An unreachable entry: no table, redis-cli's message on stderr.
	r = runRCluster(t, "", "dumb", nil, "info", "127.0.0.1:1", "-o", "table")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "Could not connect to Redis at 127.0.0.1:1") {
		t.Errorf("info of an unreachable node -o table: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestSetTimeoutJSON(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	nodes := redistest.StartCluster(t, redistest.Options{Count: 6}, 1)
	a := nodes[0].Addr()
	for _, dryRun := range []bool{true, false} {
		args := []string{"set-timeout", a, "4500", "-o", "json"}
		if dryRun {
			args = append(args, "--dry-run")
		}
		r := runRCluster(t, "", "dumb", nil, args...)
		doc := decode[report.SetTimeoutDoc](t, r.stdout)
		if r.code != 0 || doc.Command != "set-timeout" || !doc.OK || doc.DryRun != dryRun || doc.TimeoutMS != 4500 || len(doc.Nodes) != 6 {
			t.Fatalf("set-timeout -o json (dry run %v): exit %d, doc %+v", dryRun, r.code, doc)
		}
		for _, n := range doc.Nodes {
			if !n.OK || n.Error != "" || len(n.ID) != 40 || n.Address == "" {
				t.Errorf("node %+v: want set", n)
			}
		}
		want := "2000" // redistest's
		if !dryRun {
			want = "4500"
		}
		if v, _ := nodes[5].Do("CONFIG", "GET", "cluster-node-timeout"); fmt.Sprint(v) != "[cluster-node-timeout "+want+"]" {
			t.Errorf("after set-timeout -o json (dry run %v): %v, want %s", dryRun, v, want)
		}
	}
}
