package handoff

import (
	"fmt"
	"os"
	"strings"
)

// envReport names the file in which a process started by an upgrade says
// why it exits before it is ready. The upgrading process sets it in the
// environment the new process inherits and adds what it finds there to the
// upgrade's error, so that `paymentctl update` reports "readiness check:
// ... status 503" instead of tableflip's bare "exit status 1".
const envReport = "PAYMENTCTL_HANDOFF_REPORT"

// maxReport bounds what is read back from a report file.
const maxReport = 4096

// ReportStartFailure tells the process that started this one by an upgrade
// why this one is exiting before it got ready; the caller passes the error
// that ends the process. Outside an upgrade, after readiness (Serve clears
// the setting then), or for a nil error it does nothing. Best effort: a
// failure to write only loses the explanation.
func ReportStartFailure(err error) {
	path := os.Getenv(envReport)
	if err == nil || path == "" {
		return
	}
	_ = os.WriteFile(path, []byte(err.Error()), 0o600)
}

// withReport runs upgrade with a fresh report file named in the
// environment the new process inherits, and adds the file's content to
// upgrade's error.
func withReport(upgrade func() error) error {
	f, err := os.CreateTemp("", "paymentctl-handoff-*.txt")
	if err != nil {
		return upgrade() // no explanation, but the upgrade can still run
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := os.Setenv(envReport, path); err != nil {
		return upgrade()
	}
	defer os.Unsetenv(envReport)
	err = upgrade()
	if err == nil {
		return nil
	}
	if b, rerr := os.ReadFile(path); rerr == nil {
		if msg := strings.TrimSpace(string(b[:min(len(b), maxReport)])); msg != "" {
			return fmt.Errorf("%w; the new process said: %s", err, msg)
		}
	}
	return err
}
