package report

import "time"

// AskMoveReplicas is placement's question before it moves replicas.
const AskMoveReplicas = "Move these replicas?"

// PlacementDoc is what placement found and, with --apply, changed.
type PlacementDoc struct {
	// By is "host" or "zone": what the places are.
	By     string           `json:"by"`
	Shards []ShardDoc       `json:"shards"`
	Moves  []ReplicaMoveDoc `json:"moves"`
	Shared []SharedDoc      `json:"shared"` // replicas in their master's place (before any move)
}

// ShardDoc is a master and its replicas, with their places.
type ShardDoc struct {
	Master   string       `json:"master"`
	Address  string       `json:"address"`
	Place    string       `json:"place"`
	Replicas []ReplicaDoc `json:"replicas"`
}

// ReplicaDoc is a replica and its place.
type ReplicaDoc struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Place   string `json:"place"`
}

// SharedDoc is a replica in the same place as its master.
type SharedDoc struct {
	Replica string `json:"replica"`
	Master  string `json:"master"`
	Place   string `json:"place"`
}

// ReplicaMoveDoc is a replica that changes master (CLUSTER REPLICATE).
type ReplicaMoveDoc struct {
	Replica string `json:"replica"` // address
	ID      string `json:"id"`
	From    string `json:"from"` // master addresses
	To      string `json:"to"`
	ToID    string `json:"to_id"`
}

// Placement prints the shards, with the replicas that share their master's
// place, and the verdict.
func (p *Printer) Placement(d *PlacementDoc) {
	p.Info(">>> Placement by %s of %d %s\n", d.By, len(d.Shards), plural(len(d.Shards), "shard", "shards"))
	for _, s := range d.Shards {
		p.Plain("M: %s %s (%s %s)\n", s.Master, s.Address, d.By, s.Place)
		for _, r := range s.Replicas {
			p.Plain("   S: %s %s (%s %s)\n", r.ID, r.Address, d.By, r.Place)
		}
	}
	if len(d.Shared) == 0 {
		p.Success("[OK] No replica is in the same %s as its master.\n", d.By)
		return
	}
	for _, s := range d.Shared {
		p.Warn("[WARNING] Replica %s is in the same %s as its master %s (%s).\n", s.Replica, d.By, s.Master, s.Place)
	}
}

// PlacementMoves announces the replicas that change master.
func (p *Printer) PlacementMoves(d *PlacementDoc) {
	if len(d.Moves) == 0 {
		p.Info(">>> No replica can be moved to a better place: these masters and replicas allow no better layout.\n")
		return
	}
	p.Info(">>> Moving %d %s, no slot and no key:\n", len(d.Moves), plural(len(d.Moves), "replica", "replicas"))
	for _, m := range d.Moves {
		p.Plain("Replica %s: from master %s to master %s\n", m.Replica, m.From, m.To)
	}
}

// PlacementNotAgreed names the nodes that do not see the moved replicas
// under their new masters after settle.
func (p *Printer) PlacementNotAgreed(settle time.Duration, problems []string) {
	p.Err("[ERR] The nodes did not agree about the moved replicas within %v:\n", settle)
	for _, pr := range problems {
		p.Err("  %s\n", pr)
	}
}

// PlacementDone ends an --apply: how many replicas still share their
// master's place (those no layout of these nodes can avoid).
func (p *Printer) PlacementDone(by string, shared int) {
	if shared == 0 {
		p.Success("[OK] No replica is in the same %s as its master.\n", by)
		return
	}
	p.Warn("[WARNING] %d %s still in the same %s as %s master: no layout of these nodes avoids it.\n",
		shared, plural(shared, "replica is", "replicas are"), by, plural(shared, "its", "their"))
}
