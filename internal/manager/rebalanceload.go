package manager

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// memorySample is how many keys of a slot --by memory weighs with MEMORY
// USAGE: the first ones GETKEYSINSLOT returns.
const memorySample = 16

// rebalanceByLoad is rebalance --by keys or --by memory: the involved
// masters' slots are measured, and the moves even out the measure instead
// of the slot counts. Nothing is written before the plan is made.
func (m *Manager) rebalanceByLoad(ctx context.Context, o RebalanceOptions, involved []*Node, in []plan.RebalanceNode) error {
	load, err := m.slotLoads(ctx, o.By, involved)
	if err != nil {
		return err
	}
	p, err := plan.RebalanceLoad(in, load, o.Threshold)
	if err != nil {
		return m.cannotRebalance(err)
	}
	unit := "keys"
	if o.By == "memory" {
		unit = "bytes"
	}
	doc := report.MovePlan(p.Moves)
	doc.By = o.By
	for i, n := range involved {
		doc.Loads = append(doc.Loads, report.LoadDoc{ID: n.ID, Address: n.Addr(), Before: p.Loads[i], Target: p.Targets[i], After: p.After[i]})
	}
	m.Plan = doc
	if !m.rebalanceIntro(o, p.Balanced, p.TotalWeight, involved, p.Order, func(i int) int64 { return p.Balances[i] }, unit) {
		return nil
	}
	if !p.Within {
		report.RebalanceText{P: m.P}.Unreachable(unit, o.Threshold)
	}
	return m.runRebalanceMoves(ctx, p.Moves, o.Simulate)
}

// slotLoads measures the slots of masters: by "keys", CLUSTER
// COUNTKEYSINSLOT; by "memory", an estimate of their bytes: the mean MEMORY
// USAGE of a sample of each slot's keys (up to memorySample), times the
// slot's key count. The result is indexed by slot.
func (m *Manager) slotLoads(ctx context.Context, by string, masters []*Node) ([]int64, error) {
	load := make([]int64, cluster.NumSlots)
	for _, n := range masters {
		slots := n.Slots.Slots()
		counts, err := countKeys(ctx, n, slots)
		if err == nil && by == "memory" {
			err = estimateBytes(ctx, n, slots, counts)
		}
		if err != nil {
			report.RebalanceText{P: m.P}.CannotMeasure(n.Addr(), err)
			return nil, ErrReported
		}
		for i, s := range slots {
			load[s] = counts[i]
		}
	}
	return load, nil
}

// countKeys returns the key count of each of slots on n.
func countKeys(ctx context.Context, n *Node, slots []int) ([]int64, error) {
	cmds := make([]node.Cmd, len(slots))
	for i, s := range slots {
		cmds[i] = node.CountKeysInSlotCmd(s)
	}
	counts := make([]int64, len(slots))
	for i, r := range node.PipelineAll(ctx, n.Client, cmds) {
		c, err := node.Int(r.Val, r.Err)
		if err != nil {
			return nil, fmt.Errorf("CLUSTER COUNTKEYSINSLOT %d: %w", slots[i], err)
		}
		counts[i] = c
	}
	return counts, nil
}

// estimateBytes turns counts (the key counts of slots on n) into estimated
// bytes. A sampled key deleted meanwhile is left out of the mean; a slot
// none of whose sampled keys is left counts 0 bytes.
func estimateBytes(ctx context.Context, n *Node, slots []int, counts []int64) error {
	var sampled []int // indexes into slots
	var cmds []node.Cmd
	for i, s := range slots {
		if counts[i] > 0 {
			sampled = append(sampled, i)
			cmds = append(cmds, node.GetKeysInSlotCmd(s, memorySample))
		}
	}
	keys := make([][]string, len(sampled))
	var usage []node.Cmd
	for j, r := range node.PipelineAll(ctx, n.Client, cmds) {
		k, err := node.Strings(r.Val, r.Err)
		if err != nil {
			return fmt.Errorf("CLUSTER GETKEYSINSLOT %d: %w", slots[sampled[j]], err)
		}
		keys[j] = k
		for _, key := range k {
			usage = append(usage, node.Cmd{"MEMORY", "USAGE", key})
		}
	}
	replies := node.PipelineAll(ctx, n.Client, usage)
	for j, i := range sampled {
		var bytes, found int64
		for range keys[j] {
			r := replies[0]
			replies = replies[1:]
			if r.Val == nil && r.Err == nil {
				continue // deleted since GETKEYSINSLOT
			}
			b, err := node.Int(r.Val, r.Err)
			if err != nil {
				return fmt.Errorf("MEMORY USAGE: %w", err)
			}
			bytes += b
			found++
		}
		if found == 0 {
			counts[i] = 0
			continue
		}
		counts[i] = bytes * counts[i] / found
	}
	return nil
}
