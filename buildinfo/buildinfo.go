// Package buildinfo holds what the release build stamps into the binary:
// version, commit and build date, set by the linker with
//
//	-ldflags "-X github.com/paymentctl/paymentctl/buildinfo.version=v1.2.3
//	          -X github.com/paymentctl/paymentctl/buildinfo.commit=abc123
//	          -X github.com/paymentctl/paymentctl/buildinfo.date=2026-11-24T00:00:00Z"
//
// This machine kind builds with -buildvcs=false, so VCS stamps from the Go
// toolchain cannot be relied on; the linker variables are the source of
// truth and the module version from debug.ReadBuildInfo is only a fallback
// (for `go install module@version`).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at link time with -X; never assigned at run time.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
}

// Get returns the build information of the running binary. Values the
// linker did not set fall back to the module version (when installed with
// `go install`) or to "dev" and "unknown".
func Get() Info {
	info := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	if info.Version == "" {
		info.Version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

// LinkerVariables lists the fully qualified names that a build must set
// with -ldflags -X for Get to report a release; the release configuration
// is tested against it.
func LinkerVariables() []string {
	const pkg = "github.com/paymentctl/paymentctl/buildinfo."
	return []string{pkg + "version", pkg + "commit", pkg + "date"}
}
