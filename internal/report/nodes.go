package report

import (
	"fmt"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// NodeBlock formats a node as redis-cli's clusterManagerNodeInfo does, with
// indent spaces before every line and no trailing newline. pending is true for
// a replica whose configuration is not applied yet (create's plan listing).
func NodeBlock(n *cluster.Node, indent int, pending bool) string {
	sp := strings.Repeat(" ", indent)
	var b strings.Builder
	if pending && n.MasterID != "" {
		fmt.Fprintf(&b, "%sS: %s %s", sp, n.ID, n.Addr())
	} else {
		role := "M"
		if n.Slave {
			role = "S"
		}
		fmt.Fprintf(&b, "%s%s: %s %s\n%s   slots:%s (%d slots) %s",
			sp, role, n.ID, n.Addr(), sp, n.Slots.String(), n.Slots.Count(), n.FlagString())
	}
	if n.MasterID != "" {
		fmt.Fprintf(&b, "\n%s   replicates %s", sp, n.MasterID)
	} else if n.Replicas > 0 {
		fmt.Fprintf(&b, "\n%s   %d additional replica(s)", sp, n.Replicas)
	}
	return b.String()
}

// ListNode prints n's block and a newline, as redis-cli lists nodes (see
// NodeBlock for pending).
func (p *Printer) ListNode(n *cluster.Node, pending bool) {
	p.Plain("%s\n", NodeBlock(n, 0, pending))
}

// AmbiguousID refuses a node ID prefix that starts several IDs.
func (p *Printer) AmbiguousID(prefix string, ids []string) {
	p.Err("*** The node ID prefix %s is ambiguous: it starts the IDs of %s. Give more of the ID.\n",
		prefix, strings.Join(ids, ", "))
}
