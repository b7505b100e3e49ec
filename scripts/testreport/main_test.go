package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		stream   string
		wantErr  bool
		want     []string // substrings of the summary
		dontWant []string
	}{
		{
			name: "all pass",
			stream: `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"noisy log line\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestB/postgres"}
{"Action":"skip","Package":"p","Test":"TestC/postgres"}
{"Action":"pass","Package":"p","Elapsed":1.5}
`,
			want:     []string{"ok   p 1.5s", "tests: 2 passed, 0 failed, 1 skipped", "PostgreSQL-backed tests: 1 passed, 1 skipped"},
			dontWant: []string{"noisy log line", "failed:"},
		},
		{
			name: "a subtest fails",
			stream: `{"Action":"output","Package":"p","Test":"TestA","Output":"passing noise\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB/sqlite","Output":"    b_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"p","Test":"TestB/sqlite"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- FAIL: TestB\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"fail","Package":"p","Elapsed":2}
`,
			wantErr:  true,
			want:     []string{"FAIL p 2.0s", "tests: 1 passed, 1 failed", "  p TestB/sqlite\n", "b_test.go:9: got 1, want 2"},
			dontWant: []string{"passing noise", "  p TestB\n", "output of p \n"},
		},
		{
			name: "a failure in one of several runs (-count)",
			stream: `{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:5: flaked\n"}
{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"fine this time\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"fail","Package":"p","Elapsed":1}
`,
			wantErr:  true,
			want:     []string{"tests: 1 passed, 1 failed", "a_test.go:5: flaked"},
			dontWant: []string{"fine this time"},
		},
		{
			name:    "build failure",
			stream:  "# p\nb.go:3:1: syntax error\n" + `{"Action":"fail","Package":"p"}` + "\n",
			wantErr: true,
			want:    []string{"b.go:3:1: syntax error", "failed:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "test.log")
			var out bytes.Buffer
			err := run(strings.NewReader(tt.stream), &out, []string{"-log", logPath})
			if got := errors.Is(err, errFailed); got != tt.wantErr {
				t.Errorf("err = %v, want failure %v", err, tt.wantErr)
			}
			for _, s := range tt.want {
				if !strings.Contains(out.String(), s) {
					t.Errorf("summary lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.dontWant {
				if strings.Contains(out.String(), s) {
					t.Errorf("summary has %q:\n%s", s, out.String())
				}
			}
			if log, _ := os.ReadFile(logPath); tt.name == "all pass" && !strings.Contains(string(log), "noisy log line") {
				t.Errorf("log lacks the tests' output:\n%s", log)
			}
		})
	}
}
