package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"
)

// Progress draws a one-line progress bar of a migration on a terminal
// (stderr): slots and keys done, keys per second and the time left. It never
// touches stdout, so redis-cli's text stays as it is. Safe for concurrent use.
type Progress struct {
	mu        sync.Mutex
	w         io.Writer
	label     string
	slots     int
	keys      int64
	slotsDone int
	keysDone  int64
	start     time.Time
	lastDraw  time.Time
	drawn     bool
	// partial counts the writers above the bar whose last line is not
	// finished: the bar waits for them, so it never cuts a line.
	partial    int
	Now        func() time.Time // for tests
	MinRefresh time.Duration
}

// NewProgress returns a bar writing to w (a terminal).
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, Now: time.Now, MinRefresh: 100 * time.Millisecond}
}

// Start begins a bar for a number of slots holding a number of keys.
func (p *Progress) Start(label string, slots int, keys int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.slots, p.keys = label, slots, keys
	p.slotsDone, p.keysDone = 0, 0
	p.start = p.Now()
	p.draw(true)
}

// Keys counts keys moved.
func (p *Progress) Keys(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keysDone += int64(n)
	p.draw(false)
}

// Slot counts a slot moved.
func (p *Progress) Slot() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slotsDone++
	p.draw(p.slotsDone == p.slots)
}

// Done clears the bar's line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.label = ""
}

func (p *Progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Above returns a writer whose text goes above the bar: the bar is cleared
// before each write and drawn again once the text's last line is finished.
// Use it for every stream that shares the bar's terminal.
func (p *Progress) Above(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &aboveBar{p: p, w: w}
}

type aboveBar struct {
	p       *Progress
	w       io.Writer
	partial bool
}

func (a *aboveBar) Write(b []byte) (int, error) {
	p := a.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(b) == 0 {
		return 0, nil
	}
	p.clear()
	n, err := a.w.Write(b)
	if partial := b[len(b)-1] != '\n'; partial != a.partial {
		a.partial = partial
		if partial {
			p.partial++
		} else {
			p.partial--
		}
	}
	p.draw(true)
	return n, err
}

// Line renders the bar's text (without the carriage return).
func (p *Progress) Line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.line()
}

func (p *Progress) line() string {
	const width = 24
	frac := 0.0
	switch {
	case p.keys > 0:
		frac = float64(p.keysDone) / float64(p.keys)
	case p.slots > 0:
		frac = float64(p.slotsDone) / float64(p.slots)
	}
	frac = min(frac, 1)
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	elapsed := p.Now().Sub(p.start).Seconds()
	rate, eta := 0.0, "?"
	if elapsed > 0 {
		rate = float64(p.keysDone) / elapsed
	}
	if frac > 0 && elapsed > 0 {
		eta = (time.Duration(elapsed * (1 - frac) / frac * float64(time.Second))).Round(time.Second).String()
	}
	if p.slots == 0 && p.keys == 0 { // totals unknown (fix): counts and rate only
		return fmt.Sprintf("%s: %d slots  %d keys  %.0f keys/s", p.label, p.slotsDone, p.keysDone, rate)
	}
	if p.slots == 0 { // keys only (import)
		return fmt.Sprintf("%s [%s] %d/%d keys  %.0f keys/s  ETA %s", p.label, color.GreenString(bar), p.keysDone, p.keys, rate, eta)
	}
	return fmt.Sprintf("%s [%s] %d/%d slots  %d/%d keys  %.0f keys/s  ETA %s",
		p.label, color.GreenString(bar), p.slotsDone, p.slots, p.keysDone, p.keys, rate, eta)
}

func (p *Progress) draw(force bool) {
	if p.partial > 0 || p.label == "" {
		return
	}
	now := p.Now()
	if !force && now.Sub(p.lastDraw) < p.MinRefresh {
		return
	}
	p.lastDraw = now
	p.drawn = true
	fmt.Fprint(p.w, "\r\033[K"+p.line())
}
