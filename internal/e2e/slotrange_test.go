package e2e

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// TestReshardSlotRange moves exactly the slots --slot-range names. Slots
// 0-49 of server 0 give redis-cli's output for --from 0 --slots 50 on a
// twin; ranges owned by two masters move from each; bad input, slots
// already on the target and the flags --slot-range replaces are refused
// with nothing changed; --dry-run and -o json plan without moving.
func TestReshardSlotRange(t *testing.T) {
	redistest.Require(t)
	t.Parallel()
	a, b := twins(t, 3)
	keys := loadReshardKeys(a)
	loadReshardKeys(b)
	extra := redistest.KeysInSlot(5000, 25, "s5000")
	if err := redistest.SetKeys(b.members(0), extra, func(k string) string { return "value:" + k }); err != nil {
		t.Fatal(err)
	}
	keys = append(keys, extra...)

	// The same moves as redis-cli's reshard of the 50 lowest slots of
	// server 0: the same output.
	ra := cli(t, "reshard", a.addr(0), "--cluster-from", a.id(0), "--cluster-to", a.id(1), "--cluster-slots", "50", "--cluster-yes")
	rb := rc(t, "reshard", b.addr(0), "--slot-range", "0-49", "--to", b.id(1), "--yes")
	wantCode(t, "redis-cli reshard", ra, 0)
	compareTwins(t, a, ra, b, rb)
	b.healthy(0)
	sameLayout(t, a, b)

	// Refusals: nothing may change.
	before := redistest.Snapshot(b.servers)
	const unknownID = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name        string
		args        []string
		out, stderr string // substrings of stdout and stderr
	}{
		{"reversed", []string{"--slot-range", "200-100", "--to", b.id(2)}, "", `*** Invalid --slot-range "200-100": slot range "200-100" starts after it ends.`},
		{"too big", []string{"--slot-range", "100,16384", "--to", b.id(2)}, "", `*** Invalid --slot-range "100,16384": slot 16384 is out of range (0 to 16383).`},
		{"empty piece", []string{"--slot-range", "1,,2", "--to", b.id(2)}, "", `*** Invalid --slot-range "1,,2": empty slot range in "1,,2".`},
		{"not a number", []string{"--slot-range", "5000", "--slot-range", "abc", "--to", b.id(2)}, "", `*** Invalid --slot-range "abc": "abc" is not a slot number.`},
		{"with --slots", []string{"--slot-range", "100-200", "--slots", "5", "--to", b.id(2)}, "", "*** --slot-range and --slots cannot be used together"},
		{"with --from", []string{"--slot-range", "100-200", "--from", b.id(0), "--to", b.id(2)}, "", "*** --slot-range and --from cannot be used together"},
		{"on the target", []string{"--slot-range", "100-200,11000-11005,16383", "--to", b.id(2)},
			"*** Slots [11000-11005],[16383] are already on the target node " + b.addr(2) + ": name only slots that other masters own.\n", ""},
		{"unknown target", []string{"--slot-range", "100", "--to", unknownID}, "*** The specified node (" + unknownID + ") is not known or not a master, please retry.\n", ""},
		{"no target, end of input", []string{"--slot-range", "100"}, "What is the receiving node ID? ", "*** No answer: standard input ended."},
	} {
		r := rc(t, append([]string{"reshard", b.addr(0), "--yes"}, tc.args...)...)
		wantCode(t, tc.name, r, 1)
		contains(t, tc.name+": stdout", r.Stdout, tc.out)
		contains(t, tc.name+": stderr", r.Stderr, tc.stderr)
		if strings.Contains(r.Stdout, "Moving slot") {
			t.Errorf("%s: a slot moved:\n%s", tc.name, r)
		}
		if after := redistest.Snapshot(b.servers); after != before {
			t.Fatalf("%s: the nodes changed\n--- before\n%s\n--- after\n%s", tc.name, before, after)
		}
	}

	// Slots of two sources, with overlaps: the plan, then the moves.
	args := []string{"reshard", b.addr(0), "--slot-range", "100-200,5000,150", "--slot-range", "6000-6010", "--to", b.id(2)}
	r := rc(t, append(args, "--dry-run")...)
	wantCode(t, "dry run", r, 0)
	contains(t, "dry run", r.Stdout, "\nReady to move 113 slots.\n",
		"    Moving slot 100 from "+b.id(0)+"\n", "    Moving slot 5000 from "+b.id(0)+"\n", "    Moving slot 6010 from "+b.id(1)+"\n")
	contains(t, "dry run", r.Stderr, "Dry run: nothing was changed.\n")
	r = rc(t, append(args, "--dry-run", "-o", "json")...)
	wantCode(t, "dry run -o json", r, 0)
	var doc changeDoc[report.MovePlanDoc]
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("dry run -o json: %v\n%s", err, r)
	}
	want := []report.MoveDoc{
		{From: b.id(0), To: b.id(2), Count: 102, Slots: []report.RangeDoc{{Start: 100, End: 200}, {Start: 5000, End: 5000}}},
		{From: b.id(1), To: b.id(2), Count: 11, Slots: []report.RangeDoc{{Start: 6000, End: 6010}}},
	}
	if !doc.DryRun || !reflect.DeepEqual(doc.Plan.Moves, want) {
		t.Errorf("dry run -o json: dry_run %v, moves %+v; want %+v", doc.DryRun, doc.Plan.Moves, want)
	}
	if after := redistest.Snapshot(b.servers); after != before {
		t.Fatalf("the dry runs changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
	}

	r = rc(t, append(args, "--yes")...)
	wantCode(t, "reshard --slot-range", r, 0)
	contains(t, "reshard --slot-range", r.Stdout,
		"Moving slot 5000 from "+b.addr(0)+" to "+b.addr(2)+": "+strings.Repeat(".", 25)+"\n",
		"Moving slot 6010 from "+b.addr(1)+" to "+b.addr(2)+": ")
	b.healthy(0)
	b.keysIntact(keys)
	owners, err := redistest.SlotOwners(b.members(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{100, 150, 200, 5000, 6000, 6010} {
		if owners[s] != b.s(2) {
			t.Errorf("slot %d is on %v, want %s", s, owners[s], b.addr(2))
		}
	}
	for _, s := range []int{99, 201, 4999, 5001, 5999, 6011} {
		if owners[s] == b.s(2) {
			t.Errorf("slot %d moved to %s too", s, b.addr(2))
		}
	}
	if n := b.slotsCount(2); n != 5461+113 {
		t.Errorf("server 2 owns %d slots, want %d", n, 5461+113)
	}
}
