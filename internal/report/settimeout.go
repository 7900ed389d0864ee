package report

// SetTimeoutText writes set-timeout's lines
// (clusterManagerCommandSetTimeout) and rcluster's dry run.
type SetTimeoutText struct{ P *Printer }

func (t SetTimeoutText) WouldSet(ms int64, addr string) {
	t.P.Plain("Would set cluster-node-timeout to %d on %s\n", ms, addr)
}

func (t SetTimeoutText) Reconfiguring() {
	t.P.Info(">>> Reconfiguring node timeout in every cluster node...\n")
}

func (t SetTimeoutText) Set(addr string) { t.P.Warn("*** New timeout set for %s\n", addr) }

// Failed is a node's error reply (msg, "" when it gave no reply).
func (t SetTimeoutText) Failed(addr, msg string) {
	t.P.Err("ERR setting node-timeout for %s: %s\n", addr, msg)
}

func (t SetTimeoutText) Done(ok, failed int) {
	t.P.Info(">>> New node timeout set. %d OK, %d ERR.\n", ok, failed)
}
