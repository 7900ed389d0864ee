package cluster

import "testing"

func TestHashTag(t *testing.T) {
	for slot := 0; slot < NumSlots; slot++ {
		tag := HashTag(slot)
		if got := KeySlot("prefix:{" + tag + "}:rest"); got != slot {
			t.Fatalf("HashTag(%d) = %q, which hashes to %d", slot, tag, got)
		}
	}
	// Fixed on every run: rcluster verify's keys can be predicted.
	if HashTag(KeySlot("{0}")) != "0" {
		t.Errorf("HashTag(%d) = %q, want %q", KeySlot("{0}"), HashTag(KeySlot("{0}")), "0")
	}
}
