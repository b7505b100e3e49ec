package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/buildinfo"
)

// The layout of a release directory.
const (
	currentLink  = "current"
	previousLink = "previous"
	binaryName   = "paymentctl"
	// DefaultPackage is the main package a release builds.
	DefaultPackage = "./cmd/paymentctl"
)

// verifyTimeout bounds `<binary> version --json`.
const verifyTimeout = 30 * time.Second

// outputTail is how much of a failed command's output goes into its error.
const outputTail = 2048

// Upgrader hands the listening sockets to the binary now at the server's
// executable path, and returns once that process is ready (nil) or has
// failed (the old process keeps serving). *handoff.Server implements it.
type Upgrader interface {
	Upgrade() error
}

// ReleasesOptions configures NewReleases.
type ReleasesOptions struct {
	// Repo is the git checkout revisions are fetched into and exported
	// from. It is never checked out or modified beyond `git fetch`.
	Repo string
	// Dir is the release directory: <Dir>/<hash>/paymentctl for each
	// build, and the links current and previous, pointing at a <hash>.
	Dir string
	// Package is the main package to build; default DefaultPackage.
	Package string
	// Executable is the path the server was started as, which a handoff
	// re-executes (resolved through PATH like exec.LookPath); default
	// os.Args[0]. It must go through <Dir>/current.
	Executable string
	// Upgrader performs the handoff after a switch.
	Upgrader Upgrader
	// Go and Git are the commands run; default "go" and "git" from PATH.
	Go, Git string
	// Env is the environment of those commands; nil means os.Environ().
	Env []string
	// Now reads the clock (the build date); nil means time.Now.
	Now func() time.Time
	// Logger receives the steps; nil discards them.
	Logger *slog.Logger
}

// Releases builds, verifies and switches the releases of one instance. It
// implements the instance side of a rollout for Agent. Its methods are
// safe for concurrent use; changes to the links are serialised.
type Releases struct {
	opts ReleasesOptions
	repo string
	dir  string
	exe  string
	log  *slog.Logger
	mu   sync.Mutex
}

