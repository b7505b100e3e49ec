//go:build !unix

package reset

import (
	"errors"
	"syscall"
)

// errNoSignals: stopping a server by signal needs a Unix system, as the
// socket handoff does.
var errNoSignals = errors.New("stopping a server by PID needs a Unix system; stop it yourself and use --no-start")

func terminate(int) error { return errNoSignals }

func probe(int) error { return errNoSignals }

func detached() *syscall.SysProcAttr { return nil }
