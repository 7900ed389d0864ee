package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable prints a cluster as -o table does: a row per node, in
// redis-cli's order, and a row per problem the check found, in columns
// without borders (as kubectl prints), for reading rather than parsing.
func WriteTable(w io.Writer, d ClusterDoc) error {
	var b bytes.Buffer
	rows := make([][]string, 0, len(d.Nodes))
	for _, n := range d.Nodes {
		keys := ""
		if n.Keys != nil {
			keys = strconv.FormatInt(*n.Keys, 10)
		}
		rows = append(rows, []string{n.Address, short(n.ID), n.Role, short(n.MasterID),
			strconv.Itoa(n.SlotCount), ranges(n.Slots), keys, strconv.Itoa(n.Replicas), openSlots(n)})
	}
	if err := table(&b, []string{"address", "id", "role", "master", "slots", "ranges", "keys", "replicas", "open slots"}, rows); err != nil {
		return err
	}
	if len(d.Problems) > 0 {
		b.WriteString("\n")
		rows = rows[:0]
		for _, p := range d.Problems {
			rows = append(rows, []string{p.Kind, p.Message})
		}
		if err := table(&b, []string{"problem", "message"}, rows); err != nil {
			return err
		}
	}
	// The renderer pads the last column too: no line ends in blanks.
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func table(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off, ShowTop: tw.Off, ShowBottom: tw.Off},
			},
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  "}),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// short is the first 8 characters of a node ID, as redis-cli's info shows.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// ranges writes slot ranges as redis-cli does ("0-5460,5462"), the first
// three of them and how many more there are.
func ranges(rs []RangeDoc) string {
	var parts []string
	for i, r := range rs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-3))
			break
		}
		if r.Start == r.End {
			parts = append(parts, strconv.Itoa(r.Start))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r.Start, r.End))
		}
	}
	return strings.Join(parts, ",")
}

// openSlots names a node's open slots as CLUSTER NODES marks them, with
// short IDs: "migrating 7->5a8c1e2f" (to that node), "importing
// 9<-0214cffc" (from it); the first three of each and how many more.
func openSlots(n NodeDoc) string {
	list := func(state, arrow string, slots []OpenSlot) string {
		var parts []string
		for i, o := range slots {
			if i == 3 {
				parts = append(parts, fmt.Sprintf("+%d more", len(slots)-3))
				break
			}
			parts = append(parts, strconv.Itoa(o.Slot)+arrow+short(o.NodeID))
		}
		return state + " " + strings.Join(parts, ",")
	}
	var parts []string
	if len(n.Migrating) > 0 {
		parts = append(parts, list("migrating", "->", n.Migrating))
	}
	if len(n.Importing) > 0 {
		parts = append(parts, list("importing", "<-", n.Importing))
	}
	return strings.Join(parts, ", ")
}
