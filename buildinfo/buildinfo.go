// Package buildinfo holds what the build stamps into the binary: version,
// commit and build date, and the commit's branch, subject, author and times,
// set by the linker with
//
//	-ldflags "-X github.com/paymentctl/paymentctl/buildinfo.version=v1.2.3
//	          -X github.com/paymentctl/paymentctl/buildinfo.commit=abc123
//	          -X github.com/paymentctl/paymentctl/buildinfo.date=2026-11-24T00:00:00Z"
//
// LinkerVariables lists every variable; ReleaseVariables the three that
// goreleaser can fill. LDFlags renders the flags for a given revision, and
// ParseGitLog reads that revision from `git log -1 --format=GitLogFormat`,
// so the updater and build scripts stamp the full commit metadata.
//
// The linker variables are the source of truth. When a build set none, Get
// falls back to what the Go toolchain stamps by itself (debug.ReadBuildInfo):
// the module version (for `go install module@version`) and, for a plain
// `go build` in a git checkout, the VCS settings vcs.revision, vcs.time and
// vcs.modified. Builds with -buildvcs=false (this project's CI and build
// machines set it in GOFLAGS) have no VCS settings, and test binaries never
// do; then the commit and date are "unknown".
package buildinfo

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Set at link time with -X; never assigned at run time. The commit times
// are RFC 3339.
var (
	version = ""
	commit  = ""
	date    = ""

	branch      = ""
	subject     = ""
	authorName  = ""
	authorEmail = ""
	authoredAt  = ""
	committedAt = ""
)

// pkgPath prefixes the linker variable names.
const pkgPath = "github.com/paymentctl/paymentctl/buildinfo."

// Info describes the running binary.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	// Modified reports that the binary was built from a working tree with
	// uncommitted changes (the toolchain's vcs.modified; never set by the
	// linker variables).
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
}

// CommitInfo is the metadata of the commit the binary was built from,
// beyond the hash that Info carries. AuthoredAt and CommittedAt are RFC 3339
// timestamps. Fields the build did not stamp are empty.
type CommitInfo struct {
	Branch      string `json:"branch"`
	Subject     string `json:"subject"`
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
	AuthoredAt  string `json:"authored_at"`
	CommittedAt string `json:"committed_at"`
}

// Get returns the build information of the running binary. Values the
// linker did not set fall back to the toolchain's stamps: the module
// version (when installed with `go install`) and the VCS revision, commit
// time and modified flag (a `go build` in a git checkout), or else to
// "dev" and "unknown".
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(Info{Version: version, Commit: commit, Date: date}, bi)
}

// get completes the linker's values in info from the toolchain's build
// information bi (nil when there is none).
func get(info Info, bi *debug.BuildInfo) Info {
	info.GoVersion = runtime.Version()
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		// The VCS settings describe the build's own checkout: use them
		// only for a binary whose linker variables say nothing of it.
		if info.Commit == "" {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					info.Commit = s.Value
				case "vcs.time":
					if info.Date == "" {
						info.Date = s.Value
					}
				case "vcs.modified":
					info.Modified = s.Value == "true"
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

// Commit returns the commit metadata stamped into the running binary, with
// empty fields where the build set none (goreleaser builds set none of
// them; see ReleaseVariables).
func Commit() CommitInfo {
	return CommitInfo{
		Branch:      branch,
		Subject:     subject,
		AuthorName:  authorName,
		AuthorEmail: authorEmail,
		AuthoredAt:  authoredAt,
		CommittedAt: committedAt,
	}
}

// LinkerVariables lists the fully qualified names of every variable a build
// can set with -ldflags -X, in the order LDFlags renders them.
func LinkerVariables() []string {
	return []string{
		pkgPath + "version", pkgPath + "commit", pkgPath + "date",
		pkgPath + "branch", pkgPath + "subject", pkgPath + "authorName",
		pkgPath + "authorEmail", pkgPath + "authoredAt", pkgPath + "committedAt",
	}
}

// ReleaseVariables lists the linker variables a release build must set for
// Get to report a release: the ones goreleaser has templates for. The
// release configuration is tested against it.
func ReleaseVariables() []string {
	return LinkerVariables()[:3]
}

// LDFlags renders the -X flags that stamp info and c into a binary, for
// `go build -ldflags`. Empty fields are left out, so Get's fallbacks apply;
// info.GoVersion is ignored (the toolchain decides it). Values holding
// spaces or quotes are quoted the way the go command splits -ldflags; a
// value holding both kinds of quote has its single quotes turned into
// U+2019, and control characters (a stray newline) become spaces. Callers
// add their own flags such as "-s -w".
func LDFlags(info Info, c CommitInfo) string {
	values := []string{
		info.Version, info.Commit, info.Date,
		c.Branch, c.Subject, c.AuthorName, c.AuthorEmail, c.AuthoredAt, c.CommittedAt,
	}
	var flags []string
	for i, name := range LinkerVariables() {
		if values[i] == "" {
			continue
		}
		flags = append(flags, "-X", quoteField(name+"="+values[i]))
	}
	return strings.Join(flags, " ")
}

// quoteField returns s as one field for the go command's -ldflags
// splitting: bare when it holds no space or quote, else wrapped in the
// kind of quote it does not contain (the go command knows no escapes).
func quoteField(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if !strings.ContainsAny(s, " '\"") {
		return s
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", "\u2019") + "'"
}

// GitLogFormat is the --format of `git log -1` whose output ParseGitLog
// reads: hash, subject, author name, author email, author and committer
// dates in strict ISO 8601, separated by NUL bytes.
const GitLogFormat = "%H%x00%s%x00%an%x00%ae%x00%aI%x00%cI"

// ParseGitLog reads the output of `git log -1 --format=` GitLogFormat and
// returns the commit hash and metadata. The branch is not part of it: set
// c.Branch from `git branch --show-current` (empty on a detached HEAD).
func ParseGitLog(out []byte) (hash string, c CommitInfo, err error) {
	fields := bytes.Split(bytes.TrimRight(out, "\r\n"), []byte{0})
	if len(fields) != 6 {
		return "", CommitInfo{}, fmt.Errorf("parse git log: got %d fields, want 6", len(fields))
	}
	hash = string(fields[0])
	if hash == "" {
		return "", CommitInfo{}, errors.New("parse git log: empty commit hash")
	}
	c = CommitInfo{
		Subject:     string(fields[1]),
		AuthorName:  string(fields[2]),
		AuthorEmail: string(fields[3]),
		AuthoredAt:  string(fields[4]),
		CommittedAt: string(fields[5]),
	}
	for _, t := range []string{c.AuthoredAt, c.CommittedAt} {
		if _, err := time.Parse(time.RFC3339, t); err != nil {
			return "", CommitInfo{}, fmt.Errorf("parse git log: commit time: %w", err)
		}
	}
	return hash, c, nil
}
