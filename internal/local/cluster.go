package local

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"time"
)

// UpOptions describes the nodes StartAll starts.
type UpOptions struct {
	// Server is the redis-server binary.
	Server string
	// Dir is the cluster directory (absolute); node P lives in Dir/P.
	Dir   string
	Host  string
	Ports []int
	// Password, if set, is required by every node.
	Password string
	// StartTimeout bounds the start of each node; 0 means 15s.
	StartTimeout time.Duration
	// KeepData starts the nodes with the nodes.conf and data of the last
	// run instead of empty.
	KeepData bool
}

// ErrRunning is returned by StartAll when the directory's state file records
// a node that still runs.
var ErrRunning = errors.New("a local cluster is already running in this directory")

// StartAll starts one node per port and records each in the state file as
// soon as it runs, so that Down finds every process even after a partial
// start. If a node fails to start, the nodes already started are stopped,
// the state file is removed and the error is returned.
func StartAll(ctx context.Context, o UpOptions) (*State, error) {
	if old, err := LoadState(o.Dir); err == nil {
		for _, n := range old.Nodes {
			if Check(n) == Ours {
				return old, ErrRunning
			}
		}
	}
	timeout := o.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	s := &State{Dir: o.Dir, Server: o.Server, Started: time.Now().UTC().Truncate(time.Second)}
	for _, port := range o.Ports {
		c := Config{Host: o.Host, Port: port, Dir: filepath.Join(o.Dir, strconv.Itoa(port)), Password: o.Password, KeepData: o.KeepData}
		n, err := Start(ctx, o.Server, c, timeout)
		if n.Pid != 0 {
			s.Nodes = append(s.Nodes, n)
		}
		if err == nil {
			err = s.Save()
		}
		if err != nil {
			StopAll(s)
			_ = RemoveState(o.Dir)
			return nil, err
		}
	}
	return s, nil
}

// StopAll stops the state's nodes, ignoring errors (for clean-up).
func StopAll(s *State) {
	for _, n := range s.Nodes {
		_, _ = Stop(n, 10*time.Second)
	}
}
