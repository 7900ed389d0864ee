package report

import (
	"bytes"
	"io"
	"sync"
)

// Lines lets concurrent writers share one stream: what each writes goes out
// a whole line at a time, so lines of different writers never mix.
type Lines struct {
	mu  sync.Mutex
	out io.Writer
}

// NewLines returns a stream shared over out.
func NewLines(out io.Writer) *Lines { return &Lines{out: out} }

// Writer returns one writer's end: it holds a partial line until its
// newline comes, or until Flush.
func (l *Lines) Writer() *LineWriter { return &LineWriter{lines: l} }

// LineWriter is one writer of a shared Lines stream. It is used by one
// goroutine at a time.
type LineWriter struct {
	lines *Lines
	buf   []byte
}

// Write writes the complete lines of b (and any held before them) and holds
// the rest.
func (w *LineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	end := bytes.LastIndexByte(w.buf, '\n') + 1
	if end == 0 {
		return len(b), nil
	}
	err := w.write(w.buf[:end])
	w.buf = append(w.buf[:0], w.buf[end:]...)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// Flush writes a held partial line.
func (w *LineWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.write(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *LineWriter) write(b []byte) error {
	w.lines.mu.Lock()
	defer w.lines.mu.Unlock()
	_, err := w.lines.out.Write(b)
	return err
}
