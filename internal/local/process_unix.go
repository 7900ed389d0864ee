//go:build unix

package local

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Alive reports whether a process (not a zombie) has the pid.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A daemon whose parent does not reap it stays a zombie after exiting.
	// Its main thread turns zombie first, while the other threads still
	// exit: the process (and its ports) is only gone when they are too.
	proc := "/proc/" + strconv.Itoa(pid)
	if b, err := os.ReadFile(proc + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			threads, err := os.ReadDir(proc + "/task")
			return err == nil && len(threads) > 1
		}
	}
	return true
}

// readProc reads the command line and working directory of pid: from /proc
// where there is one (Linux), otherwise the command line from ps(1).
func readProc(pid int) (procInfo, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil {
		cwd, _ := os.Readlink(dir + "/cwd")
		return procInfo{cmdline: strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")), cwd: cwd}, true
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		return procInfo{}, false // Linux, and the process is gone
	}
	out, err := exec.Command("ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return procInfo{}, false
	}
	return procInfo{cmdline: strings.TrimSpace(string(out))}, true
}

func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

func kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// Supported reports whether local clusters can be run on this system.
func Supported() error { return nil }
