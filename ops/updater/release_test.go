package updater

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/internal/gittest"
)

// A tiny module at this module's path, so that the -X flags of the
// release build land in its buildinfo variables; its version --json
// prints them like paymentctl's does.
const (
	fixtureGoMod     = "module github.com/paymentctl/paymentctl\n\ngo 1.22\n"
	fixtureBuildinfo = `package buildinfo

var (
	version, commit, date                  string
	branch, subject, authorName, authorEmail string
	authoredAt, committedAt                string
)

func Fields() map[string]string {
	return map[string]string{"version": version, "commit": commit, "date": date, "branch": branch, "subject": subject, "committed_at": committedAt}
}
`
	fixtureMain = `package main

import (
	"encoding/json"
	"os"

	"github.com/paymentctl/paymentctl/buildinfo"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "version" && os.Args[2] == "--json" {
		json.NewEncoder(os.Stdout).Encode(buildinfo.Fields())
		return
	}
	os.Exit(2)
}
`
)

// fixture is an origin repository with the tiny module, a clone the
// releases come from, and a release directory whose executable path goes
// through current.
type fixture struct {
	origin, work *gittest.Repo
	dir          string
	up           *fakeUpgrader
	rel          *Releases
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := gittest.Env(t)
	root := t.TempDir()
	origin := &gittest.Repo{TB: t, Dir: filepath.Join(root, "origin"), Env: env}
	if err := os.MkdirAll(origin.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	origin.Git("init", "-q", "-b", "main")
	origin.Commit("first", map[string]string{
		"go.mod": fixtureGoMod, "buildinfo/buildinfo.go": fixtureBuildinfo, "cmd/paymentctl/main.go": fixtureMain,
	})
	work := &gittest.Repo{TB: t, Dir: filepath.Join(root, "work"), Env: env}
	cmd := exec.Command("git", "clone", "-q", origin.Dir, work.Dir)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	f := &fixture{origin: origin, work: work, dir: filepath.Join(root, "releases"), up: &fakeUpgrader{}}
	rel, err := NewReleases(ReleasesOptions{
		Repo: work.Dir, Dir: f.dir, Upgrader: f.up, Env: env,
		Executable: filepath.Join(f.dir, currentLink, binaryName),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.rel = rel
	return f
}

type fakeUpgrader struct {
	mu    sync.Mutex
	calls int
	err   error
	// targets records what the executable resolved to at each call.
	targets []string
	exe     string
}

func (u *fakeUpgrader) Upgrade() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	if u.exe != "" {
		p, _ := filepath.EvalSymlinks(u.exe)
		u.targets = append(u.targets, filepath.Base(filepath.Dir(p)))
	}
	return u.err
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	first := f.work.Git("rev-parse", "HEAD")
	f.origin.Git("tag", "v1.0.0")
	second := f.origin.Commit("second", map[string]string{"README": "2\n"})
	ctx := context.Background()

	tests := []struct {
		ref     string
		want    Target
		wantErr string
	}{
		// The work clone is still at first: resolve fetches and takes the
		// upstream of the branch it is on.
		{ref: "", want: Target{Hash: second, Branch: "main"}},
		{ref: "main", want: Target{Ref: "main", Hash: second, Branch: "main"}},
		{ref: "origin/main", want: Target{Ref: "origin/main", Hash: second, Branch: "main"}},
		{ref: "v1.0.0", want: Target{Ref: "v1.0.0", Hash: first}},
		{ref: first, want: Target{Ref: first, Hash: first}},
		{ref: first[:10], want: Target{Ref: first[:10], Hash: first}},
		{ref: "nope", wantErr: "nope is not a commit"},
		{ref: "--upload-pack=touch /tmp/x", wantErr: "is not a git ref"},
		{ref: "-h", wantErr: "is not a git ref"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := f.rel.Resolve(ctx, tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve = %+v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
	if head := f.work.Git("rev-parse", "HEAD"); head != first {
		t.Errorf("resolve moved the work tree to %s", head)
	}

	// Without an upstream, the branch the repository is on.
	f.work.Git("checkout", "-q", "-b", "local", first)
	third := f.work.Commit("third", nil)
	got, err := f.rel.Resolve(ctx, "")
	if err != nil || got.Hash != third || got.Branch != "local" {
		t.Errorf("Resolve on a branch without upstream = %+v, %v; want %s on local", got, err, third)
	}
}

func TestStageSwitchRollback(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.work.Git("rev-parse", "HEAD")
	second := f.origin.Commit("second: it's \"quoted\"", map[string]string{"README": "2\n"})
	f.up.exe = filepath.Join(f.dir, currentLink, binaryName)

	if st := f.rel.State(); st.Switchable || !strings.Contains(st.NotSwitchable, "there is no") {
		t.Errorf("state before any release = %+v", st)
	}

	// Stage both commits (the second is fetched on demand).
	for _, h := range []string{first, second} {
		s, err := f.rel.Stage(ctx, Target{Hash: h, Branch: "main"})
		if err != nil {
			t.Fatalf("stage %s: %v", shortHash(h), err)
		}
		if s.Cached || s.Binary != filepath.Join(f.dir, h, binaryName) {
			t.Errorf("staged = %+v", s)
		}
	}
	out, err := exec.Command(filepath.Join(f.dir, second, binaryName), "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal(out, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// git describe --tags --always: no tag, so the abbreviated hash.
		"version": second[:7], "commit": second, "branch": "main",
		// A subject with both kinds of quote: buildinfo.LDFlags turns ' into ’.
		"subject": "second: it\u2019s \"quoted\"", "committed_at": "2026-11-24T12:00:00+09:00",
	}
	if fields["date"] == "" {
		t.Error("no build date stamped")
	}
	delete(fields, "date")
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("stamped (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}

	// A second stage of the same commit keeps the verified build.
	if s, err := f.rel.Stage(ctx, Target{Hash: second}); err != nil || !s.Cached {
		t.Errorf("restage = %+v, %v; want cached", s, err)
	}

	// The server runs current/paymentctl, current → first.
	if err := f.rel.setLink(currentLink, first); err != nil {
		t.Fatal(err)
	}
	if st := f.rel.State(); !st.Switchable || st.Current != first {
		t.Fatalf("state = %+v", st)
	}

	// A handoff that fails leaves current where it was.
	f.up.err = errors.New("child exited: exit status 3")
	err = f.rel.Switch(ctx, second)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "put back to "+first[:7]) {
		t.Errorf("switch with a failing handoff: %v", err)
	}
	if st := f.rel.State(); st.Current != first {
		t.Errorf("current after a failed handoff = %s", st.Current)
	}

	// A handoff that works: the new process is started from second.
	f.up.err = nil
	if err := f.rel.Switch(ctx, second); err != nil {
		t.Fatal(err)
	}
	if st := f.rel.State(); st.Current != second || st.Previous != first {
		t.Errorf("after switch: current %s previous %s", st.Current, st.Previous)
	}

	// Rollback goes back to first, only from what runs.
	if err := f.rel.Rollback(ctx, first); err == nil {
		t.Error("rollback from a commit that is not current worked")
	}
	if err := f.rel.Rollback(ctx, second); err != nil {
		t.Fatal(err)
	}
	if st := f.rel.State(); st.Current != first {
		t.Errorf("after rollback: current %s", st.Current)
	}
	if diff := cmp.Diff([]string{second, second, first}, f.up.targets); diff != "" {
		t.Errorf("binaries the handoffs started (-want +got):\n%s", diff)
	}

	// Switching to a commit never staged is refused before any handoff.
	calls := f.up.calls
	if err := f.rel.Switch(ctx, strings.Repeat("e", 40)); err == nil || !strings.Contains(err.Error(), "not staged") {
		t.Errorf("switch to an unstaged commit: %v", err)
	}
	if f.up.calls != calls {
		t.Error("an unstaged switch handed off")
	}
}

func TestStageFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	broken := f.origin.Commit("broken", map[string]string{"cmd/paymentctl/main.go": "package main\n\nfunc main() { nope }\n"})
	liar := f.origin.Commit("liar", map[string]string{"cmd/paymentctl/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(`{\"commit\":\"0000\"}`) }\n"})

	tests := []struct {
		name, hash, want string
	}{
		{"build fails", broken, "undefined: nope"},
		{"binary reports another commit", liar, `reports commit "0000"`},
		{"unknown commit", strings.Repeat("d", 40), "is not in"},
		{"not a hash", "main", "not a full commit hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.rel.Stage(ctx, Target{Hash: tt.hash})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Stage = %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(f.dir, tt.hash)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a release directory was left: %v", err)
			}
		})
	}
	entries, _ := os.ReadDir(f.dir)
	if len(entries) != 0 {
		t.Errorf("release directory holds %d entries after failures", len(entries))
	}
}

func TestThroughLink(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join(root, "releases")
	for _, d := range []string{"releases/abc", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rel, "abc", "paymentctl"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"releases/current":     "abc",
		"bin/via-current":      filepath.Join(rel, "current", "paymentctl"),
		"bin/direct":           filepath.Join(rel, "abc", "paymentctl"),
		"alias":                "releases", // a link to the parent directory
		"bin/via-link-to-link": filepath.Join(root, "bin", "via-current"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(rel, "current")
	tests := []struct {
		path string
		want bool
	}{
		{filepath.Join(rel, "current", "paymentctl"), true},
		{filepath.Join(root, "bin", "via-current"), true},
		{filepath.Join(root, "bin", "via-link-to-link"), true},
		{filepath.Join(root, "alias", "current", "paymentctl"), true},
		{filepath.Join(rel, "abc", "paymentctl"), false},
		{filepath.Join(root, "bin", "direct"), false},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, root), func(t *testing.T) {
			got, err := throughLink(tt.path, link)
			if err != nil || got != tt.want {
				t.Errorf("throughLink = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := throughLink(filepath.Join(root, "missing"), link); err == nil {
		t.Error("a missing path resolved")
	}
}

func TestUntarRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "/abs/evil", "a/../../evil"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		_ = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
		_, _ = tw.Write([]byte("x"))
		_ = tw.Close()
		dest := t.TempDir()
		if err := untar(&buf, dest); err == nil || !strings.Contains(err.Error(), "leaves the directory") {
			t.Errorf("untar %q: %v", name, err)
		}
	}
}
