package manager

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/admin"
	"github.com/rcluster/rcluster/pkg/node"
)

// CallOptions choose the nodes call runs on and how replies are printed.
type CallOptions struct {
	OnlyMasters  bool // leave out the replicas
	OnlyReplicas bool // leave out the masters (with OnlyMasters: no node at all)
	// Delimiter separates the elements of an array reply (redis-cli's -d,
	// a newline by default).
	Delimiter string
}

// CallReply is one node's answer to call.
type CallReply = admin.Reply

// Call sends one command to the loaded nodes (clusterManagerCommandCall):
// to all of them at once, then prints every reply in node order, formatted
// as redis-cli's raw output ("Failed!" when the node gave no reply). It
// returns the replies in that order.
func (m *Manager) Call(ctx context.Context, args []string, o CallOptions) []CallReply {
	text := report.CallText{P: m.P}
	text.Calling(args)

	sel := admin.AllNodes
	switch {
	case o.OnlyMasters && o.OnlyReplicas:
		sel = admin.NoNodes
	case o.OnlyMasters:
		sel = admin.MastersOnly
	case o.OnlyReplicas:
		sel = admin.ReplicasOnly
	}
	replies := admin.Call(ctx, admin.Selected(&m.Cluster, sel), args...)
	delim := o.Delimiter
	for _, r := range replies {
		var re *node.ReplyError
		switch {
		case r.Err == nil:
			text.Reply(r.Node.Addr(), FormatRaw(r.Value, delim))
		case errors.As(r.Err, &re):
			text.Reply(r.Node.Addr(), re.Msg+"\n")
		default:
			text.Failed(r.Node.Addr())
		}
	}
	return replies
}

// FormatRaw formats a RESP2 reply as redis-cli's raw output does
// (cliFormatReplyRaw): nil is empty, an error is its text and a newline, a
// string its bytes, an integer its decimal form, and the elements of an array
// are formatted in turn and joined by delim.
func FormatRaw(v any, delim string) string {
	var b strings.Builder
	formatRaw(&b, v, delim)
	return b.String()
}

func formatRaw(b *strings.Builder, v any, delim string) {
	switch x := v.(type) {
	case nil:
	case string:
		b.WriteString(x)
	case []byte:
		b.Write(x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bool: // RESP3 only
		if x {
			b.WriteString("(true)")
		} else {
			b.WriteString("(false)")
		}
	case []any:
		for i, e := range x {
			if i > 0 {
				b.WriteString(delim)
			}
			formatRaw(b, e, delim)
		}
	case error: // an error inside an array (an EXEC or a script reply)
		b.WriteString(x.Error())
		b.WriteString("\n")
	default:
		fmt.Fprint(b, x)
	}
}
