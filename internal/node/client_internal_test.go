package node

import (
	"testing"
	"time"
)

func TestMigrateWait(t *testing.T) {
	for _, tc := range []struct {
		cmds [][]any
		want time.Duration
	}{
		{[][]any{{"MIGRATE", "127.0.0.1", 7001, "", 0, 60000, "KEYS", "a", "b"}}, time.Minute},
		{[][]any{{"migrate", "h", "7001", "k", "0", "1500"}}, 1500 * time.Millisecond},
		{[][]any{{"MIGRATE", "h", 7001, "", 0, 100, "KEYS", "a"}, {"MIGRATE", "h", 7001, "", 0, 200, "KEYS", "b"}}, 300 * time.Millisecond},
		{[][]any{{"CLUSTER", "SETSLOT", 1, "NODE", "x", "y"}}, 0},
		{[][]any{{"GET", "k"}}, 0},
	} {
		if got := migrateWait(tc.cmds...); got != tc.want {
			t.Errorf("migrateWait(%v) = %v, want %v", tc.cmds, got, tc.want)
		}
	}
}
