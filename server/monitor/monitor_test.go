package monitor

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/buildinfo"
	"github.com/paymentctl/paymentctl/sdk"
)

func TestPerformance(t *testing.T) {
	m := New(Options{})
	runtime.GC()
	p := m.Performance()

	if p.Runtime.Goroutines < 1 {
		t.Errorf("goroutines = %d, want >= 1", p.Runtime.Goroutines)
	}
	if p.Runtime.NumGC < 1 {
		t.Errorf("num_gc = %d after runtime.GC, want >= 1", p.Runtime.NumGC)
	}
	if p.Memory.HeapUsed <= 0 || p.Memory.HeapTotal < p.Memory.HeapUsed || p.Memory.External <= 0 {
		t.Errorf("heap figures: %+v", p.Memory)
	}
	if p.Memory.ArrayBuffers != 0 {
		t.Errorf("arrayBuffers = %d, want 0", p.Memory.ArrayBuffers)
	}
	if p.CPU.User != p.Resource.UserCPUTime || p.CPU.System != p.Resource.SystemCPUTime {
		t.Errorf("cpu %+v disagrees with resource user %d system %d", p.CPU, p.Resource.UserCPUTime, p.Resource.SystemCPUTime)
	}
	if p.Runtime.Requests != 0 || p.Runtime.Errors != 0 {
		t.Errorf("fresh monitor counted %d requests, %d errors", p.Runtime.Requests, p.Runtime.Errors)
	}
	if runtime.GOOS != "linux" {
		return
	}
	if p.Memory.RSS <= 0 {
		t.Errorf("rss = %d, want > 0", p.Memory.RSS)
	}
	if p.CPU.User+p.CPU.System <= 0 {
		t.Errorf("cpu = %+v, want some time spent", p.CPU)
	}
	// maxRSS is in kilobytes and RSS in bytes, read a moment apart (the
	// kernel also syncs its counters lazily): same order of size, but
	// the kilobyte figure is the smaller number.
	if p.Resource.MaxRSS <= 0 || p.Resource.MaxRSS >= p.Memory.RSS || p.Resource.MaxRSS*1024 < p.Memory.RSS/2 {
		t.Errorf("maxRSS = %d KiB, rss = %d B", p.Resource.MaxRSS, p.Memory.RSS)
	}
	if p.Resource.MinorPageFault <= 0 {
		t.Errorf("minorPageFault = %d, want > 0", p.Resource.MinorPageFault)
	}

	// CPU time only grows.
	burn := 0.0
	for i := range 2_000_000 {
		burn += math.Sqrt(float64(i))
	}
	q := m.Performance()
	if q.CPU.User+q.CPU.System <= p.CPU.User+p.CPU.System {
		t.Errorf("cpu did not grow after work (%v): %+v then %+v", burn, p.CPU, q.CPU)
	}
}

func TestMiddleware(t *testing.T) {
	routes := func(r *gin.Engine) {
		r.GET("/ok", func(c *gin.Context) { c.Status(http.StatusOK) })
		r.GET("/missing", func(c *gin.Context) { c.Status(http.StatusNotFound) })
		r.GET("/fail", func(c *gin.Context) { c.Status(http.StatusInternalServerError) })
		r.GET("/unavailable", func(c *gin.Context) { c.Status(http.StatusServiceUnavailable) })
		r.GET("/panic", func(*gin.Context) { panic("boom") })
	}
	recovery := gin.RecoveryWithWriter(io.Discard)
	tests := []struct {
		name  string
		setup func(r *gin.Engine, m *Monitor)
	}{
		{"monitor first", func(r *gin.Engine, m *Monitor) { r.Use(m.Middleware(), recovery) }},
		{"recovery first", func(r *gin.Engine, m *Monitor) { r.Use(recovery, m.Middleware()) }},
	}
	// path → how many times it is hit, concurrently.
	hits := map[string]int{"/ok": 20, "/missing": 3, "/fail": 4, "/unavailable": 2, "/panic": 5, "/no-route": 1}
	const wantRequests, wantErrors = 35, 11
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			r := gin.New()
			tt.setup(r, m)
			routes(r)
			srv := httptest.NewServer(r)
			defer srv.Close()

			var wg sync.WaitGroup
			for path, n := range hits {
				for range n {
					wg.Go(func() {
						resp, err := srv.Client().Get(srv.URL + path)
						if err != nil {
							t.Errorf("GET %s: %v", path, err)
							return
						}
						resp.Body.Close()
					})
				}
			}
			wg.Wait()
			got := m.Performance().Runtime
			if got.Requests != wantRequests || got.Errors != wantErrors {
				t.Errorf("requests %d errors %d, want %d and %d", got.Requests, got.Errors, wantRequests, wantErrors)
			}
		})
	}
}

