// Package gittest makes scratch git repositories for tests of the code that
// pulls, builds and rolls out revisions (ops/updater, ops/reset): an
// environment that keeps git away from the machine's configuration, and a
// repository to commit files to.
package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Env returns the environment for git and go in tests: HOME and git's
// configuration in a temporary directory, a fixed author, committer and
// date, and the Go caches where they are although HOME moves. It skips tb
// when git or go is missing.
func Env(tb testing.TB) []string {
	tb.Helper()
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not found", tool)
		}
	}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		tb.Skipf("go env: %v", err)
	}
	goenv := strings.Fields(string(out))
	if len(goenv) != 3 {
		tb.Skipf("go env printed %q", out)
	}
	home := tb.TempDir()
	return append(os.Environ(),
		"GOCACHE="+goenv[0], "GOMODCACHE="+goenv[1], "GOPATH="+goenv[2], "GOTOOLCHAIN=local",
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, ".gitconfig"),
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com",
		"GIT_AUTHOR_DATE=2026-11-24T12:00:00+09:00", "GIT_COMMITTER_DATE=2026-11-24T12:00:00+09:00",
	)
}

// Repo is a git repository a test commits to. Errors fail TB.
type Repo struct {
	TB  testing.TB
	Dir string
	// Env is the environment of every git command (see Env).
	Env []string
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.TB.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.Dir}, args...)...)
	cmd.Env = r.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.TB.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (path → content), commits everything and returns
// the new commit's hash.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.TB.Helper()
	for name, content := range files {
		path := filepath.Join(r.Dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.TB.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			r.TB.Fatal(err)
		}
	}
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}