// NewReleases checks opts and resolves the executable path. The release
// directory is created by the first Stage.
func NewReleases(opts ReleasesOptions) (*Releases, error) {
	if opts.Repo == "" || opts.Dir == "" {
		return nil, errors.New("releases: the repository and the release directory must be set")
	}
	if opts.Upgrader == nil {
		return nil, errors.New("releases: no upgrader")
	}
	if opts.Package == "" {
		opts.Package = DefaultPackage
	}
	if opts.Executable == "" && len(os.Args) > 0 {
		opts.Executable = os.Args[0]
	}
	if opts.Go == "" {
		opts.Go = "go"
	}
	if opts.Git == "" {
		opts.Git = "git"
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	repo, err := filepath.Abs(opts.Repo)
	if err != nil {
		return nil, fmt.Errorf("releases: repository: %w", err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("releases: directory: %w", err)
	}
	// tableflip runs exec.LookPath(os.Args[0]) in this working directory.
	exe, err := exec.LookPath(opts.Executable)
	if err != nil && !errors.Is(err, exec.ErrDot) {
		exe = opts.Executable
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, fmt.Errorf("releases: executable: %w", err)
	}
	return &Releases{opts: opts, repo: repo, dir: dir, exe: exe, log: opts.Logger}, nil
}

// Resolve fetches and returns the commit ref names in the repository. An
// empty ref is the branch the repository is on, or its upstream when it
// has one; a local branch with an upstream also resolves to the upstream,
// so "main" means the latest fetched main.
func (r *Releases) Resolve(ctx context.Context, ref string) (Target, error) {
	if strings.HasPrefix(ref, "-") || strings.ContainsAny(ref, " \t\n\x00") {
		return Target{}, fmt.Errorf("resolve: %q is not a git ref", ref)
	}
	if _, err := r.git(ctx, "fetch", "--quiet"); err != nil {
		return Target{}, fmt.Errorf("resolve: %w", err)
	}
	t := Target{Ref: ref}
	rev := ref
	if ref == "" {
		rev = "HEAD"
		if out, err := r.git(ctx, "symbolic-ref", "--quiet", "--short", "HEAD"); err == nil {
			t.Branch = strings.TrimSpace(string(out))
		}
		if t.Branch != "" && r.hasUpstream(ctx, t.Branch) {
			rev = t.Branch + "@{upstream}"
		}
	} else if out, err := r.git(ctx, "rev-parse", "--symbolic-full-name", ref); err == nil {
		full := strings.TrimSpace(string(out))
		switch {
		case strings.HasPrefix(full, "refs/heads/"):
			t.Branch = strings.TrimPrefix(full, "refs/heads/")
			if r.hasUpstream(ctx, t.Branch) {
				rev = t.Branch + "@{upstream}"
			}
		case strings.HasPrefix(full, "refs/remotes/"):
			if _, b, ok := strings.Cut(strings.TrimPrefix(full, "refs/remotes/"), "/"); ok {
				t.Branch = b
			}
		}
	}
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		name := ref
		if name == "" {
			name = "HEAD"
		}
		return Target{}, fmt.Errorf("resolve: %s is not a commit in %s", name, r.repo)
	}
	t.Hash = strings.TrimSpace(string(out))
	return t, nil
}

// hasUpstream reports whether the local branch has an upstream.
func (r *Releases) hasUpstream(ctx context.Context, branch string) bool {
	_, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", branch+"@{upstream}")
	return err == nil
}

// Stage makes <Dir>/<hash>/paymentctl: it exports the commit from the
// repository (fetching first if it is missing) into a fresh directory,
// builds it with -trimpath and the build metadata in -ldflags, runs
// `<binary> version --json` to check that it starts and reports the hash,
// and moves it into place. A release already there that passes the check
// is kept. Nothing that serves is touched.
func (r *Releases) Stage(ctx context.Context, t Target) (*Staged, error) {
	start := time.Now()
	if !validHash(t.Hash) {
		return nil, fmt.Errorf("stage: %q is not a full commit hash", t.Hash)
	}
	final := filepath.Join(r.dir, t.Hash)
	bin := filepath.Join(final, binaryName)
	if _, err := os.Stat(bin); err == nil {
		if err := verify(ctx, bin, t.Hash); err == nil {
			return &Staged{Binary: bin, Cached: true, Took: time.Since(start)}, nil
		}
	}
	ldflags, err := r.ldflags(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}

	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	work, err := os.MkdirTemp(r.dir, ".stage-"+t.Short()+"-")
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	if err := r.export(ctx, t.Hash, src); err != nil {
		return nil, fmt.Errorf("stage: export %s: %w", t.Short(), err)
	}
	release := filepath.Join(work, "release")
	built := filepath.Join(release, binaryName)
	r.log.Info("building", "commit", t.Short(), "package", r.opts.Package)
	if _, err := r.run(ctx, src, r.opts.Go, "build", "-trimpath", "-ldflags", ldflags, "-o", built, r.opts.Package); err != nil {
		return nil, fmt.Errorf("stage: build %s: %w", t.Short(), err)
	}
	if err := verify(ctx, built, t.Hash); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := os.Lstat(final); err == nil {
		// A release that failed the check above; never the one serving.
		if cur, _ := r.readLink(currentLink); cur == t.Hash {
			return nil, fmt.Errorf("stage: %s is the current release but does not pass the check; not replacing it", final)
		}
		if err := os.RemoveAll(final); err != nil {
			return nil, fmt.Errorf("stage: %w", err)
		}
	}
	if err := os.Rename(release, final); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	r.log.Info("staged", "commit", t.Short(), "binary", bin, "took", time.Since(start).Round(time.Millisecond))
	return &Staged{Binary: bin, Took: time.Since(start)}, nil
}

// ldflags makes sure the commit is in the repository (fetching it if not)
// and renders the -ldflags that stamp it: `git describe` as the version,
// the commit's metadata from `git log`, the target's branch, the build
// date.
func (r *Releases) ldflags(ctx context.Context, t Target) (string, error) {
	if _, err := r.git(ctx, "cat-file", "-e", t.Hash+"^{commit}"); err != nil {
		if _, err := r.git(ctx, "fetch", "--quiet"); err != nil {
			return "", err
		}
		if _, err := r.git(ctx, "cat-file", "-e", t.Hash+"^{commit}"); err != nil {
			return "", fmt.Errorf("commit %s is not in %s, even after git fetch", t.Short(), r.repo)
		}
	}
	log, err := r.git(ctx, "log", "-1", "--format="+buildinfo.GitLogFormat, t.Hash)
	if err != nil {
		return "", err
	}
	hash, meta, err := buildinfo.ParseGitLog(log)
	if err != nil {
		return "", err
	}
	meta.Branch = t.Branch
	version := t.Short()
	if out, err := r.git(ctx, "describe", "--tags", "--always", t.Hash); err == nil {
		version = strings.TrimSpace(string(out))
	}
	return buildinfo.LDFlags(buildinfo.Info{
		Version: version, Commit: hash, Date: r.opts.Now().UTC().Format(time.RFC3339),
	}, meta), nil
}

// Switch re-points the current link at the staged hash (remembering the
// old target in the previous link) and hands off, so that the new process
// runs <Dir>/<hash>/paymentctl. If the handoff fails, the old process still
// serves and the link is put back.
func (r *Releases) Switch(_ context.Context, hash string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !validHash(hash) {
		return fmt.Errorf("switch: %q is not a full commit hash", hash)
	}
	st := r.state()
	if !st.Switchable {
		return fmt.Errorf("switch: %s", st.NotSwitchable)
	}
	bin := filepath.Join(r.dir, hash, binaryName)
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("switch: %s is not staged: %w", shortHash(hash), err)
	}
	if st.Current != hash {
		if err := r.setLink(previousLink, st.Current); err != nil {
			return fmt.Errorf("switch: %w", err)
		}
	}
	return r.handOff(st.Current, hash)
}

