//go:build unix

package reset

import "syscall"

// terminate asks pid to stop gracefully (SIGTERM: the server drains).
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// probe sends signal 0: nil when pid exists and may be signalled.
func probe(pid int) error { return syscall.Kill(pid, 0) }

// detached makes a child a session leader of its own, so it outlives the
// reset and its terminal.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
