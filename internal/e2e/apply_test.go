package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// TestApplyResume writes a reshard plan with --plan-out (nothing changes),
// applies it, interrupts the apply with SIGINT in the middle of slot 2,
// and resumes it: every key stays readable and the cluster ends as
// planned. Then a rebalance plan is refused while one of its slots has
// moved elsewhere (nothing changes), and applied once it is back.
func TestApplyResume(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	c := newCluster(t, 3, 0, 0)
	keys := append(c.loadKeys(500, "key"), c.bigSlots(bigSlotKeys, 2)...)
	dir := t.TempDir()
	file := filepath.Join(dir, "reshard.json")
	progress := file + ".progress"

	before := redistest.Snapshot(c.servers)
	r := rc(t, "reshard", c.addr(0), "--from", c.id(0), "--to", c.id(1), "--slots", "100", "--plan-out", file)
	wantCode(t, "reshard --plan-out", r, 0)
	contains(t, "reshard --plan-out", r.Stdout, "\nReady to move 100 slots.\n", "    Moving slot 99 from "+c.id(0)+"\n")
	contains(t, "reshard --plan-out", r.Stderr, "Plan written to "+file+" (100 slots in 1 moves): nothing was changed.")
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("--plan-out changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}
	var pf report.PlanFile
	readJSON(t, file, &pf)
	if pf.Command != "reshard" || pf.Entry != c.addr(0) || len(pf.Nodes) != 3 || len(pf.Plan.Moves) != 1 ||
		pf.Plan.Moves[0].Count != 100 || pf.Plan.Moves[0].From != c.id(0) || pf.Plan.Moves[0].To != c.id(1) {
		t.Fatalf("plan file: %+v", pf)
	}

	// Interrupted in the middle of slot 2: slots 0-2 moved, recorded.
	cmd, out, errOut := startInSlot2(t, c, "apply", file, "--pipeline", "10") // 10 keys per MIGRATE: the rest of slot 2 moves well within the 2 s grace
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code := 0
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 130 {
		t.Errorf("apply exited %d after SIGINT, want 130\n%s\n%s", code, out.String(), errOut.String())
	}
	// The window of slots in flight with slot 2 was finished: slots 0 to
	// moved-1 are on server 1, and stderr and the record say so.
	owners, err := redistest.SlotOwners(c.servers)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for moved < 100 && owners[moved] == c.s(1) {
		moved++
	}
	if moved < 3 || moved == 100 {
		t.Fatalf("%d slots moved before the apply stopped, want slots 0-2 and not all:\n%s", moved, errOut.String())
	}
	contains(t, "interrupted apply", errOut.String(), "Interrupted: stopped before moving slot "+strconv.Itoa(moved)+"; no slot is left open.\n",
		"*** "+strconv.Itoa(moved)+" of 100 slots of the plan are on their target ("+progress+"): continue with 'rcluster apply --resume "+file+"'.\n")
	var rec report.PlanProgress
	readJSON(t, progress, &rec)
	if rec.SlotsMoved != moved || rec.SlotsPlanned != 100 || rec.Complete || len(rec.Moved) != 1 || rec.Moved[0] != (report.RangeDoc{Start: 0, End: moved - 1}) {
		t.Fatalf("progress after the interruption (%d slots moved): %+v", moved, rec)
	}
	c.healthy(0)
	c.keysIntact(keys)

	// Without --resume: refused, nothing changed.
	before = redistest.Snapshot(c.servers)
	r = rc(t, "apply", file)
	wantCode(t, "apply again without --resume", r, 1)
	contains(t, "apply again without --resume", r.Stderr, "records an earlier apply of this plan ("+strconv.Itoa(moved)+" of 100 slots moved): continue it with 'rcluster apply --resume "+file+"'.")
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("a refused apply changed the nodes")
	}

	r = rc(t, "apply", "--resume", file)
	wantCode(t, "apply --resume", r, 0)
	contains(t, "apply --resume", r.Stdout, "\nReady to move "+strconv.Itoa(100-moved)+" slots.\n", "Moving slot "+strconv.Itoa(moved)+" from "+c.addr(0)+" to "+c.addr(1)+": ")
	if strings.Contains(r.Stdout, "Moving slot 2 from") {
		t.Errorf("apply --resume moved slot 2 again:\n%s", r.Stdout)
	}
	readJSON(t, progress, &rec)
	if !rec.Complete || rec.SlotsMoved != 100 || rec.MovesDone != 1 {
		t.Fatalf("progress after the resume: %+v", rec)
	}
	c.healthy(0)
	c.keysIntact(keys)
	owners, err = redistest.SlotOwners(c.servers)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 100; s++ {
		if owners[s] != c.s(1) {
			t.Fatalf("slot %d is on %s after the plan, want %s", s, owners[s].Addr(), c.addr(1))
		}
	}
	r = rc(t, "apply", "--resume", file)
	wantCode(t, "apply --resume when done", r, 0)
	contains(t, "apply --resume when done", r.Stdout, "[OK] Every slot of the plan is on its target.\n")

	// A rebalance plan; one of its slots then moves to a third master.
	rfile := filepath.Join(dir, "rebalance.json")
	r = rc(t, "rebalance", c.addr(0), "--threshold", "1", "--plan-out", rfile)
	wantCode(t, "rebalance --plan-out", r, 0)
	var rpf report.PlanFile
	readJSON(t, rfile, &rpf)
	if rpf.Command != "rebalance" || len(rpf.Plan.Moves) == 0 {
		t.Fatalf("rebalance plan: %+v", rpf)
	}
	mv := rpf.Plan.Moves[0]
	slot := mv.Slots[0].Start
	third := 0
	for third < 3 && (c.id(third) == mv.From || c.id(third) == mv.To) {
		third++
	}
	wantCode(t, "reshard one slot away", rc(t, "reshard", c.addr(0), "--slot-range", strconv.Itoa(slot), "--to", c.id(third), "--yes"), 0)
	before = redistest.Snapshot(c.servers)
	r = rc(t, "apply", rfile)
	wantCode(t, "apply of a stale plan", r, 1)
	contains(t, "apply of a stale plan", r.Stderr, "*** The cluster does not match the plan: slot "+strconv.Itoa(slot)+" is owned by "+
		c.id(third)+" ("+c.addr(third)+"), the plan moves it from "+mv.From)
	if after := redistest.Snapshot(c.servers); after != before {
		t.Fatalf("a refused apply changed the nodes")
	}
	from := 0
	for c.id(from) != mv.From {
		from++
	}
	wantCode(t, "reshard the slot back", rc(t, "reshard", c.addr(0), "--slot-range", strconv.Itoa(slot), "--to", mv.From, "--yes"), 0)
	r = rc(t, "apply", rfile)
	wantCode(t, "apply of the rebalance plan", r, 0)
	contains(t, "apply of the rebalance plan", r.Stdout, ">>> Applying the rebalance plan: ", "Moving "+strconv.Itoa(mv.Count)+" slots from "+c.addr(from)+" to ")
	c.healthy(0)
	c.keysIntact(keys)
	r = rc(t, "rebalance", c.addr(0), "--threshold", "1", "--simulate")
	wantCode(t, "rebalance after the plan", r, 0)
	contains(t, "rebalance after the plan", r.Stdout, "*** No rebalancing needed!")

	// Files that are no plan this build can apply: refused before connecting.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 2, "command": "reshard", "entry": "`+c.addr(0)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "text"), []byte("moves: none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, stderr string }{
		{filepath.Join(dir, "nosuch.json"), "*** Cannot read the plan: open " + filepath.Join(dir, "nosuch.json") + ": no such file or directory\n"},
		{filepath.Join(dir, "text"), "*** " + filepath.Join(dir, "text") + " is not a plan file: invalid character "},
		{bad, "*** The plan " + bad + " cannot be applied: version 2, this rcluster reads version 1.\n"},
	} {
		r = rc(t, "apply", tc.file)
		wantCode(t, "apply "+tc.file, r, 1)
		contains(t, "apply "+tc.file, r.Stderr, tc.stderr)
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
}
