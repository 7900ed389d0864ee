package failover

import "testing"

func TestJudge(t *testing.T) {
	for _, tt := range []struct {
		r    Replication
		want Problem
	}{
		{Replication{Link: LinkUp, LagBytes: 0}, NoProblem},
		{Replication{Link: LinkUp, LagBytes: 1000}, NoProblem},
		{Replication{Link: LinkUp, LagBytes: 1001}, TooFarBehind},
		{Replication{Link: LinkUp, Syncing: true, LagBytes: 5000}, StillSyncing},
		{Replication{Link: LinkDown, LagBytes: 5000}, LinkNotUp},
		{Replication{Link: LinkUnknown, LagBytes: -1}, MasterUnreachable},
	} {
		if got := tt.r.Judge(1000); got != tt.want {
			t.Errorf("Judge(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
	f := &Failover{Options: Options{Mode: Force}, Replication: Replication{Problem: LinkNotUp}}
	if f.Unsafe() {
		t.Error("a forced failover is refused")
	}
	if f.Options.Mode = ""; !f.Unsafe() {
		t.Error("a plain failover to a replica with its link down is not refused")
	}
}
