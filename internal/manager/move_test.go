package manager

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

// TestMoveOutputOrderAndWholeLines has moves write at the same time, to
// stdout in pieces and to stderr line by line in pieces: stdout must read
// as the moves one after the other, and every stderr line must be whole.
func TestMoveOutputOrderAndWholeLines(t *testing.T) {
	const movesN, linesN = 4, 50
	var out, errOut bytes.Buffer
	m := &Manager{P: &report.Printer{Out: &out, ErrOut: &errOut}}
	var moves []plan.Move
	for i := 0; i < movesN; i++ {
		id := fmt.Sprintf("n%d", i)
		m.Nodes = append(m.Nodes, &Node{Node: &cluster.Node{ID: id, Host: "127.0.0.1", Port: 7000 + i}})
		moves = append(moves, plan.Move{Source: id, Target: id})
	}
	o := &moveOutput{m: m, stdout: newOrderedWriter(m.P.Out, movesN), stderr: report.NewLines(m.P.ErrOut)}
	var ready, done sync.WaitGroup
	ready.Add(movesN)
	done.Add(movesN)
	// The moves end last to first, so that stdout must be buffered.
	ends := make([]chan struct{}, movesN+1)
	for i := range ends {
		ends[i] = make(chan struct{})
	}
	close(ends[movesN])
	for i := movesN - 1; i >= 0; i-- {
		go func() {
			defer done.Done()
			mo := o.Move(i, moves[i])
			p := mo.(*moveText).P
			ready.Done()
			ready.Wait() // every move writes at the same time
			name := string(rune('a' + i))
			for l := 0; l < linesN; l++ {
				p.Plain("%s", name)
				p.Stderr("%s", name)
				p.Stderr("%s", name)
				p.Stderr("%s\n", name)
			}
			<-ends[i+1]
			mo.End(nil)
			close(ends[i])
		}()
	}
	done.Wait()
	want := ""
	for i := 0; i < movesN; i++ {
		want += strings.Repeat(string(rune('a'+i)), linesN)
	}
	if out.String() != want {
		t.Fatalf("stdout %q, want the moves' output in plan order %q", out.String(), want)
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if len(lines) != movesN*linesN {
		t.Fatalf("got %d stderr lines, want %d", len(lines), movesN*linesN)
	}
	for _, l := range lines {
		if len(l) != 3 || strings.Count(l, l[:1]) != 3 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}
