package report

import (
	"bytes"
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
