package reset

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/internal/gittest"
)

// A module at paymentctl's path small enough to build in a moment: its
// cmd/paymentctl answers `version --json` with the commit stamped by the
// release build's -X flags, which is all Releases.Stage checks.
var fixture = map[string]string{
	"go.mod": "module github.com/paymentctl/paymentctl\n\ngo 1.22\n",
	"buildinfo/buildinfo.go": `package buildinfo

var commit string

// Commit is the stamped commit hash.
func Commit() string { return commit }
`,
	"cmd/paymentctl/main.go": `package main

import (
	"fmt"
	"os"

	"github.com/paymentctl/paymentctl/buildinfo"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "version" && os.Args[2] == "--json" {
		fmt.Printf("{\"commit\": %q}\n", buildinfo.Commit())
		return
	}
	os.Exit(2)
}
`,
}

// link returns what a link of the release directory points at.
func link(t *testing.T, releases, name string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(releases, name))
	if err != nil {
		t.Fatal(err)
	}
	return target
}

func TestPullAndBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	ctx := context.Background()
	env := gittest.Env(t)
	origin := &gittest.Repo{TB: t, Dir: t.TempDir(), Env: env}
	origin.Git("init", "-q", "-b", "main")
	c1 := origin.Commit("first", fixture)
	clone := &gittest.Repo{TB: t, Dir: filepath.Join(t.TempDir(), "clone"), Env: env}
	cmd := exec.Command("git", "clone", "-q", origin.Dir, clone.Dir)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	g := GitOptions{Repo: clone.Dir, Env: env}
	releases := filepath.Join(t.TempDir(), "releases")

	// A first build makes the current link.
	b, err := Build(ctx, g, releases)
	if err != nil {
		t.Fatalf("first build: %v", err)
	}
	if b.Target.Hash != c1 || b.Cached || b.Previous != "" || link(t, releases, currentLink) != c1 {
		t.Fatalf("first build: %+v, current → %s", b, link(t, releases, currentLink))
	}
	if want := "built " + c1[:7] + " (main); current → " + c1[:7]; b.Summary() != want {
		t.Errorf("summary %q, want %q", b.Summary(), want)
	}
	if _, err := os.Stat(filepath.Join(releases, c1, binaryName)); err != nil {
		t.Fatal(err)
	}

	p, err := Pull(ctx, g)
	if err != nil {
		t.Fatalf("pull with nothing new: %v", err)
	}
	if want := "already up to date at " + c1[:7]; p.Summary() != want {
		t.Errorf("summary %q, want %q", p.Summary(), want)
	}

	// A new commit upstream: pull fast-forwards, build switches.
	c2 := origin.Commit("second", map[string]string{"README": "two\n"})
	if p, err = Pull(ctx, g); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if p.From != c1 || p.To != c2 || clone.Git("rev-parse", "HEAD") != c2 {
		t.Fatalf("pull: %+v, want %s → %s", p, c1, c2)
	}
	if want := "fast-forwarded " + c1[:7] + " → " + c2[:7]; p.Summary() != want {
		t.Errorf("summary %q, want %q", p.Summary(), want)
	}
	if b, err = Build(ctx, g, releases); err != nil {
		t.Fatalf("second build: %v", err)
	}
	if b.Target.Hash != c2 || b.Previous != c1 || link(t, releases, currentLink) != c2 || link(t, releases, "previous") != c1 {
		t.Fatalf("second build: %+v", b)
	}
	if want := "built " + c2[:7] + " (main); current → " + c2[:7] + " (was " + c1[:7] + ")"; b.Summary() != want {
		t.Errorf("summary %q, want %q", b.Summary(), want)
	}

	// Building the same commit again keeps the release.
	if b, err = Build(ctx, g, releases); err != nil {
		t.Fatalf("third build: %v", err)
	}
	if !b.Cached || b.Summary() != "release "+c2[:7]+" already built (main); current already "+c2[:7] {
		t.Errorf("third build: %+v (%q)", b, b.Summary())
	}

	// Diverged histories: the pull fails and leaves the checkout alone.
	clone.Commit("local", map[string]string{"LOCAL": "x\n"})
	local := clone.Git("rev-parse", "HEAD")
	origin.Commit("remote", map[string]string{"REMOTE": "y\n"})
	if _, err := Pull(ctx, g); err == nil || !strings.Contains(err.Error(), "git pull") {
		t.Fatalf("pull of diverged histories = %v, want a git pull error", err)
	}
	if got := clone.Git("rev-parse", "HEAD"); got != local {
		t.Errorf("the failed pull moved HEAD to %s", got)
	}
}

func TestBuildFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	env := gittest.Env(t)
	r := &gittest.Repo{TB: t, Dir: t.TempDir(), Env: env}
	r.Git("init", "-q", "-b", "main")
	broken := map[string]string{}
	for k, v := range fixture {
		broken[k] = v
	}
	broken["cmd/paymentctl/main.go"] = "package main\n\nfunc main() { undefined() }\n"
	r.Commit("broken", broken)
	releases := filepath.Join(t.TempDir(), "releases")
	if _, err := Build(context.Background(), GitOptions{Repo: r.Dir, Env: env}, releases); err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("Build of a broken commit = %v, want the compiler's error", err)
	}
	if _, err := os.Lstat(filepath.Join(releases, currentLink)); !os.IsNotExist(err) {
		t.Errorf("a failed build left a current link: %v", err)
	}
}
