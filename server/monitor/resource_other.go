//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package monitor

import "github.com/paymentctl/paymentctl/sdk"

// resourceUsage has nothing to read on this platform.
func resourceUsage() sdk.Resource { return sdk.Resource{} }
