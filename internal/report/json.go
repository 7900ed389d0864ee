package report

import (
	"encoding/json"
	"io"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// The documents printed by -o json. Field names are stable; see docs/json.md.

// ClusterDoc describes a cluster as check and info see it.
type ClusterDoc struct {
	Entry    string    `json:"entry"`
	OK       bool      `json:"ok"`
	Nodes    []NodeDoc `json:"nodes"`
	Keys     int64     `json:"keys"`
	Masters  int       `json:"masters"`
	Covered  int       `json:"slots_covered"`
	Problems []Problem `json:"problems"`
}

// NodeDoc is one node.
type NodeDoc struct {
	ID        string     `json:"id"`
	Address   string     `json:"address"`
	Host      string     `json:"host"`
	Port      int        `json:"port"`
	Role      string     `json:"role"` // "master" or "replica"
	MasterID  string     `json:"master_id,omitempty"`
	Flags     []string   `json:"flags"`
	Slots     []RangeDoc `json:"slots"`
	SlotCount int        `json:"slot_count"`
	Keys      *int64     `json:"keys,omitempty"` // masters only
	Replicas  int        `json:"replicas"`
	Migrating []OpenSlot `json:"migrating,omitempty"`
	Importing []OpenSlot `json:"importing,omitempty"`
}

// RangeDoc is an inclusive slot range.
type RangeDoc struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// OpenSlot is a slot in migrating or importing state and the node on the
// other side.
type OpenSlot struct {
	Slot   int    `json:"slot"`
	NodeID string `json:"node_id"`
}

// Problem is something the check found.
type Problem struct {
	Kind    string     `json:"kind"` // see docs/json.md
	Message string     `json:"message"`
	Node    string     `json:"node,omitempty"`
	Slots   []int      `json:"slots,omitempty"`
	Ranges  []RangeDoc `json:"ranges,omitempty"` // uncovered slots
	Nodes   []string   `json:"nodes,omitempty"`
}

// ErrorDoc is printed instead when the command failed before it had a
// cluster to describe; Error is the text redis-cli would have printed.
type ErrorDoc struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// Ranges converts a slot set.
func Ranges(s *cluster.SlotSet) []RangeDoc {
	out := []RangeDoc{}
	for _, r := range s.Ranges() {
		out = append(out, RangeDoc{r.Start, r.End})
	}
	return out
}

// NodeOf describes n; keys is nil for replicas.
func NodeOf(n *cluster.Node, keys *int64) NodeDoc {
	d := NodeDoc{
		ID: n.ID, Address: n.Addr(), Host: n.Host, Port: n.Port, Role: "master",
		Flags: []string{}, Slots: Ranges(&n.Slots), SlotCount: n.Slots.Count(),
		Keys: keys, Replicas: n.Replicas,
	}
	if n.Slave {
		d.Role = "replica"
		d.MasterID = n.MasterID
	}
	for _, f := range n.Flags {
		if f != "myself" {
			d.Flags = append(d.Flags, f)
		}
	}
	for _, p := range n.Migrating {
		d.Migrating = append(d.Migrating, OpenSlot{p.Slot, p.NodeID})
	}
	for _, p := range n.Importing {
		d.Importing = append(d.Importing, OpenSlot{p.Slot, p.NodeID})
	}
	return d
}

// WriteJSON prints v as one indented JSON document.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ResultDoc is printed by the commands that change the cluster: what was
// planned and the cluster afterwards.
type ResultDoc struct {
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	// Error is what the command printed about its failure.
	Error   string      `json:"error,omitempty"`
	DryRun  bool        `json:"dry_run,omitempty"`
	Plan    any         `json:"plan,omitempty"`
	Cluster *ClusterDoc `json:"cluster,omitempty"`
}

// CallDoc is printed by call: every node's reply, in redis-cli's node order.
type CallDoc struct {
	Command string         `json:"command"`
	OK      bool           `json:"ok"`
	Args    []string       `json:"args"`
	Replies []CallReplyDoc `json:"replies"`
}

// CallReplyDoc is one node's reply. Reply is the reply as JSON (a string, an
// integer, null or an array; an error inside an array is {"error": "..."}).
// Error is set instead for an error reply and, with Failed, when the node
// gave no reply at all (redis-cli's "Failed!").
type CallReplyDoc struct {
	Address string `json:"address"`
	ID      string `json:"id"`
	Role    string `json:"role"`
	Reply   any    `json:"reply"`
	Error   string `json:"error,omitempty"`
	Failed  bool   `json:"failed,omitempty"`
}

// ReplyJSON turns a RESP reply into the values CallReplyDoc.Reply holds.
func ReplyJSON(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ReplyJSON(e)
		}
		return out
	case error:
		return map[string]string{"error": x.Error()}
	default:
		return x
	}
}

// SetTimeoutDoc is printed by set-timeout: the timeout and, per node in
// redis-cli's order, whether it was set (and saved).
type SetTimeoutDoc struct {
	Command   string       `json:"command"`
	OK        bool         `json:"ok"`
	DryRun    bool         `json:"dry_run,omitempty"`
	TimeoutMS int64        `json:"timeout_ms"`
	Nodes     []NodeResult `json:"nodes"`
}

// NodeResult is how a command went on one node.
type NodeResult struct {
	Address string `json:"address"`
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}
