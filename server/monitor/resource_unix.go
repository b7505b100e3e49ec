//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package monitor

import (
	"runtime"
	"syscall"

	"github.com/paymentctl/paymentctl/sdk"
)

// resourceUsage reads getrusage(RUSAGE_SELF) into Node's resourceUsage
// shape, or zeros when the call fails.
func resourceUsage() sdk.Resource {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return sdk.Resource{}
	}
	maxRSS := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		// Darwin reports bytes where the other systems report kilobytes;
		// libuv, under Node's resourceUsage, converts the same way.
		maxRSS /= 1024
	}
	return sdk.Resource{
		UserCPUTime:                ru.Utime.Nano() / 1e3,
		SystemCPUTime:              ru.Stime.Nano() / 1e3,
		MaxRSS:                     maxRSS,
		SharedMemorySize:           int64(ru.Ixrss),
		UnsharedDataSize:           int64(ru.Idrss),
		UnsharedStackSize:          int64(ru.Isrss),
		MinorPageFault:             int64(ru.Minflt),
		MajorPageFault:             int64(ru.Majflt),
		SwappedOut:                 int64(ru.Nswap),
		FSRead:                     int64(ru.Inblock),
		FSWrite:                    int64(ru.Oublock),
		IPCSent:                    int64(ru.Msgsnd),
		IPCReceived:                int64(ru.Msgrcv),
		SignalsCount:               int64(ru.Nsignals),
		VoluntaryContextSwitches:   int64(ru.Nvcsw),
		InvoluntaryContextSwitches: int64(ru.Nivcsw),
	}
}
