package report

import (
	"bytes"
	"testing"
)

func TestWriteTable(t *testing.T) {
	keys := int64(65)
	d := ClusterDoc{
		Nodes: []NodeDoc{
			{ID: "0214cffc29759d81c41735459b0a2162879e6a2a", Address: "127.0.0.1:30001", Role: "master",
				Slots: []RangeDoc{{0, 5460}}, SlotCount: 5461, Keys: &keys, Replicas: 1,
				Migrating: []OpenSlot{{Slot: 7, NodeID: "5a8c1e2f949757a782e56537747d1a8bb4c192f1"}}},
			{ID: "b79b8d16949757a782e56537747d1a8bb4c192f1", Address: "127.0.0.1:30004", Role: "replica",
				MasterID: "0214cffc29759d81c41735459b0a2162879e6a2a"},
			{ID: "5a8c1e2f949757a782e56537747d1a8bb4c192f1", Address: "127.0.0.1:30002", Role: "master",
				Slots: []RangeDoc{{5461, 5461}, {5463, 5470}, {6000, 6001}, {7000, 7000}, {8000, 8000}}, SlotCount: 14, Keys: new(int64),
				Importing: []OpenSlot{{7, "0214cffc29759d81c41735459b0a2162879e6a2a"}, {9, "0214cffc29759d81c41735459b0a2162879e6a2a"},
					{10, "0214cffc29759d81c41735459b0a2162879e6a2a"}, {12, "0214cffc29759d81c41735459b0a2162879e6a2a"},
					{13, "0214cffc29759d81c41735459b0a2162879e6a2a"}},
				Migrating: []OpenSlot{{5461, "b79b8d16949757a782e56537747d1a8bb4c192f1"}}},
		},
		Problems: []Problem{{Kind: "open_slots", Message: "node 127.0.0.1:30001 has slots in migrating state"}},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, d); err != nil {
		t.Fatal(err)
	}
	want := `ADDRESS          ID        ROLE     MASTER    SLOTS  RANGES                            KEYS  REPLICAS  OPEN SLOTS
127.0.0.1:30001  0214cffc  master             5461   0-5460                            65    1         migrating 7->5a8c1e2f
127.0.0.1:30004  b79b8d16  replica  0214cffc  0                                              0
127.0.0.1:30002  5a8c1e2f  master             14     5461,5463-5470,6000-6001,+2 more  0     0         migrating 5461->b79b8d16, importing 7<-0214cffc,9<-0214cffc,10<-0214cffc,+2 more

PROBLEM     MESSAGE
open_slots  node 127.0.0.1:30001 has slots in migrating state
`
	if got := b.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}
