package manager

import (
	"fmt"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// FixPlan says, a line per kind of repair, what fix would do about the
// problems the check found (fix --dry-run). The details (which node keeps
// a slot, which copy of a key wins) are decided while repairing, from the
// same rules (docs/reliability.md).
func (m *Manager) FixPlan() []string {
	var open, stranded, uncovered cluster.SlotSet
	multiple := 0
	for _, p := range m.Problems {
		switch p.Kind {
		case "open_slots":
			for _, s := range p.Slots {
				open.Add(s)
			}
		case "stranded_keys":
			for _, s := range p.Slots {
				stranded.Add(s)
			}
		case "uncovered_slots":
			for _, r := range p.Ranges {
				uncovered.AddRange(r.Start, r.End)
			}
		case "multiple_owners":
			multiple++
		}
	}
	var plan []string
	if m.UnreachableMasters > 0 && !m.Opts.FixWithUnreachable && (open.Count() > 0 || stranded.Count() > 0 || uncovered.Count() > 0) {
		return []string{fmt.Sprintf("refuse: %d unreachable master(s) own slots no reachable master claims "+
			"(bring them back, or pass --fix-with-unreachable-masters)", m.UnreachableMasters)}
	}
	if open.Count() > 0 {
		plan = append(plan, "repair the open slots "+open.String()+": finish each move the serving master was making, "+
			"or bring the slot's keys to the master clients are served by, keeping its copy of a key found on two nodes, "+
			"then close the slot everywhere")
	}
	if stranded.Count() > 0 {
		plan = append(plan, "bring the keys in slots "+stranded.String()+" held by masters that do not own them to the owner")
	}
	if uncovered.Count() > 0 {
		plan = append(plan, "cover the slots "+uncovered.String()+" (asking first without --yes): with the master holding their keys, "+
			"moving them to one master when several do, else with the master with the fewest slots")
	}
	if multiple > 0 {
		plan = append(plan, fmt.Sprintf("leave one owner for each of the %d slots with several", multiple))
	}
	return plan
}
