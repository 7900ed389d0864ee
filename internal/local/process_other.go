//go:build !unix

package local

import "errors"

var errUnsupported = errors.New("rcluster local needs a Unix system (Linux or macOS)")

// Alive reports whether a process has the pid; not supported here.
func Alive(int) bool { return false }

func readProc(int) (procInfo, bool) { return procInfo{}, false }

func terminate(int) error { return errUnsupported }

func kill(int) error { return errUnsupported }

// Supported reports whether local clusters can be run on this system.
func Supported() error { return errUnsupported }
