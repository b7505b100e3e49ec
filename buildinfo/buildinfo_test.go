package buildinfo

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestGetFallbacks(t *testing.T) {
	info := Get()
	if info.Version == "" || info.Commit != "unknown" || info.Date != "unknown" {
		t.Errorf("unstamped build: got %+v", info)
	}
	if info.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", info.GoVersion, runtime.Version())
	}
	if c := Commit(); c != (CommitInfo{}) {
		t.Errorf("unstamped build: Commit() = %+v, want zero", c)
	}
}

func TestGetFromBuildInfo(t *testing.T) {
	vcs := func(rev, at, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: at},
			{Key: "vcs.modified", Value: modified},
		}}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name   string
		linker Info
		bi     *debug.BuildInfo
		want   Info
	}{
		{"nothing stamped", Info{}, nil, Info{Version: "dev", Commit: "unknown", Date: "unknown"}},
		{"no VCS stamp (-buildvcs=false)", Info{}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			Info{Version: "dev", Commit: "unknown", Date: "unknown"}},
		{"go install module@version", Info{}, &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			Info{Version: "v1.4.0", Commit: "unknown", Date: "unknown"}},
		{"go build in a clean checkout", Info{}, vcs(rev, "2026-11-24T03:00:00Z", "false"),
			Info{Version: "dev", Commit: rev, Date: "2026-11-24T03:00:00Z"}},
		{"go build with uncommitted changes", Info{}, vcs(rev, "2026-11-24T03:00:00Z", "true"),
			Info{Version: "dev", Commit: rev, Date: "2026-11-24T03:00:00Z", Modified: true}},
		{"linker variables win", Info{Version: "v1.5.0", Commit: "abc", Date: "2026-12-01T00:00:00Z"}, vcs(rev, "2026-11-24T03:00:00Z", "true"),
			Info{Version: "v1.5.0", Commit: "abc", Date: "2026-12-01T00:00:00Z"}},
		// A commit from the linker names another checkout than the
		// toolchain's (the updater builds an exported tree): none of the
		// VCS settings apply, the date included.
		{"linker commit, no linker date", Info{Commit: "abc"}, vcs(rev, "2026-11-24T03:00:00Z", "false"),
			Info{Version: "dev", Commit: "abc", Date: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := get(tt.linker, tt.bi)
			tt.want.GoVersion = runtime.Version()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("get (-want +got):\n%s", diff)
			}
		})
	}
}

