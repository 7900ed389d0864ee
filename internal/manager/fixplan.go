package manager

import "github.com/rcluster/rcluster/internal/report"

// FixPlan says, a line per kind of repair, what fix would do about the
// problems the check found (fix --dry-run).
func (m *Manager) FixPlan() []string {
	p := m.Repairs
	p.UnreachableMasters = m.UnreachableMasters
	return report.FixSteps(p, m.Opts.FixWithUnreachable)
}
