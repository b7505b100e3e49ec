// Package monitor produces what GET /monitors/performance and
// GET /monitors/system answer: the process's CPU, memory and getrusage
// figures in the shapes of Node's process.cpuUsage, memoryUsage and
// resourceUsage, Go runtime and HTTP counters, and what binary runs since
// when (commit, module, dependencies, arguments with secrets masked, start
// time).
//
// A Monitor is made once per process by New and shared by the router (its
// Middleware counts requests) and the monitor handlers. CPUPercent turns two
// Performance samples into a CPU % for `paymentctl monitor`.
package monitor

import (
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/paymentctl/paymentctl/buildinfo"
	"github.com/paymentctl/paymentctl/sdk"
)

// commitTimeLayout is how the original prints commit times
// (moment's "YYYY-MM-DD HH:mm:ss").
const commitTimeLayout = "2006-01-02 15:04:05"

// createdAtLayout matches JavaScript's Date.toISOString once in UTC.
const createdAtLayout = "2006-01-02T15:04:05.000Z07:00"

// Options configure New. The zero value is ready for production.
type Options struct {
	// Now reads the clock; the start time is Now() at New. Default
	// time.Now.
	Now func() time.Time
	// Args are the process arguments System reports, secrets masked (see
	// maskArguments). Default os.Args.
	Args []string
	// Location is the time zone commit times are printed in, as the
	// original prints them in the server's local time. Default time.Local.
	Location *time.Location
}

// Monitor samples the running process. Its methods are safe for
// concurrent use.
type Monitor struct {
	uid      string
	args     []string
	start    time.Time
	location *time.Location
	pkg      sdk.Package
	// proc reads the resident set size; nil when the platform refused a
	// handle, and RSS is then reported as 0.
	proc *process.Process

	requests atomic.Int64
	errors   atomic.Int64
}

