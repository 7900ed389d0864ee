package report

import (
	"fmt"
	"strings"
)

// ResetDoc is printed by reset with -o json: every node given, in argument
// order, what was found on it and what was done.
type ResetDoc struct {
	Command string         `json:"command"` // "reset"
	OK      bool           `json:"ok"`
	DryRun  bool           `json:"dry_run,omitempty"`
	Nodes   []ResetNodeDoc `json:"nodes"`
}

// The actions of ResetNodeDoc.
const (
	ResetNone    = "none"    // the node is empty: left alone
	ResetDone    = "reset"   // the node was reset
	ResetRefused = "refused" // it needs --flush or --force
	ResetPlanned = "planned" // dry run, or the question was declined
	ResetFailed  = "failed"  // the node answered the reset with an error
)

// ResetNodeDoc is one node given to reset, as it was before the reset.
type ResetNodeDoc struct {
	Address    string     `json:"address"`
	ID         string     `json:"id"`
	Role       string     `json:"role"`                // "master" or "replica"
	MasterID   string     `json:"master_id,omitempty"` // replicas
	Master     string     `json:"master,omitempty"`    // the master's address, when known
	OtherNodes int        `json:"other_nodes"`
	Keys       int64      `json:"keys"`
	Slots      []RangeDoc `json:"slots"`
	SlotCount  int        `json:"slot_count"`
	// Cluster names the healthy cluster the node serves: its masters with
	// slots, by address.
	Cluster []string `json:"cluster,omitempty"`
	Action  string   `json:"action"`
	// NeedsFlush, NeedsForce: why the node was refused (or what the run
	// allowed).
	NeedsFlush bool   `json:"needs_flush,omitempty"`
	NeedsForce bool   `json:"needs_force,omitempty"`
	NewID      string `json:"new_id,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Empty reports whether the node has nothing to reset.
func (d *ResetNodeDoc) Empty() bool { return d.OtherNodes == 0 && d.Keys == 0 && d.SlotCount == 0 }

// SameNode refuses a node given twice under two names.
func (p *Printer) SameNode(addr, prev, id string) {
	p.Err("[ERR] Node %s is the same node as %s (ID %s): give every node only once.\n", addr, prev, id)
}

// ResetListing prints, node by node in the style of redis-cli's node
// blocks, what makes each node not empty.
func (p *Printer) ResetListing(nodes []ResetNodeDoc) {
	p.Info(">>> Inspecting %d %s before the reset\n", len(nodes), plural(len(nodes), "node", "nodes"))
	for _, d := range nodes {
		role := "M"
		if d.Role == "replica" {
			role = "S"
		}
		p.Plain("%s: %s %s\n   %s\n", role, d.ID, d.Address, describeNode(d))
		if len(d.Cluster) > 0 {
			p.Plain("   serves the healthy cluster of masters %s\n", shortList(d.Cluster))
		}
	}
}

func describeNode(d ResetNodeDoc) string {
	if d.Empty() {
		return "empty: nothing to reset"
	}
	var parts []string
	if d.Role == "replica" {
		master := d.Master
		if master == "" {
			master = d.MasterID
		}
		parts = append(parts, "replicates "+master)
	}
	if d.SlotCount > 0 {
		parts = append(parts, fmt.Sprintf("slots:%s (%d slots)", rangesString(d.Slots), d.SlotCount))
	}
	if d.Keys > 0 {
		parts = append(parts, fmt.Sprintf("%d %s in database 0", d.Keys, plural(int(d.Keys), "key", "keys")))
	}
	if d.OtherNodes > 0 {
		parts = append(parts, fmt.Sprintf("knows %d other %s", d.OtherNodes, plural(d.OtherNodes, "node", "nodes")))
	}
	return strings.Join(parts, ", ")
}

// ResetRefused says why a node is not reset: the flags the run lacks.
func (p *Printer) ResetRefused(d ResetNodeDoc, lacksFlush, lacksForce bool) {
	if lacksForce {
		p.Err("[ERR] Node %s serves a healthy cluster (masters %s): reset it with --force if it is to leave that cluster.\n",
			d.Address, shortList(d.Cluster))
	}
	if lacksFlush {
		p.Err("[ERR] Node %s has keys in database 0: reset it with --flush to delete them.\n", d.Address)
	}
}

// ResetForced warns that --force takes a node out of a healthy cluster.
func (p *Printer) ResetForced(d ResetNodeDoc) {
	p.Warn("[WARNING] Node %s serves a healthy cluster (masters %s): --force resets it anyway.\n", d.Address, shortList(d.Cluster))
}

// ResetQuestion is reset's confirmation question.
func ResetQuestion(flush bool) string {
	if flush {
		return "Can I delete the keys of the above nodes and reset them?"
	}
	return "Can I reset the above nodes?"
}

// Resetting announces the commands sent to a node.
func (p *Printer) Resetting(addr string, flush bool) {
	if flush {
		p.Info(">>> Sending FLUSHALL and CLUSTER RESET HARD to %s\n", addr)
		return
	}
	p.Info(">>> Sending CLUSTER RESET HARD to %s\n", addr)
}

// ResetOK ends a reset that went well.
func (p *Printer) ResetOK(reset int) {
	if reset == 0 {
		p.Success("[OK] Every node is empty: nothing to reset.\n")
		return
	}
	p.Success("[OK] %d %s reset: create can use %s now.\n", reset, plural(reset, "node", "nodes"), plural(reset, "it", "them"))
}

// ResetHint is the line create adds on stderr to its "is not empty" error.
func (p *Printer) ResetHint(command string) {
	p.Stderr("Nodes that are not empty can be emptied with: %s\n", command)
}

// shortList names at most three addresses, then how many more.
func shortList(addrs []string) string {
	if len(addrs) <= 3 {
		return strings.Join(addrs, " ")
	}
	return strings.Join(addrs[:3], " ") + fmt.Sprintf(" and %d more", len(addrs)-3)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
