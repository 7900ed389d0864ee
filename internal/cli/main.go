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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// "redis-cli --cluster check x" becomes "rcluster --cluster check x" when a
	// script is moved over by search and replace of the program name only.
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--cluster" })

	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
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