// New returns the Monitor of this process, with a fresh random UUID and
// the start time read now.
func New(opts Options) *Monitor {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Args == nil {
		opts.Args = os.Args
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	m := &Monitor{
		// Since Go 1.24 crypto/rand cannot fail, so neither can this.
		uid:      uuid.NewString(),
		args:     maskArguments(opts.Args),
		start:    opts.Now(),
		location: opts.Location,
		pkg:      modulePackage(),
	}
	if p, err := process.NewProcess(int32(os.Getpid())); err == nil {
		m.proc = p
	}
	return m
}

// Performance samples the process now. CPU times are microseconds, memory
// bytes, and the Resource fields keep Node's units (maxRSS in kilobytes).
// Node's heap names map onto the Go runtime's MemStats as:
//
//	heapTotal    = HeapSys, the heap memory obtained from the OS
//	heapUsed     = HeapAlloc, bytes of live and not yet swept objects
//	external     = Sys - HeapSys, stacks, GC metadata and other runtime memory
//	arrayBuffers = 0, Go has no separate buffer heap
//
// Figures a platform cannot give are 0: RSS when no process handle could
// be had, and every Resource field but the CPU times on Windows.
func (m *Monitor) Performance() sdk.Performance {
	var p sdk.Performance
	p.Resource = resourceUsage()
	p.CPU.User = p.Resource.UserCPUTime
	p.CPU.System = p.Resource.SystemCPUTime
	if m.proc != nil {
		if mi, err := m.proc.MemoryInfo(); err == nil {
			p.Memory.RSS = int64(mi.RSS)
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.Memory.HeapTotal = int64(ms.HeapSys)
	p.Memory.HeapUsed = int64(ms.HeapAlloc)
	p.Memory.External = int64(ms.Sys - ms.HeapSys)

	p.Runtime = sdk.Runtime{
		Goroutines: runtime.NumGoroutine(),
		NumGC:      ms.NumGC,
		PauseTotal: int64(ms.PauseTotalNs),
		Requests:   m.requests.Load(),
		Errors:     m.errors.Load(),
	}
	return p
}

// Middleware returns gin middleware that counts every request and those
// answered with a 5xx, or that panicked, into Performance().Runtime.
// Install it first, before gin.Recovery, so a recovered panic is counted
// with the 500 it turns into; installed after it, the panic is still
// counted as an error and passed on.
func (m *Monitor) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		returned := false
		defer func() {
			m.requests.Add(1)
			if !returned || c.Writer.Status() >= 500 {
				m.errors.Add(1)
			}
		}()
		c.Next()
		returned = true
	}
}

// System describes the running binary and process: the per-process UUID,
// the arguments with their secrets masked, the commit stamped at build time (see package buildinfo;
// fields the build did not stamp are empty, and the hash is "unknown"),
// the module with its dependencies, and the start time in ISO 8601 UTC.
func (m *Monitor) System() sdk.System {
	pkg := m.pkg
	pkg.Dependencies = maps.Clone(m.pkg.Dependencies)
	return sdk.System{
		UID:       m.uid,
		Arguments: slices.Clone(m.args),
		Commit:    commitOf(buildinfo.Get(), buildinfo.Commit(), m.location),
		Package:   pkg,
		CreatedAt: m.start.UTC().Format(createdAtLayout),
	}
}

// commitOf maps the build stamps onto the original's commit object.
func commitOf(info buildinfo.Info, c buildinfo.CommitInfo, loc *time.Location) sdk.Commit {
	author := sdk.Signature{Name: c.AuthorName, Email: c.AuthorEmail}
	return sdk.Commit{
		ShortHash:        shortHash(info.Commit),
		Hash:             info.Commit,
		Branch:           c.Branch,
		Subject:          c.Subject,
		SanitizedSubject: sanitize(c.Subject),
		Author:           author,
		// The build records the author only; a Go build has no
		// committer or tags, which the original's object requires.
		Committer:  author,
		Tags:       []string{},
		AuthoredAt: commitTime(c.AuthoredAt, loc),
		CommitedAt: commitTime(c.CommittedAt, loc),
	}
}

// sanitize turns a subject into git's %f form: letters and digits kept,
// every other run of characters one hyphen.
func sanitize(subject string) string {
	var b strings.Builder
	dash := false
	for _, r := range subject {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// shortHash abbreviates a hexadecimal commit hash to git's default seven
// digits and leaves anything else ("unknown") alone.
func shortHash(h string) string {
	const n = 7
	if len(h) <= n {
		return h
	}
	for _, r := range h {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F') {
			return h
		}
	}
	return h[:n]
}

// commitTime prints an RFC 3339 stamp in loc as the original does; an
// empty stamp stays empty and one that does not parse is kept as it is.
func commitTime(s string, loc *time.Location) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(loc).Format(commitTimeLayout)
}

// modulePackage describes the main module from the binary's build
// information, the Go counterpart of the original's package.json.
func modulePackage() sdk.Package {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return packageOf(bi, buildinfo.Get().Version)
}

// packageOf maps build information (nil when the binary has none) onto
// the package object: the main module's path, the given version, the Go
// version, and each dependency's version, or "=> path version" where it
// is replaced. Test binaries record no dependencies.
func packageOf(bi *debug.BuildInfo, version string) sdk.Package {
	pkg := sdk.Package{
		Version:         version,
		Description:     "paymentctl: integrated payment server for micro-service backends",
		Scripts:         map[string]string{},
		License:         "MIT",
		GoVersion:       runtime.Version(),
		Dependencies:    map[string]string{},
		DevDependencies: map[string]string{},
	}
	if bi == nil {
		return pkg
	}
	pkg.Name = bi.Main.Path
	if pkg.Name == "" {
		pkg.Name = bi.Path
	}
	if strings.HasPrefix(pkg.Name, "github.com/") {
		pkg.Repository = sdk.Repository{Type: "git", URL: "https://" + pkg.Name}
		pkg.Homepage = "https://" + pkg.Name
		pkg.Bugs = sdk.URL{URL: "https://" + pkg.Name + "/issues"}
	}
	for _, d := range bi.Deps {
		v := d.Version
		if r := d.Replace; r != nil {
			v = "=> " + r.Path
			if r.Version != "" {
				v += " " + r.Version
			}
		}
		pkg.Dependencies[d.Path] = v
	}
	return pkg
}

// CPUPercent returns the CPU use between two Performance samples of one
// process taken elapsed apart: user plus system CPU time spent, over the
// wall time, in percent. 100 means one core busy; a process on several
// cores can exceed it. It returns 0 when elapsed is not positive or the
// CPU times went backwards (the samples come from different processes,
// as across a restart).
func CPUPercent(prev, cur sdk.Performance, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	spent := (cur.CPU.User - prev.CPU.User) + (cur.CPU.System - prev.CPU.System)
	if spent < 0 || cur.CPU.User < prev.CPU.User || cur.CPU.System < prev.CPU.System {
		return 0
	}
	return 100 * float64(spent) / float64(elapsed.Microseconds())
}
