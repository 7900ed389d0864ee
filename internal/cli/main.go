// Package cli wires rcluster's commands with cobra: one file per command,
// each with an options struct, a constructor and a run function. Exit codes
// are decided here, in one place.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/manager"
)

// Exit codes. redis-cli exits 0 or 1; rcluster adds 2 for command lines its
// own parser refuses (unknown command or flag).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// exitError ends the run with a code after its message was printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is printed by Main and exits ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Main runs rcluster with args (without the program name) and returns the
// process exit code.
func Main(args []string, ios *iostreams.IOStreams, getenv func(string) string) int {
	return run(args, &factory{IO: ios, Getenv: getenv})
}

func run(args []string, f *factory) int {
	ios := f.IO
	ctx, stop := f.stopOnSignal()
	defer stop()
	// "redis-cli --cluster check x" becomes "rcluster --cluster check x" when a
	// script is moved over by search and replace of the program name only.
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--cluster" })

	// Every write of output is checked: output cut short fails the run.
	out := &iostreams.CheckedWriter{W: ios.Out}
	ios.Out = out
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	if sig := f.signal.Load(); sig != nil && err != nil {
		if !errors.Is(err, manager.ErrReported) {
			fmt.Fprintln(ios.ErrOut, "Interrupted.")
		}
		return signalExitCode(*sig)
	}
	switch {
	case err == nil && out.Err() != nil:
		fmt.Fprintf(ios.ErrOut, "Error: writing the output: %v\n", out.Err())
		return ExitFailure
	case err == nil:
		return ExitOK
	case errors.Is(err, manager.ErrReported):
		return ExitFailure
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(ios.ErrOut, "Interrupted.")
		return ExitFailure
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(ios.ErrOut, "%s\nRun 'rcluster --help' for usage.\n", ue.msg)
		return ExitUsage
	}
	fmt.Fprintf(ios.ErrOut, "Error: %v\n", err)
	return ExitFailure
}

// stopGrace is how long a run may take to stop after the first SIGINT or
// SIGTERM (finishing the slot in flight, closing the others, reporting)
// before it is ended at once, as by a second signal.
const stopGrace = 2 * time.Second

// stopOnSignal returns the run's context. A command that only reads ends
// at once on SIGINT or SIGTERM, as redis-cli does. For one that writes, the
// first signal cancels the context: waits and network calls end, moves
// finish the slot in flight and close the others, and the run reports what
// it left. A second signal, or stopGrace running out, ends the process at
// once (even inside a network call), saying what may be left open.
func (f *factory) stopOnSignal() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		if !f.changes.Load() {
			os.Exit(signalExitCode(first))
		}
		f.signal.Store(&first)
		cancel()
		// A signal sent to the process and to its group (as timeout(1)
		// does) arrives twice at once: that is still the first one.
		coalesce := time.After(sameSignalWindow)
		grace := time.After(stopGrace)
		why := "Interrupted again: stopping at once."
		for {
			select {
			case <-coalesce:
				coalesce = nil
				continue
			case s := <-sigs:
				if coalesce != nil {
					continue
				}
				first = s
			case <-grace:
				why = fmt.Sprintf("Not stopped within %s: stopping at once.", stopGrace)
			case <-done:
				return
			}
			break
		}
		fmt.Fprintln(f.IO.ErrOut, why)
		for _, what := range f.inFlight.List() {
			fmt.Fprintf(f.IO.ErrOut, "In flight, may be left open: %s\n", what)
		}
		if entry := f.entry.Load(); entry != nil && f.operating.Load() {
			fmt.Fprintf(f.IO.ErrOut, "Slots in flight may be left open: run 'rcluster fix %s' to close them.\n", *entry)
		}
		os.Exit(signalExitCode(first))
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// sameSignalWindow is how close two signals must come to count as one.
const sameSignalWindow = 100 * time.Millisecond

// signalExitCode is the shell's code for a process ended by sig (130 for
// SIGINT, 143 for SIGTERM).
func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitFailure
}
