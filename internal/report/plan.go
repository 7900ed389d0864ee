package report

import (
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
