package reset

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/paymentctl/paymentctl/ops/updater"
)

// Names in the release directory (the updater's layout, docs/updater.md).
const (
	currentLink = "current"
	binaryName  = "paymentctl"
	// PIDFileName and LogFileName are the server's PID file and log in the
	// release directory, by default.
	PIDFileName = "paymentctl.pid"
	LogFileName = "paymentctl.log"
)

// GitOptions are the commands the pull and build steps run.
type GitOptions struct {
	// Repo is the git checkout (updator.repo).
	Repo string
	// Go and Git are the commands; default "go" and "git" from PATH.
	Go, Git string
	// Env is their environment; nil means this process's.
	Env []string
	// Logger receives the build's steps; nil discards them.
	Logger *slog.Logger
}

func (o GitOptions) git() string {
	if o.Git == "" {
		return "git"
	}
	return o.Git
}

func (o GitOptions) env() []string {
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	// Never wait for a password on a terminal nobody watches.
	return append(env[:len(env):len(env)], "GIT_TERMINAL_PROMPT=0")
}

// run runs git in the repository and returns its trimmed standard output;
// the error carries its standard error.
func (o GitOptions) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, o.git(), append([]string{"-C", o.Repo}, args...)...)
	cmd.Env = o.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Pulled is what Pull did.
type Pulled struct {
	// From and To are the commits checked out before and after.
	From, To string
}

// Summary describes the outcome in one line.
func (p Pulled) Summary() string {
	if p.From == p.To {
		return "already up to date at " + short(p.To)
	}
	return fmt.Sprintf("fast-forwarded %s → %s", short(p.From), short(p.To))
}

// Pull runs `git pull --ff-only` in the repository: the branch checked out
// moves to its upstream's head, or the step fails (diverged history, no
// upstream, unreachable remote) without touching anything.
func Pull(ctx context.Context, o GitOptions) (Pulled, error) {
	var p Pulled
	var err error
	if p.From, err = o.run(ctx, "rev-parse", "HEAD"); err != nil {
		return p, err
	}
	if _, err := o.run(ctx, "pull", "--ff-only", "--quiet"); err != nil {
		return p, err
	}
	p.To, err = o.run(ctx, "rev-parse", "HEAD")
	return p, err
}

// Built is what Build did.
type Built struct {
	// Target is the commit built.
	Target updater.Target
	// Binary is <releases>/<hash>/paymentctl.
	Binary string
	// Cached reports that the release existed and passed the check.
	Cached bool
	// Previous is the commit current pointed at before, "" for none.
	Previous string
}

// Summary describes the outcome in one line.
func (b *Built) Summary() string {
	what := "built " + b.Target.Short()
	if b.Cached {
		what = "release " + b.Target.Short() + " already built"
	}
	if b.Target.Branch != "" {
		what += " (" + b.Target.Branch + ")"
	}
	switch b.Previous {
	case "":
		return fmt.Sprintf("%s; current → %s", what, b.Target.Short())
	case b.Target.Hash:
		return fmt.Sprintf("%s; current already %s", what, b.Target.Short())
	}
	return fmt.Sprintf("%s; current → %s (was %s)", what, b.Target.Short(), short(b.Previous))
}

// Build stages the commit checked out in the repository with the
// updater's Releases, into <releases>/<hash>/paymentctl (exported with git
// archive, built with the version stamps, checked with `version --json`),
// and points <releases>/current at it. No server is handed off: the reset
// stops it before and starts <releases>/current/paymentctl after.
func Build(ctx context.Context, o GitOptions, releases string) (*Built, error) {
	hash, err := o.run(ctx, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return nil, err
	}
	t := updater.Target{Ref: "HEAD", Hash: hash}
	// Empty on a detached HEAD.
	t.Branch, _ = o.run(ctx, "symbolic-ref", "--quiet", "--short", "HEAD")

	dir, err := filepath.Abs(releases)
	if err != nil {
		return nil, err
	}
	rel, err := updater.NewReleases(updater.ReleasesOptions{
		Repo: o.Repo, Dir: dir,
		Executable: filepath.Join(dir, currentLink, binaryName),
		Upgrader:   noHandoff{},
		Go:         o.Go, Git: o.Git, Env: o.env(), Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	staged, err := rel.Stage(ctx, t)
	if err != nil {
		return nil, err
	}
	b := &Built{Target: t, Binary: staged.Binary, Cached: staged.Cached, Previous: rel.State().Current}
	if b.Previous == "" {
		// A first release: there is no link for Switch to re-point.
		if err := pointCurrent(dir, hash); err != nil {
			return nil, fmt.Errorf("point %s at %s: %w", filepath.Join(dir, currentLink), t.Short(), err)
		}
		return b, nil
	}
	if err := rel.Switch(ctx, hash); err != nil {
		return nil, err
	}
	return b, nil
}

// noHandoff is the Upgrader of Build: the server is stopped and started
// by the reset's own steps, so a switch has nobody to hand off to.
type noHandoff struct{}

// Upgrade does nothing.
func (noHandoff) Upgrade() error { return nil }

// pointCurrent makes <dir>/current a link to hash, made aside and renamed
// into place.
func pointCurrent(dir, hash string) error {
	tmp, err := os.MkdirTemp(dir, ".current-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	link := filepath.Join(tmp, currentLink)
	if err := os.Symlink(hash, link); err != nil {
		return err
	}
	return os.Rename(link, filepath.Join(dir, currentLink))
}

// short abbreviates a commit hash.
func short(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}