// Rollback re-points the current link from hash, which this process runs,
// back to the previous release and hands off to it. If the handoff fails,
// the link is put back to hash, which keeps serving.
func (r *Releases) Rollback(_ context.Context, hash string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state()
	if st.Current != hash {
		return fmt.Errorf("rollback: the current release is %s, not %s", shortHash(st.Current), shortHash(hash))
	}
	if st.Previous == "" || st.Previous == hash {
		return errors.New("rollback: no previous release")
	}
	return r.handOff(hash, st.Previous)
}

// handOff points current at to, checks that the executable now resolves to
// its binary, and upgrades; on any failure it points current back at from.
func (r *Releases) handOff(from, to string) error {
	if err := r.setLink(currentLink, to); err != nil {
		return fmt.Errorf("switch to %s: %w", shortHash(to), err)
	}
	undo := func(cause error) error {
		if err := r.setLink(currentLink, from); err != nil {
			return fmt.Errorf("%w; and putting the current link back to %s failed: %w", cause, shortHash(from), err)
		}
		return fmt.Errorf("%w (current link put back to %s)", cause, shortHash(from))
	}
	bin := filepath.Join(r.dir, to, binaryName)
	if err := sameFile(r.exe, bin); err != nil {
		return undo(fmt.Errorf("switch to %s: %w", shortHash(to), err))
	}
	r.log.Info("handing off", "from", shortHash(from), "to", shortHash(to))
	if err := r.opts.Upgrader.Upgrade(); err != nil {
		return undo(fmt.Errorf("hand off to %s: %w", shortHash(to), err))
	}
	return nil
}

// State describes the release directory now.
func (r *Releases) State() ReleaseState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state()
}

func (r *Releases) state() ReleaseState {
	st := ReleaseState{Dir: r.dir, Executable: r.exe}
	st.Current, _ = r.readLink(currentLink)
	st.Previous, _ = r.readLink(previousLink)
	link := filepath.Join(r.dir, currentLink)
	if st.Current == "" {
		st.NotSwitchable = fmt.Sprintf("there is no %s link; start the server as %s (see docs/updater.md)", link, filepath.Join(link, binaryName))
		return st
	}
	ok, err := throughLink(r.exe, link)
	switch {
	case err != nil:
		st.NotSwitchable = fmt.Sprintf("cannot resolve the executable %s: %v", r.exe, err)
	case !ok:
		st.NotSwitchable = fmt.Sprintf("the server runs %s, which does not go through %s; start it as %s (see docs/updater.md)", r.exe, link, filepath.Join(link, binaryName))
	default:
		st.Switchable = true
	}
	return st
}

// git runs git in the repository and returns its standard output.
func (r *Releases) git(ctx context.Context, args ...string) ([]byte, error) {
	return r.run(ctx, "", r.opts.Git, append([]string{"-C", r.repo}, args...)...)
}

// run runs a command and returns its standard output; the error carries
// the end of its standard error (or output).
func (r *Releases) run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = r.opts.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := tail(stderr.Bytes())
		if msg == "" {
			msg = tail(stdout.Bytes())
		}
		return nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), firstArg(args), err, msg)
	}
	return stdout.Bytes(), nil
}

// firstArg names a command for errors: git's subcommand after -C dir.
func firstArg(args []string) string {
	if len(args) > 2 && args[0] == "-C" {
		return args[2]
	}
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

// tail returns the end of a command's output, trimmed.
func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > outputTail {
		b = append([]byte("…"), b[len(b)-outputTail:]...)
	}
	return string(b)
}

// verify runs `bin version --json` and checks that it reports hash.
func verify(ctx context.Context, bin, hash string) error {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "version", "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("verify %s: %s version: %w: %s", shortHash(hash), bin, err, tail(stderr.Bytes()))
	}
	var info buildinfo.Info
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return fmt.Errorf("verify %s: %s version --json: %w", shortHash(hash), bin, err)
	}
	if info.Commit != hash {
		return fmt.Errorf("verify %s: the binary reports commit %q", shortHash(hash), info.Commit)
	}
	return nil
}

// validHash reports whether h is a full SHA-1 or SHA-256 commit hash in
// lower-case hex.
func validHash(h string) bool {
	if len(h) != 40 && len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
