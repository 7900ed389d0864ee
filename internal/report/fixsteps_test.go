package report

import (
	"strings"
	"testing"

	"github.com/rcluster/rcluster/pkg/repair"
)

func TestFixSteps(t *testing.T) {
	var p repair.Plan
	if got := FixSteps(p, false); len(got) != 0 {
		t.Fatalf("a healthy cluster: %q, want no step", got)
	}
	p.Open.Add(7)
	p.Stranded.AddRange(1, 3)
	p.Uncovered.AddRange(100, 200)
	p.MultipleOwners = 2
	want := []string{"repair the open slots [7]: ", "bring the keys in slots [1-3] ", "cover the slots [100-200] ", "leave one owner for each of the 2 slots"}
	got := FixSteps(p, false)
	if len(got) != len(want) {
		t.Fatalf("steps %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("step %d: %q, want it to start with %q", i, got[i], want[i])
		}
	}
	p.UnreachableMasters = 1
	if got := FixSteps(p, false); len(got) != 1 || !strings.HasPrefix(got[0], "refuse: 1 unreachable master(s)") {
		t.Fatalf("with an unreachable master: %q, want the refusal", got)
	}
	if got := FixSteps(p, true); len(got) != 4 {
		t.Fatalf("with an unreachable master and --fix-with-unreachable-masters: %q, want the 4 steps", got)
	}
}