func TestSystem(t *testing.T) {
	start := time.Date(2026, 11, 24, 13, 4, 5, 678_000_000, time.FixedZone("KST", 9*3600))
	args := []string{"paymentctl", "serve", "--mode", "local"}
	m := New(Options{Now: func() time.Time { return start }, Args: args})

	s := m.System()
	if u, err := uuid.Parse(s.UID); err != nil || u.Version() != 4 {
		t.Errorf("uid %q is not a UUIDv4 (%v)", s.UID, err)
	}
	if again := m.System(); again.UID != s.UID {
		t.Errorf("uid changed within one monitor: %q then %q", s.UID, again.UID)
	}
	if other := New(Options{}).System(); other.UID == s.UID {
		t.Errorf("two monitors share uid %q", s.UID)
	}
	if diff := cmp.Diff(args, s.Arguments); diff != "" {
		t.Errorf("arguments (-want +got):\n%s", diff)
	}
	if s.CreatedAt != "2026-11-24T04:04:05.678Z" {
		t.Errorf("created_at = %q, want 2026-11-24T04:04:05.678Z", s.CreatedAt)
	}

	info := buildinfo.Get()
	if s.Commit.Hash != info.Commit {
		t.Errorf("commit hash = %q, want %q", s.Commit.Hash, info.Commit)
	}
	p := s.Package
	if p.Name != "github.com/paymentctl/paymentctl" || p.Version != info.Version || p.GoVersion != runtime.Version() {
		t.Errorf("package = %q %q %q", p.Name, p.Version, p.GoVersion)
	}
	if p.Dependencies == nil {
		t.Error("dependencies is nil, want a map (JSON {})")
	}

	// The answer is a copy: changing it leaves the monitor alone.
	s.Arguments[0] = "changed"
	s.Package.Dependencies["example.com/added"] = "v1"
	args[1] = "changed"
	again := m.System()
	if again.Arguments[0] != "paymentctl" || again.Arguments[1] != "serve" || len(again.Package.Dependencies) != len(p.Dependencies)-1 {
		t.Errorf("system shares memory with its callers: %v, %d dependencies", again.Arguments, len(again.Package.Dependencies))
	}

	if got := New(Options{}).System().Arguments; !slices.Equal(got, os.Args) {
		t.Errorf("default arguments = %v, want os.Args %v", got, os.Args)
	}
}