// releaseConfig is the part of .goreleaser.yaml this test reads.
type releaseConfig struct {
	Version int    `yaml:"version"`
	Project string `yaml:"project_name"`
	Builds  []struct {
		Main    string   `yaml:"main"`
		Env     []string `yaml:"env"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Archives []struct {
		Files []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		Name string `yaml:"name_template"`
	} `yaml:"checksum"`
	Release struct {
		Disable bool `yaml:"disable"`
	} `yaml:"release"`
}

// TestReleaseConfig parses .goreleaser.yaml and checks that its ldflags set
// exactly the variables `paymentctl version` prints (ReleaseVariables; the
// commit metadata has no goreleaser template), for the platforms the project
// promises.
func TestReleaseConfig(t *testing.T) {
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rc releaseConfig
	if err := yaml.Unmarshal(data, &rc); err != nil {
		t.Fatalf("parse .goreleaser.yaml: %v", err)
	}
	if rc.Version != 2 || rc.Project != "paymentctl" || !rc.Release.Disable || rc.Checksum.Name == "" {
		t.Errorf("header: version %d, project %q, release.disable %v, checksum %q", rc.Version, rc.Project, rc.Release.Disable, rc.Checksum.Name)
	}
	if len(rc.Builds) != 1 {
		t.Fatalf("want one build, got %d", len(rc.Builds))
	}
	b := rc.Builds[0]
	if b.Main != "./cmd/paymentctl" || !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build: main %q env %v flags %v", b.Main, b.Env, b.Flags)
	}
	for _, os := range []string{"linux", "darwin", "windows"} {
		if !slices.Contains(b.Goos, os) {
			t.Errorf("goos lacks %s", os)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			t.Errorf("goarch lacks %s", arch)
		}
	}
	set := regexp.MustCompile(`-X (\S+)=`)
	var targets []string
	for _, l := range b.Ldflags {
		for _, m := range set.FindAllStringSubmatch(l, -1) {
			targets = append(targets, m[1])
		}
	}
	slices.Sort(targets)
	want := ReleaseVariables()
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("ldflags set %v, want %v", targets, want)
	}
	if len(rc.Archives) == 0 || !slices.Contains(rc.Archives[0].Files, "LICENSE") || !slices.Contains(rc.Archives[0].Files, "README.md") ||
		!slices.Contains(rc.Archives[0].Files, `deploy/systemd/{{ if eq .Os "linux" }}paymentctl.service{{ else }}*.linux-only{{ end }}`) {
		// What each archive holds is checked by scripts/release-check.sh.
		t.Errorf("archives must include README.md, LICENSE and, for Linux only, the systemd unit")
	}
}

// TestLinkerVariables checks that every listed name is a package-level
// string variable of this package initialised to "" (what -X can set),
// that there is no such variable left unlisted, and that the release set
// is part of the full set.
func TestLinkerVariables(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "buildinfo.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, decl := range f.Decls {
		d, ok := decl.(*ast.GenDecl)
		if !ok || d.Tok != token.VAR {
			continue
		}
		for _, spec := range d.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Value != `""` {
					t.Errorf("var %s is not initialised to \"\"", n.Name)
				}
				declared = append(declared, pkgPath+n.Name)
			}
		}
	}
	all := LinkerVariables()
	if got, want := slices.Sorted(slices.Values(all)), slices.Sorted(slices.Values(declared)); !slices.Equal(got, want) {
		t.Errorf("LinkerVariables() = %v, declared vars %v", got, want)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Errorf("LinkerVariables() has duplicates: %v", all)
	}
	for _, v := range ReleaseVariables() {
		if !slices.Contains(all, v) {
			t.Errorf("release variable %s is not a linker variable", v)
		}
	}
}

func TestLDFlags(t *testing.T) {
	const p = pkgPath
	tests := []struct {
		name string
		info Info
		c    CommitInfo
		want string
	}{
		{"nothing", Info{GoVersion: "go1.26"}, CommitInfo{}, ""},
		{
			"release fields",
			Info{Version: "v1.2.3", Commit: "abc", Date: "2026-11-24T00:00:00Z"},
			CommitInfo{},
			"-X " + p + "version=v1.2.3 -X " + p + "commit=abc -X " + p + "date=2026-11-24T00:00:00Z",
		},
		{
			"spaces quoted",
			Info{},
			CommitInfo{Subject: "fix refund rounding", AuthorName: "Kim Min"},
			"-X '" + p + "subject=fix refund rounding' -X '" + p + "authorName=Kim Min'",
		},
		{
			"single quote",
			Info{},
			CommitInfo{Subject: "don't retry"},
			`-X "` + p + `subject=don't retry"`,
		},
		{
			"double quote",
			Info{},
			CommitInfo{Subject: `say "hi"`},
			`-X '` + p + `subject=say "hi"'`,
		},
		{
			"both quotes",
			Info{},
			CommitInfo{Subject: `don't say "hi"`},
			`-X '` + p + "subject=don\u2019t say \"hi\"'",
		},
		{
			"control characters",
			Info{},
			CommitInfo{Branch: "main", Subject: "a\nb\tc"},
			"-X " + p + "branch=main -X '" + p + "subject=a b c'",
		},
		{
			"all commit fields",
			Info{Commit: "abc"},
			CommitInfo{
				Branch: "main", Subject: "s", AuthorName: "n", AuthorEmail: "e@x",
				AuthoredAt: "2026-11-20T10:00:00+09:00", CommittedAt: "2026-11-21T10:00:00+09:00",
			},
			"-X " + p + "commit=abc -X " + p + "branch=main -X " + p + "subject=s -X " + p + "authorName=n -X " +
				p + "authorEmail=e@x -X " + p + "authoredAt=2026-11-20T10:00:00+09:00 -X " + p + "committedAt=2026-11-21T10:00:00+09:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LDFlags(tt.info, tt.c); got != tt.want {
				t.Errorf("LDFlags() = %s\nwant          %s", got, tt.want)
			}
		})
	}
}

