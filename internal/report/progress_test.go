package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fatih/color"
)

func TestProgress(t *testing.T) {
	color.NoColor = true
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&buf)
	p.Now = func() time.Time { return now }
	p.Start("reshard", 4, 1000)
	now = now.Add(2 * time.Second)
	p.Keys(500)
	p.Slot()
	p.Slot()
	want := "reshard [============            ] 2/4 slots  500/1000 keys  250 keys/s  ETA 2s"
	if got := p.Line(); got != want {
		t.Fatalf("line\n got %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(buf.String(), "\r\033[K") || !strings.Contains(buf.String(), "500/1000 keys") {
		t.Fatalf("bar not drawn with a carriage return: %q", buf.String())
	}
	p.Done()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Fatalf("Done did not clear the line: %q", buf.String())
	}
	var nilBar *Progress
	nilBar.Keys(1) // a nil bar is a no-op
	nilBar.Done()
}

func TestProgressWithoutTotals(t *testing.T) {
	color.NoColor = true
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&buf)
	p.Now = func() time.Time { return now }
	p.Start("fix", 0, 0)
	now = now.Add(time.Second)
	p.Keys(10)
	p.Slot()
	if got, want := p.Line(), "fix: 1 slots  10 keys  10 keys/s"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	p.Start("import", 0, 40)
	now = now.Add(2 * time.Second)
	p.Keys(10)
	if got, want := p.Line(), "import [======                  ] 10/40 keys  5 keys/s  ETA 6s"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestProgressAbove writes text to the bar's terminal: the bar is cleared
// before it, waits while a line is unfinished and comes back after it.
func TestProgressAbove(t *testing.T) {
	color.NoColor = true
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&buf)
	p.Now = func() time.Time { return now }
	w := p.Above(&buf)
	p.Start("reshard", 2, 0)
	buf.Reset()
	io.WriteString(w, "Moving slot 1: ")
	p.Slot() // the line is unfinished: no bar
	io.WriteString(w, "..\n")
	want := "\r\033[KMoving slot 1: ..\n\r\033[K" + p.Line()
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
	p.Done()
	buf.Reset()
	io.WriteString(w, "after\n") // no bar once done
	if buf.String() != "after\n" {
		t.Fatalf("after Done: %q", buf.String())
	}
}
