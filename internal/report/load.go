package report

// LoadText writes what loading a cluster from its entry node finds wrong
// (clusterManagerLoadInfoFromNode).
type LoadText struct{ P *Printer }

// Unloadable: a node the entry node knows could not be loaded.
func (t LoadText) Unloadable(addr string) {
	t.P.Err("[ERR] Unable to load info for node %s\n", addr)
}

// UnknownMaster: a replica's master is not among the nodes loaded.
func (t LoadText) UnknownMaster(addr, masterID string) {
	t.P.Warn(t.P.Words().UnknownPrimary, addr, masterID)
}
