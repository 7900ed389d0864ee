package manager

import (
	"bytes"
	"testing"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
)

func TestResolveID(t *testing.T) {
	const (
		a1   = "3b1f24a5c8d1e0f9a7b6c5d4e3f2a1b0c9d8e7f6"
		a2   = "3b2e0000000000000000000000000000000000aa"
		b    = "8c2e0000000000000000000000000000000000bb"
		down = "d0d0000000000000000000000000000000000dd0"
	)
	var out bytes.Buffer
	m := New(&report.Printer{Out: &out}, nil, Options{})
	for i, id := range []string{a1, a2, b} {
		m.Nodes = append(m.Nodes, &Node{Node: &cluster.Node{ID: id, Host: "127.0.0.1", Port: 7000 + i}})
	}
	// The entry node lists the loaded nodes and one it could not load.
	for i, id := range []string{a1, a2, b, down} {
		m.EntryView = append(m.EntryView, &cluster.Line{ID: id, Addr: "127.0.0.1:" + string(rune('0'+i)) + "@1700" + string(rune('0'+i))})
	}
	tests := []struct {
		arg, want string
		ok        bool
		printed   string
	}{
		{a1, a1, true, ""},
		{"3B1F", a1, true, ""}, // case does not matter
		{"3b1", a1, true, ""},
		{"8", b, true, ""},
		{"d0", down, true, ""}, // a node that could not be loaded (del-node)
		{"ff", "", true, ""},
		{"", "", true, ""},
		{a1 + "0", "", true, ""},
		{"3b", "", false, "*** The node ID prefix 3b is ambiguous: it starts the IDs of " +
			a1 + " (127.0.0.1:7000), " + a2 + " (127.0.0.1:7001). Give more of the ID.\n"},
	}
	for _, tt := range tests {
		out.Reset()
		got, ok := m.resolveID(tt.arg)
		if got != tt.want || ok != tt.ok || out.String() != tt.printed {
			t.Errorf("resolveID(%q) = %q, %v, printed %q; want %q, %v, %q", tt.arg, got, ok, out.String(), tt.want, tt.ok, tt.printed)
		}
	}
	if n, ok := m.resolveNode("d0"); n != nil || !ok {
		t.Errorf("resolveNode(unloaded node) = %v, %v; want nil, true", n, ok)
	}
	if n, ok := m.resolveNode("8c"); n != m.Nodes[2] || !ok {
		t.Errorf("resolveNode(8c) = %v, %v", n, ok)
	}
}
