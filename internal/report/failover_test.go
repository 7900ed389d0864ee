package report

import "testing"

func TestReplicationProblem(t *testing.T) {
	for _, tt := range []struct {
		r    ReplicationDoc
		want string
		text string
	}{
		{ReplicationDoc{Link: LinkUp, LagBytes: 0}, "", "link up, 0 bytes behind"},
		{ReplicationDoc{Link: LinkUp, LagBytes: 1000}, "", "link up, 1000 bytes behind"},
		{ReplicationDoc{Link: LinkUp, LagBytes: 1001}, "it is 1001 bytes behind its master (--max-lag 1000)", "link up, 1001 bytes behind"},
		{ReplicationDoc{Link: LinkUp, Syncing: true}, "it is still syncing with its master", "link up, syncing"},
		{ReplicationDoc{Link: LinkDown}, "its link to its master is down", "link down"},
		{ReplicationDoc{Link: LinkUnknown, LagBytes: -1}, "its master cannot be reached", "master unreachable"},
	} {
		if got := ReplicationProblem(tt.r, 1000); got != tt.want {
			t.Errorf("ReplicationProblem(%+v) = %q, want %q", tt.r, got, tt.want)
		}
		if got := tt.r.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.text)
		}
	}
}
