package monitor

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
)

func ptr[T any](v T) *T { return &v }

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1048575, "1.0 MiB"}, // 1023.999 KiB prints as the next unit
		{44_354_764, "42.3 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5.0 TiB"},
		{3 << 50, "3072.0 TiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.in); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatUptime(t *testing.T) {
	const started = "2026-03-01T12:00:00.000Z"
	tests := []struct {
		name    string
		started string
		seconds int64
		want    string
	}{
		{"just started", started, 0, "0s"},
		{"seconds", started, 42, "42s"},
		{"minutes", started, 5*60 + 7, "5m07s"},
		{"hours", started, 3*3600 + 4*60 + 59, "3h04m"},
		{"days", started, 2*86400 + 3*3600 + 59*60, "2d03h"},
		{"start unknown", "", 0, "-"},
		{"start unreadable", "yesterday", 0, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatUptime(Row{StartedAt: tt.started, UptimeSeconds: tt.seconds})
			if got != tt.want {
				t.Errorf("formatUptime(%d s) = %q, want %q", tt.seconds, got, tt.want)
			}
		})
	}
}

func TestFormatCPUAndCommit(t *testing.T) {
	cpu := []struct {
		in   *float64
		want string
	}{
		{nil, "-"},
		{ptr(0.0), "0.0%"},
		{ptr(12.34), "12.3%"},
		{ptr(12.36), "12.4%"},
		{ptr(0.04), "0.0%"},
		{ptr(187.56), "187.6%"},
	}
	for _, tt := range cpu {
		if got := formatCPU(tt.in); got != tt.want {
			t.Errorf("formatCPU(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	commits := []struct{ hash, branch, want string }{
		{"1a2b3c4", "main", "1a2b3c4 (main)"},
		{"1a2b3c4", "", "1a2b3c4"},
		{"unknown", "", "unknown"},
		{"", "main", "-"},
	}
	for _, tt := range commits {
		if got := formatCommit(tt.hash, tt.branch); got != tt.want {
			t.Errorf("formatCommit(%q, %q) = %q, want %q", tt.hash, tt.branch, got, tt.want)
		}
	}
}

// sampleReport is a fixed report: two instances up, one failed.
func sampleReport() *Report {
	sys := &sdk.System{UID: "u-1", CreatedAt: "2026-03-01T09:00:00.000Z",
		Commit:  sdk.Commit{ShortHash: "1a2b3c4", Hash: "1a2b3c4d5e6f", Branch: "main"},
		Package: sdk.Package{Name: "github.com/paymentctl/paymentctl", Version: "v1.4.0"}}
	perf := &sdk.Performance{}
	perf.Memory.RSS = 44_354_764
	perf.Runtime = sdk.Runtime{Goroutines: 23, Requests: 120345, Errors: 2}
	return &Report{
		At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Rows: []Row{
			{
				Instance: "10.0.0.5:37821", URL: "http://10.0.0.5:37821", Status: StatusUp,
				UID: "u-1", Commit: "1a2b3c4", Branch: "main", Version: "v1.4.0",
				StartedAt: sys.CreatedAt, UptimeSeconds: 3 * 3600, CPUPercent: ptr(12.36),
				RSSBytes: perf.Memory.RSS, Goroutines: 23, Requests: 120345, Errors: 2, Restarts: 1,
				System: sys, Performance: perf,
			},
			{
				Instance: "10.0.0.6:37821", URL: "http://10.0.0.6:37821", Status: StatusUp,
				UID: "u-2", Commit: "unknown", Version: "dev",
				StartedAt: "2026-03-01T11:59:18.000Z", UptimeSeconds: 42,
				RSSBytes: 900, Goroutines: 9,
			},
			{
				Instance: "10.0.0.7:37821", URL: "http://10.0.0.7:37821", Status: StatusError,
				Error: "GET /monitors/system: connection refused",
			},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	want := `INSTANCE        COMMIT          VERSION  UPTIME  CPU%   RSS       GOROUTINES  REQUESTS  ERRORS  RESTARTS  STATUS
10.0.0.5:37821  1a2b3c4 (main)  v1.4.0   3h00m   12.4%  42.3 MiB  23          120345    2       1         up
10.0.0.6:37821  unknown         dev      42s     -      900 B     9           0         0       0         up
10.0.0.7:37821  -               -        -       -      -         -           -         -       0         error: GET /monitors/system: connection refused
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestWriteJSON(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteJSON(&out, false); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 1 {
		t.Errorf("compact JSON has %d lines, want 1:\n%s", n, out.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d objects, want 3", len(got))
	}
	// Every object has the same documented keys, failed ones included.
	wantKeys := []string{
		"branch", "commit", "cpu_percent", "error", "errors", "goroutines", "instance",
		"performance", "requests", "restarts", "rss_bytes", "started_at", "status", "system",
		"uid", "uptime_seconds", "url", "version",
	}
	for i, obj := range got {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if diff := cmp.Diff(wantKeys, keys); diff != "" {
			t.Errorf("object %d keys (-want +got):\n%s", i, diff)
		}
	}
	up, down := got[0], got[2]
	checks := []struct {
		name      string
		got, want any
	}{
		{"status", up["status"], "up"},
		{"cpu_percent", up["cpu_percent"], 12.36},
		{"rss_bytes", up["rss_bytes"], 44354764.0},
		{"uptime_seconds", up["uptime_seconds"], 10800.0},
		{"restarts", up["restarts"], 1.0},
		{"system.commit.hash", up["system"].(map[string]any)["commit"].(map[string]any)["hash"], "1a2b3c4d5e6f"},
		{"performance.runtime.requests", up["performance"].(map[string]any)["runtime"].(map[string]any)["requests"], 120345.0},
		{"unknown cpu", got[1]["cpu_percent"], nil},
		{"failed status", down["status"], "error"},
		{"failed error", down["error"], "GET /monitors/system: connection refused"},
		{"failed system", down["system"], nil},
		{"failed performance", down["performance"], nil},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	out.Reset()
	if err := (&Report{}).WriteJSON(&out, true); err != nil {
		t.Fatal(err)
	}
	if out.String() != "[]\n" {
		t.Errorf("empty report = %q, want an empty array", out.String())
	}
}

func TestReportErr(t *testing.T) {
	up := Row{Instance: "a", Status: StatusUp}
	down := func(name string) Row { return Row{Instance: name, Status: StatusError, Error: "refused"} }
	tests := []struct {
		name string
		rows []Row
		want string // "" for no error
	}{
		{"all up", []Row{up}, ""},
		{"one of two failed", []Row{down("b"), up}, ""},
		{"the only one failed", []Row{down("b")}, "b: refused"},
		{"every one failed", []Row{down("b"), down("c")}, "none of the 2 instances answered: b: refused\nc: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Report{Rows: tt.rows}).Err()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Err() = %q, want %q", got, tt.want)
			}
		})
	}
}
