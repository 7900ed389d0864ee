package node

import (
	"testing"
	"time"
)

func TestMigrateWait(t *testing.T) {
	for _, tc := range []struct {
		cmds []Cmd
		want time.Duration
	}{
		{[]Cmd{{"MIGRATE", "127.0.0.1", 7001, "", 0, 60000, "KEYS", "a", "b"}}, time.Minute},
		{[]Cmd{{"migrate", "h", "7001", "k", "0", "1500"}}, 1500 * time.Millisecond},
		{[]Cmd{{"MIGRATE", "h", 7001, "", 0, 100, "KEYS", "a"}, {"MIGRATE", "h", 7001, "", 0, 200, "KEYS", "b"}}, 300 * time.Millisecond},
		{[]Cmd{{"CLUSTER", "SETSLOT", 1, "NODE", "x", "y"}}, 0},
		{[]Cmd{{"GET", "k"}}, 0},
	} {
		if got := migrateWait(tc.cmds...); got != tc.want {
			t.Errorf("migrateWait(%v) = %v, want %v", tc.cmds, got, tc.want)
		}
	}
}
