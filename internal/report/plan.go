package report

import (
	"fmt"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Plans as -o json prints them (the "plan" of a ResultDoc).

// CreatePlanDoc is create's allocation.
type CreatePlanDoc struct {
	Masters  []CreateMaster  `json:"masters"`
	Replicas []CreateReplica `json:"replicas"`
}

// CreateMaster is one planned master and its slots.
type CreateMaster struct {
	Address string     `json:"address"`
	Slots   []RangeDoc `json:"slots"`
}

// CreateReplica is one planned replica and its master's address.
type CreateReplica struct {
	Address string `json:"address"`
	Master  string `json:"master"`
}

// MovePlanDoc lists slot moves (reshard, rebalance).
type MovePlanDoc struct {
	Moves []MoveDoc `json:"moves"`
	// By and Loads are rebalance --by keys|memory's: what was evened out,
	// and each involved master's load before, its target, and after.
	By    string    `json:"by,omitempty"`
	Loads []LoadDoc `json:"loads,omitempty"`
}

// LoadDoc is one master's load (keys, or estimated bytes) in a rebalance
// by load.
type LoadDoc struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Before  int64  `json:"before"`
	Target  int64  `json:"target"`
	After   int64  `json:"after"`
}

// MovePlan is the document of moves, one entry per move.
func MovePlan(moves []plan.Move) MovePlanDoc {
	doc := MovePlanDoc{Moves: []MoveDoc{}}
	for _, mv := range moves {
		set := cluster.SlotsOf(mv.Slots...)
		doc.Moves = append(doc.Moves, MoveDoc{From: mv.Source, To: mv.Target, Count: mv.Count(), Slots: Ranges(&set)})
	}
	return doc
}

// MoveDoc moves Slots from one node to another.
type MoveDoc struct {
	From  string     `json:"from"` // node ID
	To    string     `json:"to"`
	Count int        `json:"count"`
	Slots []RangeDoc `json:"slots"`
}

// PlanFileVersion is the version of the plan files this build writes and
// reads.
const PlanFileVersion = 1

// PlanFile is what reshard, rebalance, evacuate and fix --plan-out write
// and apply reads: the command's plan, with the cluster it was made for.
type PlanFile struct {
	Version int    `json:"version"`
	Command string `json:"command"` // reshard, rebalance, evacuate or fix
	// Entry is the node the cluster was loaded through; apply loads it
	// through the same node.
	Entry string `json:"entry"`
	// Nodes are the cluster's nodes at planning time; the planned slots'
	// owners then are the moves' "from".
	Nodes []PlanNode `json:"nodes"`
	// Plan is reshard's and rebalance's: the -o json plan of moves.
	Plan MovePlanDoc `json:"plan,omitzero"`
	// Evacuation is evacuate's: the failovers, in order.
	Evacuation *EvacuationPlanDoc `json:"evacuation,omitempty"`
	// Fix is fix's: the problems the check found and the repairs.
	Fix *FixPlanDoc `json:"fix,omitempty"`
}

// EvacuationPlanDoc is evacuate's -o json plan, with the replication bound
// its replicas were judged by (apply judges them again by it).
type EvacuationPlanDoc struct {
	EvacuateDoc
	MaxLag int64 `json:"max_lag"`
}

// FixPlanDoc is what fix --plan-out found and would do. The problems are
// apply's guard: fix runs only if the check finds the same ones. Repairs
// say what fix does about them, a line per kind of repair: which node
// keeps a slot or a key is decided while repairing, by the same rules.
type FixPlanDoc struct {
	SearchMultipleOwners bool      `json:"search_multiple_owners,omitempty"`
	FixWithUnreachable   bool      `json:"fix_with_unreachable_masters,omitempty"`
	Problems             []Problem `json:"problems"`
	Repairs              []string  `json:"repairs"`
}

// PlanNode is one node of the cluster a plan was made for.
type PlanNode struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Role    string `json:"role"` // master or replica
}

// PlanProgress is apply's record of a plan's progress (FILE.progress).
type PlanProgress struct {
	// PlanSHA256 identifies the plan file the record belongs to.
	PlanSHA256 string `json:"plan_sha256"`
	// Moved are the planned slots that are on their target.
	Moved        []RangeDoc `json:"moved"`
	SlotsMoved   int        `json:"slots_moved"`
	SlotsPlanned int        `json:"slots_planned"`
	// MovesDone counts the moves whose every slot moved.
	MovesDone  int `json:"moves_done"`
	MovesTotal int `json:"moves_planned"`
	// FailoversDone are the masters (IDs) of an evacuation plan whose
	// failover is done, of FailoversPlanned.
	FailoversDone    []string `json:"failovers_done,omitempty"`
	FailoversPlanned int      `json:"failovers_planned,omitempty"`
	Complete         bool     `json:"complete"`
}

// SlotsOfRanges is the set of slots of ranges (the inverse of Ranges); it
// fails on a range outside 0-16383 or reversed.
func SlotsOfRanges(ranges []RangeDoc) (cluster.SlotSet, error) {
	var set cluster.SlotSet
	for _, r := range ranges {
		if r.Start < 0 || r.End >= cluster.NumSlots || r.Start > r.End {
			return set, fmt.Errorf("bad slot range %d-%d", r.Start, r.End)
		}
		set.AddRange(r.Start, r.End)
	}
	return set, nil
}
