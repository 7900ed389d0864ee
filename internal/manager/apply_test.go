package manager

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/plan"
)

func TestPlanMoves(t *testing.T) {
	valid := func() report.PlanFile {
		return report.PlanFile{
			Version: report.PlanFileVersion, Command: "rebalance", Entry: "127.0.0.1:7000",
			Nodes: []report.PlanNode{{ID: "a"}, {ID: "b"}, {ID: "c"}},
			Plan: report.MovePlanDoc{Moves: []report.MoveDoc{
				{From: "a", To: "b", Count: 3, Slots: []report.RangeDoc{{Start: 0, End: 1}, {Start: 5, End: 5}}},
				{From: "c", To: "b", Count: 1, Slots: []report.RangeDoc{{Start: 9, End: 9}}},
			}},
		}
	}
	moves, err := PlanMoves(valid())
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.Move{{Source: "a", Target: "b", Slots: []int{0, 1, 5}}, {Source: "c", Target: "b", Slots: []int{9}}}
	if !reflect.DeepEqual(moves, want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}

	for _, tc := range []struct {
		name   string
		change func(*report.PlanFile)
		want   string
	}{
		{"version", func(p *report.PlanFile) { p.Version = 2 }, "version 2, this rcluster reads version 1"},
		{"command", func(p *report.PlanFile) { p.Command = "fix" }, `command "fix", not reshard or rebalance`},
		{"unknown node", func(p *report.PlanFile) { p.Plan.Moves[1].From = "d" }, `move 2: from "d" to "b", not two nodes of the plan`},
		{"to itself", func(p *report.PlanFile) { p.Plan.Moves[0].To = "a" }, "not two nodes of the plan"},
		{"count", func(p *report.PlanFile) { p.Plan.Moves[0].Count = 2 }, "move 1: count 2, but its ranges hold 3 slots"},
		{"range", func(p *report.PlanFile) { p.Plan.Moves[1].Slots[0].End = 16384 }, "move 2: bad slot range 9-16384"},
		{"reversed", func(p *report.PlanFile) { p.Plan.Moves[1].Slots[0] = report.RangeDoc{Start: 9, End: 8} }, "move 2: bad slot range 9-8"},
		{"twice", func(p *report.PlanFile) { p.Plan.Moves[1].Slots[0] = report.RangeDoc{Start: 5, End: 5} }, "move 2: slot 5 is in two moves"},
		{"reshard targets", func(p *report.PlanFile) { p.Command = "reshard"; p.Plan.Moves[1].To = "a" }, "move 2: a reshard plan moves slots to one node"},
	} {
		p := valid()
		tc.change(&p)
		if _, err := PlanMoves(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCheckEvacuationPlan(t *testing.T) {
	valid := func() report.PlanFile {
		return report.PlanFile{
			Version: report.PlanFileVersion, Command: "evacuate", Entry: "127.0.0.1:7000",
			Nodes: []report.PlanNode{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}},
			Evacuation: &report.EvacuationPlanDoc{EvacuateDoc: report.EvacuateDoc{Host: "127.0.0.1", Failovers: []*report.FailoverDoc{
				{Master: "a", Replica: "b", Mode: "default", Slots: []report.RangeDoc{{Start: 0, End: 99}}},
				{Master: "c", Replica: "d", Mode: "default", Slots: []report.RangeDoc{{Start: 100, End: 199}}},
			}}},
		}
	}
	if err := CheckPlan(valid()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*report.PlanFile)
		want   string
	}{
		{"version", func(p *report.PlanFile) { p.Version = 2 }, "version 2, this rcluster reads version 1"},
		{"no failovers", func(p *report.PlanFile) { p.Evacuation = nil }, `an evacuate plan without its failovers ("evacuation")`},
		{"unknown node", func(p *report.PlanFile) { p.Evacuation.Failovers[1].Replica = "e" }, `failover 2: master "c" and replica "e", not two nodes of the plan`},
		{"to itself", func(p *report.PlanFile) { p.Evacuation.Failovers[0].Replica = "a" }, "failover 1: master \"a\" and replica \"a\""},
		{"twice", func(p *report.PlanFile) { p.Evacuation.Failovers[1].Replica = "a" }, "failover 2: a node of it is in another failover"},
		{"forced", func(p *report.PlanFile) { p.Evacuation.Failovers[0].Mode = "force" }, `failover 1: mode "force"`},
		{"range", func(p *report.PlanFile) { p.Evacuation.Failovers[0].Slots[0].End = 16384 }, "failover 1: bad slot range 0-16384"},
		{"empty", func(p *report.PlanFile) { p.Evacuation.Failovers[0] = nil }, "failover 1 is empty"},
		{"fix without problems", func(p *report.PlanFile) { p.Command = "fix" }, `a fix plan without its problems ("fix")`},
		{"unknown command", func(p *report.PlanFile) { p.Command = "create" }, `command "create", not reshard or rebalance`},
	} {
		p := valid()
		tc.change(&p)
		if err := CheckPlan(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestProblemsDiff(t *testing.T) {
	open := report.Problem{Kind: "open_slots", Message: "node A has slots in migrating state", Node: "A", Slots: []int{5, 6}}
	uncovered := report.Problem{Kind: "uncovered_slots", Message: "not all 16384 slots are covered by nodes", Ranges: []report.RangeDoc{{Start: 10, End: 20}}}
	for _, tc := range []struct {
		name           string
		planned, found []report.Problem
		want           string
	}{
		{"same", []report.Problem{open, uncovered}, []report.Problem{uncovered, open}, ""},
		{"none", nil, []report.Problem{}, ""},
		{"new", []report.Problem{open}, []report.Problem{open, uncovered},
			"the check finds a problem the plan does not list: not all 16384 slots are covered by nodes (slots [10-20])"},
		{"gone", []report.Problem{open, uncovered}, []report.Problem{uncovered},
			"the plan lists a problem the check no longer finds: node A has slots in migrating state (slots [5-6])"},
		{"other slots", []report.Problem{open}, []report.Problem{{Kind: "open_slots", Message: open.Message, Node: "A", Slots: []int{5}}},
			"the check finds a problem the plan does not list: node A has slots in migrating state (slots [5])"},
		{"twice", []report.Problem{open, open}, []report.Problem{open}, "the plan lists a problem the check no longer finds: node A"},
	} {
		if got := problemsDiff(tc.planned, tc.found); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
