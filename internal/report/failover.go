package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/failover"
	"github.com/rcluster/rcluster/pkg/settle"
)

// The links of ReplicationDoc.
const (
	LinkUp      = "up"
	LinkDown    = "down"
	LinkUnknown = "unknown" // the master could not be reached
)

// ReplicationDoc is a replica's replication as failover judges it.
type ReplicationDoc struct {
	Link    string `json:"link"`
	Syncing bool   `json:"syncing,omitempty"`
	// LagBytes is how far the replica's offset is behind its master's
	// (-1: unknown).
	LagBytes int64 `json:"lag_bytes"`
	// Problem says why the replica is not safe to promote ("": it is).
	Problem string `json:"problem,omitempty"`
}

// ReplicationProblem says why a replica in state r is not safe to promote
// with a plain CLUSTER FAILOVER, or "" when it is.
func ReplicationProblem(r ReplicationDoc, maxLag int64) string {
	return problemText(r.replication().Judge(maxLag), r.LagBytes, maxLag)
}

// replication is the library's Replication of r (Problem left out).
func (r ReplicationDoc) replication() failover.Replication {
	return failover.Replication{Link: failover.Link(r.Link), Syncing: r.Syncing, LagBytes: r.LagBytes}
}

// String is the state in a few words: "link up, 0 bytes behind".
func (r ReplicationDoc) String() string {
	switch r.replication().Judge(math.MaxInt64) {
	case failover.MasterUnreachable:
		return "master unreachable"
	case failover.LinkNotUp:
		return "link down"
	case failover.StillSyncing:
		return "link up, syncing"
	}
	return fmt.Sprintf("link up, %d bytes behind", r.LagBytes)
}

// problemText words why a replica lagBytes behind is not safe to promote
// with a plain CLUSTER FAILOVER when maxLag is the bound ("": it is).
func problemText(p failover.Problem, lagBytes, maxLag int64) string {
	switch p {
	case failover.MasterUnreachable:
		return "its master cannot be reached"
	case failover.LinkNotUp:
		return "its link to its master is down"
	case failover.StillSyncing:
		return "it is still syncing with its master"
	case failover.TooFarBehind:
		return fmt.Sprintf("it is %d bytes behind its master (--max-lag %d)", lagBytes, maxLag)
	case failover.MasterSlotsOpen:
		// Open slots are not replicated: the new master would not know them.
		return "its master has open slots (a move in progress); close them with 'rcluster fix' first"
	}
	return ""
}

// FailoverProblem says why f's replica is not safe to promote ("": it is).
func FailoverProblem(f *failover.Failover) string {
	return problemText(f.Replication.Problem, f.Replication.LagBytes, f.Options.MaxLag)
}

// FailoverDocOf is the -o json document of a planned (or done) failover.
func FailoverDocOf(f *failover.Failover) *FailoverDoc {
	r := f.Replication
	return &FailoverDoc{
		Master: f.MasterID, MasterAddress: f.MasterAddr, Replica: f.Replica.ID, ReplicaAddress: f.Replica.Addr(),
		Slots: Ranges(&f.Slots), Mode: string(f.Options.Mode),
		Replication: ReplicationDoc{Link: string(r.Link), Syncing: r.Syncing, LagBytes: r.LagBytes, Problem: FailoverProblem(f)},
		Done:        f.Done,
	}
}

// EvacuateDocOf is the -o json document of a planned (or carried out)
// evacuation.
func EvacuateDocOf(ev *failover.Evacuation) *EvacuateDoc {
	d := &EvacuateDoc{Host: ev.Host, Failovers: []*FailoverDoc{}, Left: []LeftDoc{}}
	for _, f := range ev.Failovers {
		d.Failovers = append(d.Failovers, FailoverDocOf(f))
	}
	for _, l := range ev.Left {
		d.Left = append(d.Left, LeftDoc{Master: l.Master.ID, Address: l.Master.Addr(), Slots: Ranges(&l.Master.Slots), Reason: leftReason(l)})
	}
	return d
}

// leftReason says why an evacuation leaves a master on its host.
func leftReason(l failover.Left) string {
	if len(l.Unsafe) == 0 {
		return "no replica on another host"
	}
	var unsafe []string
	for _, f := range l.Unsafe {
		unsafe = append(unsafe, f.Replica.Addr()+": "+FailoverProblem(f))
	}
	return "no replica on another host is safe to promote (" + strings.Join(unsafe, "; ") + ")"
}

// Disagreements words what the nodes that do not agree on a new master
// see, a line each.
func Disagreements(ds []failover.Disagreement) []string {
	texts := make([]string, len(ds))
	for i, d := range ds {
		addr := d.Node.Addr()
		switch d.Kind {
		case failover.NoView:
			texts[i] = addr + ": no CLUSTER NODES reply"
		case failover.UnknownReplica:
			texts[i] = fmt.Sprintf("%s: does not know %s", addr, d.ID)
		case failover.NotMaster:
			texts[i] = fmt.Sprintf("%s: sees %s as %s with slots %s", addr, d.ID, settle.RoleText(d.MasterID), d.Slots.String())
		case failover.NotReplica:
			texts[i] = fmt.Sprintf("%s: sees %s as %s, not as a replica of %s", addr, d.ID, settle.RoleText(d.MasterID), d.Want)
		}
	}
	return texts
}

