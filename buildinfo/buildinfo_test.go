package buildinfo

import (
	"os"
	"regexp"
	"runtime"
	"slices"
	"testing"

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
// exactly the variables `paymentctl version` prints, for the platforms the
// project promises.
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
	want := LinkerVariables()
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("ldflags set %v, want %v", targets, want)
	}
	if len(rc.Archives) == 0 || !slices.Contains(rc.Archives[0].Files, "LICENSE") || !slices.Contains(rc.Archives[0].Files, "README.md") {
		t.Errorf("archives must include README.md and LICENSE")
	}
}
