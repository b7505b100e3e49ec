//go:build windows

package monitor

import (
	"syscall"

	"github.com/paymentctl/paymentctl/sdk"
)

// resourceUsage fills the CPU times from GetProcessTimes; Windows has no
// getrusage, so the other fields stay 0.
func resourceUsage() sdk.Resource {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return sdk.Resource{}
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return sdk.Resource{}
	}
	return sdk.Resource{UserCPUTime: micros(user), SystemCPUTime: micros(kernel)}
}

// micros converts a FILETIME duration (100 ns ticks) to microseconds.
func micros(f syscall.Filetime) int64 {
	return (int64(f.HighDateTime)<<32 | int64(f.LowDateTime)) / 10
}