// FailoverDoc is one failover: a master and the replica that takes over.
type FailoverDoc struct {
	Master         string         `json:"master"` // node ID
	MasterAddress  string         `json:"master_address"`
	Replica        string         `json:"replica"`
	ReplicaAddress string         `json:"replica_address"`
	Slots          []RangeDoc     `json:"slots"`
	Mode           string         `json:"mode"` // "default", "force" or "takeover"
	Replication    ReplicationDoc `json:"replication"`
	Done           bool           `json:"done"` // every node agrees on the new master
}

// EvacuateDoc is evacuate's plan: the failovers, and the masters with
// slots that stay on the host.
type EvacuateDoc struct {
	Host      string         `json:"host"`
	Failovers []*FailoverDoc `json:"failovers"`
	Left      []LeftDoc      `json:"left"`
}

// LeftDoc is a master that evacuate leaves on the host, and why.
type LeftDoc struct {
	Master  string     `json:"master"`
	Address string     `json:"address"`
	Slots   []RangeDoc `json:"slots"`
	Reason  string     `json:"reason"`
}

// FailoverNotReplica refuses a master given as the replica to promote.
func (p *Printer) FailoverNotReplica(addr string) {
	p.Err("[ERR] Node %s is a master: give the address of the replica to promote.\n", addr)
}

// FailoverPlan announces a failover.
func (p *Printer) FailoverPlan(d *FailoverDoc) {
	p.Info(">>> Failing over master %s (%s) to its replica %s (%s)\n", d.MasterAddress, d.Master, d.ReplicaAddress, d.Replica)
	p.Plain("   slots:%s, replication: %s\n", rangesString(d.Slots), d.Replication)
}

// FailoverUnsafe refuses a replica that is not safe to promote.
func (p *Printer) FailoverUnsafe(d *FailoverDoc) {
	p.Err("[ERR] Replica %s is not safe to promote: %s. --force fails over anyway, losing the writes it has not received.\n",
		d.ReplicaAddress, d.Replication.Problem)
}

// FailoverForced warns, on stderr, what --force and --takeover give up.
func (p *Printer) FailoverForced(mode, problem string) {
	switch mode {
	case "force":
		p.Stderr("Warning: CLUSTER FAILOVER FORCE: the replica does not wait for its master's last writes; acknowledged writes may be lost.\n")
	case "takeover":
		p.Stderr("Warning: CLUSTER FAILOVER TAKEOVER: no master votes and the replica does not wait for its master's last writes; acknowledged writes may be lost.\n")
	}
	if problem != "" {
		p.Stderr("Warning: the replica is not safe to promote: %s.\n", problem)
	}
}

// FailoverSending announces the CLUSTER FAILOVER sent.
func (p *Printer) FailoverSending(addr, mode string) {
	cmd := "CLUSTER FAILOVER"
	if mode != "default" {
		cmd += " " + strings.ToUpper(mode)
	}
	p.Info(">>> Sending %s to %s\n", cmd, addr)
}

// FailoverNotAgreed reports the nodes that do not see the new master.
func (p *Printer) FailoverNotAgreed(d *FailoverDoc, problems []string) {
	p.Err("[ERR] Not every node sees %s as the master of slots %s yet:\n", d.ReplicaAddress, rangesString(d.Slots))
	for _, pr := range problems {
		p.Err("   %s\n", pr)
	}
}

// FailoverDone ends a failover every node agrees on.
func (p *Printer) FailoverDone(d *FailoverDoc) {
	p.Success("[OK] %s is the master of slots %s: every node agrees.\n", d.ReplicaAddress, rangesString(d.Slots))
}

// EvacuatePlan lists the failovers that empty a host of masters, and the
// masters that stay.
func (p *Printer) EvacuatePlan(d *EvacuateDoc) {
	n := len(d.Failovers) + len(d.Left)
	p.Info(">>> Evacuating host %s: %d %s with slots\n", d.Host, n, plural(n, "master", "masters"))
	for _, l := range d.Left {
		p.Warn("[WARNING] Master %s (%s, slots:%s) stays on %s: %s.\n", l.Address, l.Master, rangesString(l.Slots), d.Host, l.Reason)
	}
}

// EvacuateDone ends an evacuation: no master with slots is left on the
// host, or those that are.
func (p *Printer) EvacuateDone(d *EvacuateDoc) {
	if len(d.Left) == 0 {
		p.Success("[OK] No master with slots is left on host %s.\n", d.Host)
		return
	}
	var addrs []string
	for _, l := range d.Left {
		addrs = append(addrs, l.Address)
	}
	p.Err("[ERR] Host %s still has %d %s with slots: %s.\n", d.Host, len(addrs), plural(len(addrs), "master", "masters"), strings.Join(addrs, ", "))
}

// rangesString is redis-cli's "[0-99],[200]" for slot ranges.
func rangesString(rs []RangeDoc) string {
	var s cluster.SlotSet
	for _, r := range rs {
		s.AddRange(r.Start, r.End)
	}
	return s.String()
}
