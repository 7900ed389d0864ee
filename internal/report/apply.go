package report

// ApplyText writes apply's refusals and outcomes (rcluster's own command:
// a plan file carried out with the words of the command that made it).
type ApplyText struct{ P *Printer }

func (t ApplyText) CannotApply(err error) { t.P.Stderr("*** The plan cannot be applied: %s.\n", err) }

func (t ApplyText) FixFirst() {
	t.P.Stderr("*** Please fix your cluster problems before applying the plan\n")
}

// Mismatch: the cluster is not what the plan was made for (msg says how).
func (t ApplyText) Mismatch(msg string) {
	t.P.Stderr("*** The cluster does not match the plan: %s. Nothing was changed.\n", msg)
}

func (t ApplyText) SlotsDone() { t.P.Success("[OK] Every slot of the plan is on its target.\n") }

func (t ApplyText) FailoversDone() { t.P.Success("[OK] Every failover of the plan is done.\n") }

func (t ApplyText) ApplyingRebalance(slots, moves int) {
	t.P.Info(">>> Applying the rebalance plan: %d slots in %d moves\n", slots, moves)
}
