package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergeSpans(t *testing.T) {
	s := merge([]span{{50, 60}, {10, 20}, {15, 30}, {30, 35}, {70, 70}})
	if diff := cmp.Diff(spans{{10, 35}, {50, 60}, {70, 70}}, s, cmp.AllowUnexported(span{})); diff != "" {
		t.Fatalf("merge (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		at   int64
		want bool
	}{{9, false}, {10, true}, {35, true}, {36, false}, {55, true}, {61, false}, {70, true}, {71, false}} {
		t.Run(fmt.Sprint(tc.at), func(t *testing.T) {
			if got := s.contains(tc.at); got != tc.want {
				t.Errorf("contains(%d) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
	if got, want := s.length(0, 100), time.Duration(35); got != want {
		t.Errorf("length(0, 100) = %d, want %d", got, want)
	}
	if got, want := s.length(20, 55), time.Duration(20); got != want {
		t.Errorf("length(20, 55) = %d, want %d", got, want)
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		name   string
		values []int64
		p      float64
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one", []int64{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50},
		{"p99 of 100", hundred, 99, 99},
		{"p100 of 100", hundred, 100, 100},
		{"p50 of 3", []int64{1, 2, 3}, 50, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.values, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %d, want %d", tc.p, got, tc.want)
			}
		})
	}
}

func TestLatencyStats(t *testing.T) {
	var samples []sample
	for i := range 10 {
		samples = append(samples, sample{at: int64(i), lat: int64(i+1) * int64(time.Millisecond), kind: kindRead})
	}
	samples[9].class = classReset
	samples = append(samples, sample{at: 3, lat: int64(time.Hour), kind: kindProbe})
	got := latencyStats(samples, func(s sample) bool { return s.kind == kindRead })
	want := stats{n: 10, failed: 1, p50: 5 * time.Millisecond, p90: 9 * time.Millisecond, p99: 10 * time.Millisecond, max: 10 * time.Millisecond}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(stats{})); diff != "" {
		t.Errorf("latencyStats (-want +got):\n%s", diff)
	}
}

func TestReadPhases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []window
		wantErr string
	}{
		{
			name: "closed and open windows",
			in:   "100 begin u1\n200 end u1 ok\n\n300 begin u2\n400 end u2 failed (exit 1)\n500 begin u3\n",
			want: []window{
				{label: "u1", outcome: "ok", begin: 100, end: 200},
				{label: "u2", outcome: "failed (exit 1)", begin: 300, end: 400},
				{label: "u3", begin: 500, end: 999},
			},
		},
		{name: "end without begin", in: "100 end u1 ok\n", wantErr: "did not begin"},
		{name: "bad time", in: "x begin u1\n", wantErr: "invalid syntax"},
		{name: "bad verb", in: "100 start u1\n", wantErr: "neither begin nor end"},
		{name: "short line", in: "100 begin\n", wantErr: "want <unix-ns>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPhases(strings.NewReader(tc.in), 999)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(window{})); diff != "" {
				t.Errorf("readPhases (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want class
	}{
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, classRefused},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, classReset},
		{"closed idle", errors.New(`Patch "http://x": http: server closed idle connection`), classClosedIdle},
		{"eof", fmt.Errorf("patch: %w", io.EOF), classEOF},
		{"unexpected eof", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), classEOF},
		{"timeout", &net.OpError{Op: "read", Err: timeoutError{}}, classTimeout},
		{"other", errors.New("something else"), classTransport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestSummarize(t *testing.T) {
	r := &result{
		start: 0, end: int64(10 * time.Second),
		targets: []string{"a", "b"},
		windows: []window{{label: "u1", begin: int64(2 * time.Second), end: int64(4 * time.Second)}},
		samples: []sample{
			{at: int64(time.Second), kind: kindRead},
			{at: int64(3 * time.Second), kind: kindRead, class: classEOF},
			{at: int64(3 * time.Second), kind: kindRegister},
			{at: int64(5 * time.Second), kind: kindProbe, class: classRefused},
		},
		probers: []*prober{
			{gens: []generation{{uid: "1", hash: "aaa"}, {uid: "2", hash: "bbb"}}},
			{gens: []generation{{uid: "3", hash: "aaa"}}},
		},
	}
	got := r.summarize()
	want := summary{
		Requests: 3, Failed: 1, ByClass: map[string]int{"eof": 1}, ProbeFailed: 1,
		Seconds: 10, Rate: 0.3, DuringRate: 1, Handoffs: []int{1, 0}, FinalCommits: []string{"bbb", "aaa"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
	var b strings.Builder
	r.render(&b)
	for _, s := range []string{"| **all API** | both | 3 | 2 | 0 | 0 | 1 |", "| u1 | 2.0 s | - | 2 | 1 |", "| a | 2 | aaa (0.0 s) → bbb (0.0 s) |"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}
