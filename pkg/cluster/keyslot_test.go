package cluster

import (
	"strconv"
	"testing"
)

func TestKeySlot(t *testing.T) {
	// slot hashes s whole, independent of KeySlot's tag handling.
	slot := func(s string) int { return int(CRC16([]byte(s)) & 0x3FFF) }
	tests := []struct {
		key  string
		want int
	}{
		// Appendix C.
		{"foo", 12182},
		{"key9184688", 10923},
		{"aga", 609},
		{"key:1", 6657},
		{"{user1000}.following", 3443},
		{"123456789", 12739},
		// Only a non-empty tag counts; the first "{" and the first "}"
		// after it delimit it.
		{"{user1000}.followers", 3443},
		{"x{user1000}", 3443},
		{"foo{bar}{zap}", slot("bar")},
		{"{{user1000}}", slot("{user1000")},
		{"foo{}{bar}", slot("foo{}{bar}")},
		{"{user1000", slot("{user1000")},
		{"}{x}", slot("x")},
		{"", 0},
	}
	for _, tt := range tests {
		if got := KeySlot(tt.key); got != tt.want {
			t.Errorf("KeySlot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestCRC16(t *testing.T) {
	// The CRC-16/XMODEM check value.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#04x, want 0x31c3", got)
	}
	if got := CRC16(nil); got != 0 {
		t.Fatalf("CRC16(nil) = %#04x, want 0", got)
	}
	for i := range 1000 {
		k := "key:" + strconv.Itoa(i)
		if crc16String(k) != CRC16([]byte(k)) {
			t.Fatalf("crc16String and CRC16 disagree on %q", k)
		}
	}
}
