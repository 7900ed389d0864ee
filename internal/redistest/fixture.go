package redistest

import (
	"bytes"
	"encoding/json"
)

// Fixture is the format of the golden files in testdata/golden: a cluster
// state captured from real nodes and what the real redis-cli printed on it.
// internal/redistest/capture writes them and internal/cli/golden_test.go
// replays them to rcluster; they are never regenerated from rcluster's
// output.
type Fixture struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description"`
	// CLI is the tool's --version ("valkey-cli 8.0.1"); "" in the fixtures
	// captured before it was recorded, all from redis-cli 7.0.
	CLI   string                  `json:"cli,omitempty"`
	Nodes map[string]*FixtureNode `json:"nodes"`
	Runs  []*FixtureRun           `json:"runs"`
}

// FixtureNode holds the replies of one node; a node that was down holds
// nothing else.
type FixtureNode struct {
	Down            bool                `json:"down"`
	Info            string              `json:"info"`
	ClusterNodes    string              `json:"cluster_nodes"`
	DBSize          int64               `json:"dbsize"`
	CountKeysInSlot map[string]int64    `json:"countkeysinslot"`
	GetKeysInSlot   map[string][]string `json:"getkeysinslot"`
}

// MarshalJSON writes {"down": true} for a node that was down and every
// field otherwise, with <, > and & as they are (replies quote them).
func (n *FixtureNode) MarshalJSON() ([]byte, error) {
	if n.Down {
		return []byte(`{"down": true}`), nil
	}
	type fields FixtureNode // without this method
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*fields)(n)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// FixtureRun is one redis-cli invocation, redis-cli [-a password] --cluster
// args..., and what it printed.
type FixtureRun struct {
	Args     []string `json:"args"`
	Password string   `json:"password,omitempty"`
	Term     string   `json:"term"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`
	Exit     int      `json:"exit"`
}
