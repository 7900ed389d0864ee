package manager

import (
	"slices"
	"strings"
)

// A node ID given on the command line (reshard --to/--from, del-node,
// add-node --master-id, rebalance --weight) names a node by its whole ID
// or by a prefix that starts the ID of no other node, case-insensitively.
// The nodes it may name are those loaded and those the entry node lists
// but could not be loaded (down, unreachable).

// idMatch is the outcome of resolving an ID given on the command line.
type idMatch struct {
	// ID is the whole ID of the one node named, "" when none or several.
	ID string
	// Candidates are "ID (HOST:PORT)" of every node the prefix starts,
	// in ID order, when it starts more than one.
	Candidates []string
}

// matchID resolves id, a whole node ID or a prefix of one.
func (m *Manager) matchID(id string) idMatch {
	id = strings.ToLower(id)
	if id == "" {
		return idMatch{}
	}
	type known struct{ id, addr string }
	var all []known
	seen := map[string]bool{}
	for _, n := range m.Nodes {
		all = append(all, known{strings.ToLower(n.ID), n.Addr()})
	}
	for _, l := range m.EntryView {
		all = append(all, known{strings.ToLower(l.ID), l.Addr})
	}
	var match idMatch
	for _, k := range all {
		if seen[k.id] {
			continue
		}
		seen[k.id] = true
		if k.id == id {
			return idMatch{ID: k.id}
		}
		if strings.HasPrefix(k.id, id) {
			match.ID = k.id
			match.Candidates = append(match.Candidates, k.id+" ("+strings.SplitN(k.addr, "@", 2)[0]+")")
		}
	}
	if len(match.Candidates) > 1 {
		match.ID = ""
		slices.Sort(match.Candidates)
		return match
	}
	match.Candidates = nil
	return match
}

// resolveID returns the whole ID that id names, "" when it names no known
// node. A prefix of several IDs is reported (listing them) and ok is false.
func (m *Manager) resolveID(id string) (full string, ok bool) {
	match := m.matchID(id)
	if len(match.Candidates) > 0 {
		m.P.AmbiguousID(id, match.Candidates)
		return "", false
	}
	return match.ID, true
}

// resolveNode returns the loaded node that id names, or nil when it names
// no loaded node (ok is false when id is an ambiguous prefix, reported).
func (m *Manager) resolveNode(id string) (n *Node, ok bool) {
	full, ok := m.resolveID(id)
	if !ok || full == "" {
		return nil, ok
	}
	return m.NodeByID(full), true
}