func TestParseGitLog(t *testing.T) {
	const (
		hash = "0123456789abcdef0123456789abcdef01234567"
		at   = "2026-11-20T10:00:00+09:00"
		ct   = "2026-11-21T01:02:03Z"
	)
	tests := []struct {
		name     string
		out      string
		wantHash string
		want     CommitInfo
		wantErr  bool
	}{
		{
			name:     "ok",
			out:      hash + "\x00feat: refunds\x00Kim Min\x00kim@example.com\x00" + at + "\x00" + ct + "\n",
			wantHash: hash,
			want:     CommitInfo{Subject: "feat: refunds", AuthorName: "Kim Min", AuthorEmail: "kim@example.com", AuthoredAt: at, CommittedAt: ct},
		},
		{
			name:     "empty subject",
			out:      hash + "\x00\x00a\x00b\x00" + at + "\x00" + ct,
			wantHash: hash,
			want:     CommitInfo{AuthorName: "a", AuthorEmail: "b", AuthoredAt: at, CommittedAt: ct},
		},
		{name: "empty output", out: "", wantErr: true},
		{name: "plain git log", out: hash + " feat: refunds\n", wantErr: true},
		{name: "too many fields", out: hash + "\x00s\x00a\x00b\x00" + at + "\x00" + ct + "\x00extra", wantErr: true},
		{name: "empty hash", out: "\x00s\x00a\x00b\x00" + at + "\x00" + ct, wantErr: true},
		{name: "unix time", out: hash + "\x00s\x00a\x00b\x001763600000\x00" + ct, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotHash, got, err := ParseGitLog([]byte(tt.out))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseGitLog() error = %v, wantErr %v", err, tt.wantErr)
			}
			if gotHash != tt.wantHash {
				t.Errorf("hash = %q, want %q", gotHash, tt.wantHash)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CommitInfo mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseGitLogFromGit reads this repository's HEAD with the real git,
// when there is one, to check that GitLogFormat and ParseGitLog agree.
func TestParseGitLogFromGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	out, err := exec.Command(git, "-C", "..", "log", "-1", "--format="+GitLogFormat).Output()
	if err != nil {
		t.Skipf("no commit to read: %v", err)
	}
	hash, c, err := ParseGitLog(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(hash) < 40 || c.AuthoredAt == "" || c.CommittedAt == "" {
		t.Errorf("ParseGitLog(HEAD) = %q, %+v", hash, c)
	}
}

// TestStamp builds paymentctl and a probe program with LDFlags and checks
// that the binaries report exactly what was stamped, quotes included.
func TestStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	info := Info{Version: "v9.8.7-test", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-24T01:02:03Z"}
	c := CommitInfo{
		Branch:      "release/9.8",
		Subject:     `fix: don't double-charge on "retry" = 2`,
		AuthorName:  "Kim Min-su",
		AuthorEmail: "kim@example.com",
		AuthoredAt:  "2026-11-20T10:00:00+09:00",
		CommittedAt: "2026-11-21T10:00:00+09:00",
	}
	flags := LDFlags(info, c)
	dir := t.TempDir()
	build := func(name, pkg string) string {
		bin := filepath.Join(dir, name)
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		cmd := exec.Command(goTool, "build", "-ldflags="+flags, "-o", bin, pkg)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		return bin
	}

	out, err := exec.Command(build("paymentctl", "./cmd/paymentctl"), "version", "--json").Output()
	if err != nil {
		t.Fatalf("paymentctl version --json: %v", err)
	}
	var gotInfo Info
	if err := json.Unmarshal(out, &gotInfo); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	info.GoVersion = gotInfo.GoVersion
	if diff := cmp.Diff(info, gotInfo); diff != "" {
		t.Errorf("paymentctl version --json (-want +got):\n%s", diff)
	}

	out, err = exec.Command(build("stamp", "./buildinfo/testdata/stamp")).Output()
	if err != nil {
		t.Fatalf("stamp probe: %v", err)
	}
	var probe struct {
		Info   Info       `json:"info"`
		Commit CommitInfo `json:"commit"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	wantCommit := c
	wantCommit.Subject = strings.ReplaceAll(c.Subject, "'", "\u2019")
	if diff := cmp.Diff(wantCommit, probe.Commit); diff != "" {
		t.Errorf("stamped commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(info, probe.Info); diff != "" {
		t.Errorf("stamped info (-want +got):\n%s", diff)
	}
}
