package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
)

func TestResetFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    *resetOptions // nil: runF must not be called
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"local"},
			want: &resetOptions{Mode: config.ModeLocal},
		},
		{
			name: "every step flag",
			args: []string{"dev", "--no-pull", "--no-build", "--no-start", "--pid-file", "/run/p.pid"},
			env:  map[string]string{"PAYMENT_MODE": "dev"},
			want: &resetOptions{Mode: config.ModeDev, NoPull: true, NoBuild: true, NoStart: true, PIDFile: "/run/p.pid"},
		},
		{
			// Refused before the configuration is even read.
			name:    "real",
			args:    []string{"real"},
			env:     map[string]string{"PAYMENT_API_PORT": "not-a-port"},
			wantErr: "reset refuses real mode",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *resetOptions
			f := &factory{
				IO:        &iostreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
				LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok },
			}
			cmd := newResetCmd(f, func(_ context.Context, o *resetOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err = %v, ran = %v; want %q before running", err, got != nil, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Config == nil || got.Config.Mode != tt.want.Mode {
				t.Fatalf("configuration %+v", got.Config)
			}
			got.IO, got.Config = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResetHelpListsTheSteps(t *testing.T) {
	cmd := newResetCmd(&factory{IO: &iostreams{}}, nil)
	for _, step := range []string{"1. pull", "2. build", "3. stop", "4. schema", "5. seed", "6. start", `"sample-password"`, "real is always refused"} {
		if !strings.Contains(cmd.Long, step) {
			t.Errorf("reset --help does not mention %q", step)
		}
	}
}
