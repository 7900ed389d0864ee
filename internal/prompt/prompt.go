// Package prompt asks redis-cli's questions on plain stdin, in redis-cli's
// words, so that scripts that pipe "yes" into redis-cli work unchanged.
package prompt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoInput means standard input ended before an answer was given.
var ErrNoInput = errors.New("no answer: standard input is closed")

// Prompter asks questions on out and reads answers from in.
type Prompter struct {
	In  *bufio.Reader
	Out io.Writer
}

// Confirm prints "<msg> (type 'yes' to accept): " and reports whether the
// answer starts with "yes", as redis-cli's confirmWithYes accepts it.
// End of input is a refusal.
func (p *Prompter) Confirm(msg string) bool {
	fmt.Fprintf(p.Out, "%s (type 'yes' to accept): ", msg)
	line, err := p.readLine()
	return err == nil && strings.HasPrefix(line, "yes")
}

// YesNo prints q as is and reports whether the answer starts with "yes"
// (reshard's "(yes/no)?" question).
func (p *Prompter) YesNo(q string) bool {
	fmt.Fprint(p.Out, q)
	line, err := p.readLine()
	return err == nil && strings.HasPrefix(line, "yes")
}

// Ask prints q and returns the answer without its line end. It returns
// ErrNoInput at end of input instead of asking forever.
func (p *Prompter) Ask(q string) (string, error) {
	fmt.Fprint(p.Out, q)
	return p.readLine()
}

func (p *Prompter) readLine() (string, error) {
	line, err := p.In.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", ErrNoInput
	}
	return strings.TrimRight(line, "\r\n"), nil
}
