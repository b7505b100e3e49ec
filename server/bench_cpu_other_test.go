//go:build !unix

package server_test

import (
	"testing"
	"time"
)

// cpuTime is not measured on this system: the cpu-µs/op metric reads 0.
func cpuTime(testing.TB) time.Duration { return 0 }
