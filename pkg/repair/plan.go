package repair

import (
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
)

// Plan is what fix would repair, by finding type, without repairing (fix
// --dry-run). The details (which master keeps a slot, whose copy of a key
// wins) are decided while repairing, from the rules of docs/reliability.md.
type Plan struct {
	// UnreachableMasters own slots that no reachable master claims: fix
	// repairs nothing with them left out, unless Options.WithUnreachable.
	UnreachableMasters int
	// Open are the slots open on some master (OpenSlots repairs them).
	Open cluster.SlotSet
	// Stranded are the slots with keys on masters that do not own them
	// (StrandedKeys).
	Stranded cluster.SlotSet
	// Uncovered are the slots no master owns (Uncovered).
	Uncovered cluster.SlotSet
	// MultipleOwners counts the slots owned by, or with keys on, several
	// masters (MultipleOwners).
	MultipleOwners int
}

// AddOpen adds the slots of open slot findings.
func (p *Plan) AddOpen(open []inspect.OpenSlots) {
	for _, o := range open {
		for _, s := range o.Slots {
			p.Open.Add(s.Slot)
		}
	}
}

// AddStranded adds the slots of a stranded keys finding.
func (p *Plan) AddStranded(f inspect.StrandedKeys) { p.Stranded.Union(&f.Slots) }

// Refused reports whether fix would refuse to repair anything: the
// repairs that assign slots would, with unreachable masters left out,
// guess at data those masters hold.
func (p *Plan) Refused(withUnreachable bool) bool {
	return p.UnreachableMasters > 0 && !withUnreachable &&
		(p.Open.Count() > 0 || p.Stranded.Count() > 0 || p.Uncovered.Count() > 0)
}