func TestPackageOf(t *testing.T) {
	bi := &debug.BuildInfo{
		Path: "github.com/paymentctl/paymentctl/cmd/paymentctl",
		Main: debug.Module{Path: "github.com/paymentctl/paymentctl", Version: "v1.2.3"},
		Deps: []*debug.Module{
			{Path: "github.com/gin-gonic/gin", Version: "v1.12.0"},
			{Path: "gorm.io/gorm", Version: "v1.31.2", Replace: &debug.Module{Path: "example.com/gorm", Version: "v1.31.3"}},
			{Path: "github.com/local/fork", Version: "v0.1.0", Replace: &debug.Module{Path: "../fork"}},
		},
	}
	noMain := &debug.BuildInfo{Path: "command-line-arguments"}
	// pkg fills the fields every package object has.
	pkg := func(p sdk.Package) sdk.Package {
		p.Version, p.GoVersion, p.License = "v9", runtime.Version(), "MIT"
		p.Description = "paymentctl: integrated payment server for micro-service backends"
		p.Scripts, p.DevDependencies = map[string]string{}, map[string]string{}
		if p.Dependencies == nil {
			p.Dependencies = map[string]string{}
		}
		return p
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want sdk.Package
	}{
		{
			name: "binary",
			bi:   bi,
			want: pkg(sdk.Package{
				Name:       "github.com/paymentctl/paymentctl",
				Repository: sdk.Repository{Type: "git", URL: "https://github.com/paymentctl/paymentctl"},
				Homepage:   "https://github.com/paymentctl/paymentctl",
				Bugs:       sdk.URL{URL: "https://github.com/paymentctl/paymentctl/issues"},
				Dependencies: map[string]string{
					"github.com/gin-gonic/gin": "v1.12.0",
					"gorm.io/gorm":             "=> example.com/gorm v1.31.3",
					"github.com/local/fork":    "=> ../fork",
				},
			}),
		},
		{
			name: "no main module",
			bi:   noMain,
			want: pkg(sdk.Package{Name: "command-line-arguments"}),
		},
		{
			name: "no build information",
			want: pkg(sdk.Package{}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, packageOf(tt.bi, "v9")); diff != "" {
				t.Errorf("packageOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"feat: refunds":            "feat-refunds",
		"Fix  #12 (cancel) again!": "Fix-12-cancel-again",
		"v1.2_rc":                  "v1.2_rc",
		"결제 fix":                   "fix",
		"":                         "",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommitOf(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	const hash = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		info buildinfo.Info
		c    buildinfo.CommitInfo
		loc  *time.Location
		want sdk.Commit
	}{
		{
			name: "stamped",
			info: buildinfo.Info{Commit: hash},
			c: buildinfo.CommitInfo{
				Branch: "main", Subject: "feat: refunds", AuthorName: "Kim", AuthorEmail: "kim@example.com",
				AuthoredAt: "2026-11-20T01:02:03Z", CommittedAt: "2026-11-21T10:00:00+09:00",
			},
			loc: kst,
			want: sdk.Commit{
				ShortHash: "0123456", Hash: hash, Branch: "main", Subject: "feat: refunds", SanitizedSubject: "feat-refunds",
				Author:     sdk.Signature{Name: "Kim", Email: "kim@example.com"},
				Committer:  sdk.Signature{Name: "Kim", Email: "kim@example.com"},
				AuthoredAt: "2026-11-20 10:02:03", CommitedAt: "2026-11-21 10:00:00",
			},
		},
		{
			name: "other zone",
			info: buildinfo.Info{Commit: hash},
			c:    buildinfo.CommitInfo{CommittedAt: "2026-11-21T10:00:00+09:00"},
			loc:  time.UTC,
			want: sdk.Commit{ShortHash: "0123456", Hash: hash, CommitedAt: "2026-11-21 01:00:00"},
		},
		{
			name: "unstamped",
			info: buildinfo.Info{Commit: "unknown"},
			loc:  kst,
			want: sdk.Commit{ShortHash: "unknown", Hash: "unknown"},
		},
		{
			name: "unparsable time kept",
			info: buildinfo.Info{Commit: "abc"},
			c:    buildinfo.CommitInfo{AuthoredAt: "yesterday"},
			loc:  kst,
			want: sdk.Commit{ShortHash: "abc", Hash: "abc", AuthoredAt: "yesterday"},
		},
		{
			name: "not hexadecimal",
			info: buildinfo.Info{Commit: "release-candidate"},
			loc:  kst,
			want: sdk.Commit{ShortHash: "release-candidate", Hash: "release-candidate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Tags = []string{} // the original's object requires the array
			if diff := cmp.Diff(tt.want, commitOf(tt.info, tt.c, tt.loc)); diff != "" {
				t.Errorf("commitOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCPUPercent(t *testing.T) {
	sample := func(user, system int64) sdk.Performance {
		var p sdk.Performance
		p.CPU.User, p.CPU.System = user, system
		return p
	}
	tests := []struct {
		name      string
		prev, cur sdk.Performance
		elapsed   time.Duration
		want      float64
	}{
		{"idle", sample(100, 50), sample(100, 50), time.Second, 0},
		{"half a core", sample(0, 0), sample(400_000, 100_000), time.Second, 50},
		{"one core", sample(1_000, 0), sample(201_000, 0), 200 * time.Millisecond, 100},
		{"two cores", sample(0, 0), sample(3_000_000, 1_000_000), 2 * time.Second, 200},
		{"system only", sample(5, 0), sample(5, 250_000), time.Second, 25},
		{"zero elapsed", sample(0, 0), sample(10, 10), 0, 0},
		{"negative elapsed", sample(0, 0), sample(10, 10), -time.Second, 0},
		{"restarted process", sample(9_000_000, 1_000_000), sample(10_000, 5_000), time.Second, 0},
		{"user went backwards", sample(500, 0), sample(100, 900_000), time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CPUPercent(tt.prev, tt.cur, tt.elapsed); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("CPUPercent() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestJSONKeys checks that both answers marshal to the original's field
// names (payments-backend.md §4.8) plus the Go additions.
func TestJSONKeys(t *testing.T) {
	m := New(Options{})
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{
			name: "performance",
			v:    m.Performance(),
			want: []string{
				"cpu", "cpu.system", "cpu.user",
				"memory", "memory.arrayBuffers", "memory.external", "memory.heapTotal", "memory.heapUsed", "memory.rss",
				"resource", "resource.fsRead", "resource.fsWrite", "resource.involuntaryContextSwitches",
				"resource.ipcReceived", "resource.ipcSent", "resource.majorPageFault", "resource.maxRSS",
				"resource.minorPageFault", "resource.sharedMemorySize", "resource.signalsCount",
				"resource.swappedOut", "resource.systemCPUTime", "resource.unsharedDataSize",
				"resource.unsharedStackSize", "resource.userCPUTime", "resource.voluntaryContextSwitches",
				"runtime", "runtime.errors", "runtime.gc_pause_total_ns", "runtime.goroutines",
				"runtime.num_gc", "runtime.requests",
			},
		},
		{
			name: "system",
			v:    m.System(),
			want: []string{
				"arguments",
				"commit", "commit.author", "commit.author.email", "commit.author.name", "commit.authored_at",
				"commit.body", "commit.branch", "commit.commited_at", "commit.committer", "commit.committer.email",
				"commit.committer.name", "commit.hash", "commit.sanitizedSubject", "commit.shortHash", "commit.subject",
				"commit.tags",
				"created_at",
				"package", "package.author", "package.bugs", "package.bugs.url", "package.dependencies",
				"package.description", "package.devDependencies", "package.go_version", "package.homepage",
				"package.license", "package.name", "package.repository", "package.repository.type",
				"package.repository.url", "package.scripts", "package.version",
				"uid",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			got := keyPaths("", doc)
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JSON keys (-want +got):\n%s", diff)
			}
		})
	}
}

// keyPaths lists the dotted paths of the object keys in v, not descending
// into package.dependencies (its keys are module paths).
func keyPaths(prefix string, v any) []string {
	obj, ok := v.(map[string]any)
	if !ok || prefix == "package.dependencies" {
		return nil
	}
	var out []string
	for k, child := range obj {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, p)
		out = append(out, keyPaths(p, child)...)
	}
	return out
}
